"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, ErrorNote, PageHeader } from "@/components/ui/card";
import { Table, THead, Th, Tr } from "@/components/ui/table";
import { useDeploymentEvents } from "@/lib/deploy-events";
import { errorMessage } from "@/lib/errors";
import { ago, exact } from "@/lib/format";
import { useTRPC, type Outputs } from "@/lib/trpc";
import { useCan } from "@/lib/viewer";
import { RolloutCard } from "./rollout-card";
import { latestRevision, rolloutOf } from "./rollout";

type Deployment = Outputs["deployments"]["list"][number];
type Outcome = Outputs["deployments"]["deploy"][number];

function took(d: Deployment): string {
  if (d.startedAt === null) return "—";
  if (d.finishedAt === null) return "running";
  const ms = new Date(d.finishedAt).getTime() - new Date(d.startedAt).getTime();
  return ms < 1_000 ? `${ms} ms` : `${(ms / 1_000).toFixed(1)} s`;
}

const tone = (status: string) => (status === "applied" ? "green" : status === "failed" ? "red" : "amber");

function summary(outcomes: Outcome[], what: string): { ok: boolean; text: string } {
  if (outcomes.length === 0) return { ok: true, text: `${what}: nothing to deploy (no revision yet, or no nodes).` };
  const failed = outcomes.filter((o) => o.status === "failed");
  const parts = outcomes.map((o) => `${o.node} ${o.status === "skipped" ? "already up to date" : o.status}${o.error ? ` (${o.error})` : ""}`);
  return { ok: failed.length === 0, text: `${what} of revision ${outcomes[0]?.revision}: ${parts.join("; ")}.` };
}

/** Deploys newest first, grouped by revision, with live progress of the latest one and retries. */
export function Deploys() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const operator = useCan("operator");
  const live = useDeploymentEvents();
  const deployments = useQuery(trpc.deployments.list.queryOptions({ limit: 300 }, { refetchInterval: 15_000 }));
  const nodes = useQuery(trpc.nodes.list.queryOptions(undefined, { refetchInterval: 15_000 }));
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | null>(null);
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: trpc.deployments.list.pathKey() });
    void queryClient.invalidateQueries({ queryKey: trpc.nodes.list.pathKey() });
  };
  const failed = (error: unknown) => setNotice({ ok: false, text: errorMessage(error) });
  const deploy = useMutation(trpc.deployments.deploy.mutationOptions({ onSuccess: (o) => setNotice(summary(o, "Deploy")), onError: failed, onSettled: refresh }));
  const reconcile = useMutation(trpc.deployments.reconcile.mutationOptions({ onSuccess: (o) => setNotice(summary(o, "Reconcile")), onError: failed, onSettled: refresh }));
  const retry = useMutation(
    trpc.deployments.retry.mutationOptions({
      onSuccess: (o) => setNotice({ ok: o.status !== "failed", text: `Retry of revision ${o.revision} on ${o.node}: ${o.status === "skipped" ? "it already runs it" : o.status}${o.error ? ` after ${o.attempts} attempts: ${o.error}` : ""}.` }),
      onError: failed,
      onSettled: refresh,
    }),
  );

  const latest = latestRevision(nodes.data, deployments.data, live);
  const rollout = nodes.data !== undefined && deployments.data !== undefined ? rolloutOf(latest, nodes.data, deployments.data, live) : null;
  const groups = new Map<number, Deployment[]>();
  for (const d of deployments.data ?? []) groups.set(d.revisionNumber, [...(groups.get(d.revisionNumber) ?? []), d]);
  // Within a revision: node by node, each node's latest try first, then its earlier ones.
  for (const rows of groups.values()) rows.sort((a, b) => a.node.name.localeCompare(b.node.name) || b.id - a.id);
  const nodeRevision = new Map((nodes.data ?? []).map((n) => [n.name, n.appliedRevision]));

  return (
    <>
      <PageHeader
        title="Deploys"
        description="Every revision is deployed to every node; an agent that was down catches up at the next reconcile."
        actions={
          operator ? (
            <>
              <Button variant="secondary" onClick={() => reconcile.mutate()} disabled={reconcile.isPending}>
                {reconcile.isPending ? "Reconciling…" : "Reconcile now"}
              </Button>
              <Button onClick={() => deploy.mutate()} disabled={deploy.isPending || latest === null}>
                {deploy.isPending ? "Deploying…" : latest !== null ? `Deploy revision ${latest} everywhere` : "Deploy"}
              </Button>
            </>
          ) : undefined
        }
      />
      <div aria-live="polite" className="mb-4 empty:hidden">
        {notice !== null ? notice.ok ? <p className="rounded-md border border-green-300 bg-green-50 px-3 py-2 text-sm text-green-900 dark:border-green-900 dark:bg-green-950 dark:text-green-200">{notice.text}</p> : <ErrorNote error={notice.text} /> : null}
      </div>
      {deployments.isError ? <ErrorNote error={deployments.error} /> : null}
      {rollout !== null && rollout.total > 0 ? <div className="mb-4"><RolloutCard rollout={rollout} live={live} /></div> : null}
      {deployments.data?.length === 0 ? <p className="text-sm text-zinc-500">Nothing deployed yet: deploys start with the first change.</p> : null}
      <div className="space-y-4">
        {[...groups].map(([revision, rows]) => {
          const first = rows[0] as Deployment;
          // Rows are newest first: a node's first row is its latest try; the rows after it are earlier tries.
          const latestOf = new Map<string, Deployment>();
          for (const r of rows) if (!latestOf.has(r.node.name)) latestOf.set(r.node.name, r);
          const counts = { applied: 0, failed: 0, applying: 0 } as Record<string, number>;
          for (const r of latestOf.values()) counts[r.status] = (counts[r.status] ?? 0) + 1;
          return (
            <Card
              key={revision}
              title={
                <span className="flex flex-wrap items-center gap-x-2">
                  <span>Revision {revision}{revision === latest ? " (latest)" : ""}</span>
                  <span className="font-normal text-zinc-600 dark:text-zinc-400">
                    {first.revision.kind !== "change" ? `${first.revision.kind} · ` : ""}
                    {first.revision.message || "no message"} · by {first.revision.authorName} <span title={exact(first.revision.createdAt)}>{ago(first.revision.createdAt)}</span>
                  </span>
                </span>
              }
              actions={
                <span className="flex gap-1">
                  {Object.entries(counts).filter(([, n]) => n > 0).map(([s, n]) => <Badge key={s} tone={tone(s)}>{n} node{n === 1 ? "" : "s"} {s}</Badge>)}
                </span>
              }
            >
              <Table caption={`Deploys of revision ${revision}, newest first`} className="table-fixed">
                <THead>
                  <Th className="w-36 py-1 pr-3">Node</Th>
                  <Th className="w-24 pr-3">Status</Th>
                  <Th className="w-20 pr-3">Attempts</Th>
                  <Th className="w-28 pr-3">Started</Th>
                  <Th className="w-20 pr-3">Took</Th>
                  <Th className="pr-3">Error (the agent's words)</Th>
                  {operator && revision === latest ? <Th className="w-28"><span className="sr-only">Actions</span></Th> : null}
                </THead>
                <tbody>
                  {rows.map((d) => {
                    const earlier = latestOf.get(d.node.name) !== d;
                    const stillBehind = !earlier && d.status === "failed" && nodeRevision.get(d.node.name) !== revision;
                    const cell = "py-1.5 pr-3";
                    return (
                      <Tr key={d.id} className={earlier ? "align-top text-zinc-500" : "align-top"}>
                        <td className={`${cell} font-medium`}>{d.node.name}{earlier ? <span className="font-normal"> · earlier</span> : null}</td>
                        <td className={cell}><Badge tone={earlier ? "gray" : tone(d.status)}>{d.status}</Badge></td>
                        <td className={`${cell} tabular-nums`}>{d.attempts}</td>
                        <td className={`${cell} whitespace-nowrap`} title={exact(d.startedAt)}>{ago(d.startedAt)}</td>
                        <td className={`${cell} whitespace-nowrap tabular-nums`}>{took(d)}</td>
                        <td className={`${cell} font-mono text-xs break-words whitespace-pre-wrap ${earlier ? "" : "text-red-700 dark:text-red-400"}`}>{d.error ?? ""}</td>
                        {operator && revision === latest ? (
                          <td className="py-1 text-right">
                            {stillBehind ? (
                              <Button size="sm" variant="secondary" onClick={() => retry.mutate({ node: d.node.name })} disabled={retry.isPending}>
                                {retry.isPending && retry.variables?.node === d.node.name ? "Retrying…" : `Retry ${d.node.name}`}
                              </Button>
                            ) : null}
                          </td>
                        ) : null}
                      </Tr>
                    );
                  })}
                </tbody>
              </Table>
            </Card>
          );
        })}
      </div>
    </>
  );
}
