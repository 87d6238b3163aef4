"use client";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { ProgressBar } from "@/components/ui/progress";
import type { LiveDeploys } from "@/lib/deploy-events";
import type { Rollout } from "./rollout";

const TONE = { applied: "green", failed: "red", applying: "amber", held: "amber", waiting: "gray" } as const;

/** The latest revision's progress across the fleet: a bar (nodes that run it / all nodes) and each node's state, live. */
export function RolloutCard({ rollout, live, compact = false }: { rollout: Rollout; live: LiveDeploys; compact?: boolean }) {
  const done = rollout.applied === rollout.total;
  const headline = done
    ? `Revision ${rollout.revision} runs on all ${rollout.total} node${rollout.total === 1 ? "" : "s"}`
    : rollout.applying > 0
      ? `Deploying revision ${rollout.revision}: ${rollout.applied} of ${rollout.total} nodes applied`
      : `Revision ${rollout.revision}: ${rollout.applied} of ${rollout.total} nodes applied${rollout.failed > 0 ? `, ${rollout.failed} failed` : ""}${rollout.held > 0 ? `, ${rollout.held} held behind the canary` : ""}`;
  return (
    <Card
      title={headline}
      className={rollout.failed > 0 ? "border-red-300 dark:border-red-900" : undefined}
      actions={
        <span className="text-xs text-zinc-500" role="status">
          {live.connection === "live" ? (
            <>
              <span aria-hidden className="text-green-600">●</span> live
            </>
          ) : live.connection === "error" ? (
            `live updates failed: ${live.error ?? ""}`
          ) : (
            "connecting to live updates…"
          )}
        </span>
      }
    >
      <ProgressBar label={`Nodes that applied revision ${rollout.revision}`} value={rollout.applied} max={rollout.total} failed={rollout.failed} />
      {!compact || !done ? (
        <ul className="mt-3 flex flex-wrap gap-x-4 gap-y-1 text-sm" aria-label={`Revision ${rollout.revision} per node`}>
          {rollout.perNode.map((p) => (
            <li key={p.node} className="flex items-center gap-1.5">
              <span className="font-medium">{p.node}</span>
              <Badge tone={TONE[p.status]}>{p.status === "applying" && p.attempt !== null && p.attempt > 1 ? `applying, attempt ${p.attempt}` : p.status}</Badge>
            </li>
          ))}
        </ul>
      ) : null}
    </Card>
  );
}
