"use client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ErrorNote } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { LabelsDialog } from "./labels-dialog";
import { errorMessage } from "@/lib/errors";
import { ago, exact } from "@/lib/format";
import { useTRPC, type Outputs } from "@/lib/trpc";
import { useCan } from "@/lib/viewer";
import { nodeHealth, type LiveAnswer, type NodeRow } from "./health";
import { NodeFacts } from "./node-facts";

type DriftReport = Outputs["nodes"]["checkDrift"];

function uptime(seconds: number | null): string {
  if (seconds === null) return "unknown";
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7_200) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3_600)} h`;
  return `${Math.floor(seconds / 86_400)} days`;
}

/** "nftables v1.0.6 (Lester Gooch #5)" → "nft 1.0.6". */
const nftVersion = (text: string) => {
  const found = /v?(\d+\.\d+(?:\.\d+)?)/.exec(text);
  return found ? `nft ${found[1]}` : text;
};

function Item({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div>
      <dt className="text-xs text-zinc-500">{term}</dt>
      <dd className="text-sm">{children}</dd>
    </div>
  );
}

/** One node: its health and why, what it runs, drift, its agent, its facts, and what an operator can do about it. */
export function NodeCard({ node, live, asked }: { node: NodeRow; live: LiveAnswer | undefined; asked: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const operator = useCan("operator");
  const admin = useCan("admin");
  const [editingLabels, setEditingLabels] = useState(false);
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | null>(null);
  const [confirm, setConfirm] = useState<"repair" | "remove" | null>(null);
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: trpc.nodes.list.pathKey() });
    void queryClient.invalidateQueries({ queryKey: trpc.nodes.status.pathKey() });
  };
  const failed = (error: unknown) => setNotice({ ok: false, text: errorMessage(error) });

  const facts = useMutation(trpc.nodes.refreshFacts.mutationOptions({ onSuccess: (f) => setNotice({ ok: true, text: `Facts read: ${f.interfaces.length} interfaces.` }), onError: failed, onSettled: refresh }));
  const check = useMutation(
    trpc.nodes.checkDrift.mutationOptions({
      onSuccess: (r) => setNotice(r.drifted === true ? { ok: false, text: "Drift found: the kernel differs from what was deployed (see above)." } : { ok: true, text: r.drifted === false ? "No drift: the kernel matches what was deployed." : "Nothing to compare yet: the agent has applied nothing." }),
      onError: failed,
      onSettled: refresh,
    }),
  );
  const repair = useMutation(
    trpc.nodes.repair.mutationOptions({
      onSuccess: (r) => {
        setConfirm(null);
        setNotice(r.drifted === false ? { ok: true, text: "Repaired: the agent put its last deployed rules back, and a new check finds no drift." } : { ok: false, text: `Repaired, but a new check still finds: ${r.differences.join("; ") || "nothing to compare"}` });
      },
      onSettled: refresh,
    }),
  );
  const retry = useMutation(
    trpc.deployments.retry.mutationOptions({
      onSuccess: (o) => setNotice(o.status === "failed" ? { ok: false, text: `Deploy of revision ${o.revision} failed after ${o.attempts} attempts: ${o.error ?? ""}` } : { ok: true, text: `Revision ${o.revision} ${o.status === "applied" ? "applied" : "was already there"}.` }),
      onError: failed,
      onSettled: () => {
        refresh();
        void queryClient.invalidateQueries({ queryKey: trpc.deployments.list.pathKey() });
      },
    }),
  );
  const remove = useMutation(trpc.nodes.remove.mutationOptions({ onSuccess: () => setConfirm(null), onSettled: refresh }));

  const health = nodeHealth(node, live);
  const status = live?.ok === true ? live.value : null;
  // The newest drift report: from the last status poll, or from a check or repair made here since.
  const drift = [status?.drift ?? null, check.data ?? null, repair.data ?? null].reduce<DriftReport | null>(
    (newest, r) => (r !== null && (newest === null || (r.checkedAt ?? "") > (newest.checkedAt ?? "")) ? r : newest),
    null,
  );
  const applied = status?.appliedRevision ?? node.appliedRevision;
  const labels = Object.entries(node.labels);
  const headingId = `node-${node.id}`;

  return (
    <section aria-labelledby={headingId} className="rounded-lg border border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900">
      <header className="flex flex-wrap items-center gap-x-3 gap-y-1 border-b border-zinc-200 px-4 py-2.5 dark:border-zinc-800">
        <h2 id={headingId} className="text-base font-semibold">{node.name}</h2>
        <Badge tone={health.tone}>{health.word}</Badge>
        <span className="font-mono text-xs text-zinc-500">{node.url}</span>
        {labels.length > 0 ? (
          <ul className="flex flex-wrap gap-1" aria-label={`Labels of ${node.name}`}>
            {labels.map(([k, v]) => (
              <li key={k}><Badge tone="blue">{k}={v}</Badge></li>
            ))}
          </ul>
        ) : null}
      </header>
      <div className="space-y-3 p-4">
        {health.reasons.length > 0 ? (
          <ul className={health.tone === "red" ? "space-y-0.5 text-sm text-red-700 dark:text-red-400" : "space-y-0.5 text-sm text-amber-800 dark:text-amber-300"} aria-label={`Problems of ${node.name}`}>
            {health.reasons.map((r) => (
              <li key={r} className="break-words">{r}</li>
            ))}
          </ul>
        ) : null}
        <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
          <Item term="Revision">
            {applied ?? "none"} <span className="text-zinc-500">of {node.desiredRevision ?? "none"} desired</span>
          </Item>
          <Item term="Last seen">
            <span title={exact(node.lastSeenAt)}>{status !== null ? "just now" : ago(node.lastSeenAt)}</span>
          </Item>
          <Item term="Drift">
            {drift === null ? (
              <span className="text-zinc-500">{asked && live?.ok !== true ? "unknown (agent not reached)" : node.drift ? "drifted (at the last check)" : "not checked yet"}</span>
            ) : drift.drifted === true ? (
              <span className="text-red-700 dark:text-red-400" title={exact(drift.since)}>drifted since {ago(drift.since)}</span>
            ) : drift.drifted === false ? (
              <span title={exact(drift.checkedAt)}>none (checked {ago(drift.checkedAt)})</span>
            ) : (
              <span className="text-zinc-500">not checked since the last apply</span>
            )}
          </Item>
          <Item term="Agent">
            {status !== null ? <span title={status.nftVersion}>{nftVersion(status.nftVersion)}, up {uptime(status.uptimeSeconds)}</span> : <span className="text-zinc-500">{asked ? "not answering" : "asking…"}</span>}
          </Item>
        </dl>
        {drift?.drifted === true && drift.differences.length > 0 ? (
          <div>
            <p className="text-xs font-medium text-zinc-500">What differs in the kernel</p>
            <ul className="mt-1 list-disc space-y-0.5 pl-5 font-mono text-xs text-red-700 dark:text-red-400">
              {drift.differences.map((d) => (
                <li key={d}>{d}</li>
              ))}
            </ul>
          </div>
        ) : null}
        <NodeFacts node={node} canRefresh={operator} />
        {operator ? (
          <div className="flex flex-wrap gap-2 border-t border-zinc-100 pt-3 dark:border-zinc-800">
            {(drift?.drifted === true || node.drift) ? (
              <Button size="sm" variant="danger" onClick={() => setConfirm("repair")}>Repair {node.name}</Button>
            ) : null}
            {node.desiredRevision !== null && ((!node.upToDate && applied !== node.desiredRevision) || node.lastError !== null) ? (
              <Button size="sm" onClick={() => retry.mutate({ node: node.name })} disabled={retry.isPending}>
                {retry.isPending ? "Deploying…" : `Deploy revision ${node.desiredRevision} to ${node.name}`}
              </Button>
            ) : null}
            <Button size="sm" variant="secondary" onClick={() => check.mutate({ name: node.name })} disabled={check.isPending}>
              {check.isPending ? "Checking…" : "Check drift"}
            </Button>
            <Button size="sm" variant="secondary" onClick={() => facts.mutate({ name: node.name })} disabled={facts.isPending}>
              {facts.isPending ? "Reading…" : "Refresh facts"}
            </Button>
            {admin ? (
              <Button size="sm" variant="secondary" onClick={() => setEditingLabels(true)}>
                Edit labels
              </Button>
            ) : null}
            {admin ? (
              <Button size="sm" variant="ghost" className="ml-auto text-red-700 dark:text-red-400" onClick={() => setConfirm("remove")}>
                Remove {node.name}
              </Button>
            ) : null}
          </div>
        ) : null}
        <div aria-live="polite">
          {notice !== null ? (
            notice.ok ? <p className="text-sm text-green-800 dark:text-green-300">{notice.text}</p> : <ErrorNote error={notice.text} />
          ) : null}
        </div>
      </div>
      {editingLabels ? <LabelsDialog node={node.name} labels={node.labels} open onOpenChange={setEditingLabels} /> : null}
      <ConfirmDialog
        open={confirm === "repair"}
        onOpenChange={(open) => {
          if (!open) repair.reset();
          setConfirm(open ? "repair" : null);
        }}
        title={`Repair ${node.name}?`}
        confirmLabel={`Repair ${node.name}`}
        onConfirm={() => repair.mutate({ name: node.name })}
        pending={repair.isPending}
        error={repair.error}
      >
        The agent replaces its own tables with the rules it last applied (revision {applied ?? "none"}), in one transaction: whatever was changed in them by hand is undone. Other tables on the host are not touched; established connections keep going.
      </ConfirmDialog>
      <ConfirmDialog
        open={confirm === "remove"}
        onOpenChange={(open) => {
          if (!open) remove.reset();
          setConfirm(open ? "remove" : null);
        }}
        title={`Remove ${node.name}?`}
        confirmLabel={`Remove ${node.name}`}
        onConfirm={() => remove.mutate({ name: node.name })}
        pending={remove.isPending}
        error={remove.error}
      >
        The control plane stops deploying to {node.name} and forgets its deploy history and its token. The agent keeps running with the rules it has until it is stopped; to enroll it again, add the node anew and restart the agent with the new token.
      </ConfirmDialog>
    </section>
  );
}
