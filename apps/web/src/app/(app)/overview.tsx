"use client";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { Badge, StateBadge } from "@/components/ui/badge";
import { Card, ErrorNote, PageHeader } from "@/components/ui/card";
import { ago, exact } from "@/lib/format";
import { useDeploymentEvents } from "@/lib/deploy-events";
import { useTRPC } from "@/lib/trpc";
import { RolloutCard } from "./deploys/rollout-card";
import { latestRevision, rolloutOf } from "./deploys/rollout";
import { nodeHealth } from "./nodes/health";

/** What is broken, where, since when: failing nodes and deploys first, then the fleet and the farms. */
export function Overview() {
  const trpc = useTRPC();
  const nodes = useQuery(trpc.nodes.list.queryOptions(undefined, { refetchInterval: 5_000 }));
  const deploys = useQuery(trpc.deployments.list.queryOptions({ limit: 10 }, { refetchInterval: 5_000 }));
  // Counts only: the whole config is megabytes at 10,000 farms.
  const farms = useQuery(trpc.farms.page.queryOptions({ limit: 1 }, { refetchInterval: 10_000 }));
  const degraded = useQuery(trpc.farms.page.queryOptions({ limit: 1, degraded: true }, { refetchInterval: 10_000 }));
  const status = useQuery(trpc.nodes.status.queryOptions(undefined, { refetchInterval: 15_000 }));
  const live = useDeploymentEvents();

  const liveOf = new Map((status.data?.nodes ?? []).map((n) => [n.name, n]));
  const health = new Map((nodes.data ?? []).map((n) => [n.name, nodeHealth(n, liveOf.get(n.name))]));
  const failingNodes = (nodes.data ?? []).filter((n) => health.get(n.name)?.tone !== "green");
  // A failed deploy matters while its node still runs an older revision; a later retry or reconcile ends it.
  const appliedOf = new Map((nodes.data ?? []).map((n) => [n.name, n.appliedRevision ?? 0]));
  const failedDeploys = (deploys.data ?? []).filter(
    (d, i, all) => d.status === "failed" && (appliedOf.get(d.node.name) ?? 0) < d.revisionNumber && all.findIndex((e) => e.node.name === d.node.name) === i,
  );
  const latest = latestRevision(nodes.data, deploys.data, live);
  const rollout = nodes.data !== undefined && deploys.data !== undefined ? rolloutOf(latest, nodes.data, deploys.data, live) : null;
  const farmStates = Object.entries(farms.data?.states ?? {}).filter(([, count]) => count > 0);

  return (
    <>
      <PageHeader title="Overview" description={farms.data !== undefined ? `Desired configuration at revision ${farms.data.revision}` : undefined} />
      {failingNodes.length > 0 || failedDeploys.length > 0 ? (
        <Card title="Needs attention" className="mb-4 border-red-300 dark:border-red-900">
          <ul className="space-y-1.5 text-sm" aria-label="Problems">
            {failingNodes.map((n) => (
              <li key={`n${n.id}`}>
                <Link className="font-medium underline" href="/nodes">{n.name}</Link> <Badge tone={health.get(n.name)?.tone ?? "gray"}>{health.get(n.name)?.word}</Badge>
                <span className="text-zinc-500" title={exact(n.lastSeenAt)}> · last seen {ago(n.lastSeenAt)}</span>
                <ul className="mt-0.5 list-disc pl-5 break-words text-red-700 dark:text-red-400">
                  {health.get(n.name)?.reasons.map((r) => <li key={r}>{r}</li>)}
                </ul>
              </li>
            ))}
            {failedDeploys.map((d) => (
              <li key={`d${d.id}`}>
                Deploy of revision {d.revisionNumber} to <span className="font-medium">{d.node.name}</span> failed{" "}
                <span className="text-zinc-500" title={exact(d.finishedAt)}>{ago(d.finishedAt)}</span>: <span className="font-mono text-xs text-red-700 dark:text-red-400">{d.error}</span>
              </li>
            ))}
          </ul>
        </Card>
      ) : null}
      {rollout !== null && rollout.total > 0 ? (
        <div className="mb-4">
          <RolloutCard rollout={rollout} live={live} compact />
        </div>
      ) : null}
      <div className="grid gap-4 lg:grid-cols-2">
        <Card title="Farms" actions={<Link href="/farms" className="text-sm underline">All farms</Link>}>
          {farms.isError ? <ErrorNote error={farms.error} /> : (
            <div className="flex flex-wrap gap-4 text-sm">
              <span><span className="text-2xl font-semibold">{farms.data?.all ?? "…"}</span> farm{farms.data?.all === 1 ? "" : "s"}</span>
              {farmStates.map(([state, count]) => (
                <span key={state} className="flex items-center gap-1.5"><StateBadge state={state} /> {count}</span>
              ))}
              {degraded.data !== undefined && degraded.data.total > 0 ? (
                <Link href="/farms?degraded=1" className="text-amber-800 underline dark:text-amber-300">{degraded.data.total} with a backend not up</Link>
              ) : null}
            </div>
          )}
        </Card>
        <Card title="Nodes" actions={<Link href="/nodes" className="text-sm underline">All nodes</Link>}>
          {nodes.isError ? <ErrorNote error={nodes.error} /> : nodes.data?.length === 0 ? <p className="text-sm text-zinc-500">No nodes yet.</p> : (
            <ul className="space-y-1 text-sm">
              {nodes.data?.map((n) => (
                <li key={n.id} className="flex items-center gap-2">
                  <span className="font-medium">{n.name}</span>
                  <Badge tone={health.get(n.name)?.tone ?? "gray"}>{health.get(n.name)?.word}</Badge>
                  <span className="text-zinc-500">revision {n.appliedRevision ?? "none"} · seen {ago(n.lastSeenAt)}</span>
                </li>
              ))}
            </ul>
          )}
        </Card>
        <Card title="Latest deploys" className="lg:col-span-2" actions={<Link href="/deploys" className="text-sm underline">All deploys</Link>}>
          {deploys.isError ? <ErrorNote error={deploys.error} /> : deploys.data?.length === 0 ? <p className="text-sm text-zinc-500">Nothing deployed yet.</p> : (
            <table className="w-full text-left text-sm">
              <thead className="text-xs text-zinc-500"><tr><th className="py-1 font-medium">Revision</th><th className="font-medium">Node</th><th className="font-medium">Status</th><th className="font-medium">Finished</th></tr></thead>
              <tbody>
                {deploys.data?.map((d) => (
                  <tr key={d.id} className="border-t border-zinc-100 dark:border-zinc-800">
                    <td className="py-1">{d.revisionNumber}</td>
                    <td>{d.node.name}</td>
                    <td><Badge tone={d.status === "applied" ? "green" : d.status === "failed" ? "red" : "amber"}>{d.status}</Badge></td>
                    <td title={exact(d.finishedAt)}>{ago(d.finishedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
      </div>
    </>
  );
}
