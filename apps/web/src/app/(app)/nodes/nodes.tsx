"use client";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ErrorNote, PageHeader } from "@/components/ui/card";
import { useTRPC } from "@/lib/trpc";
import { useCan } from "@/lib/viewer";
import { AddNodeDialog } from "./add-node-dialog";
import { nodeHealth } from "./health";
import { NodeCard } from "./node-card";

/** Every node with its health and why, worst first, and enrollment of new ones. */
export function Nodes() {
  const trpc = useTRPC();
  const admin = useCan("admin");
  const [adding, setAdding] = useState(false);
  const nodes = useQuery(trpc.nodes.list.queryOptions(undefined, { refetchInterval: 5_000 }));
  // Each agent asked directly (2 s deadline each, all at once): drift details, its own errors, reachability now.
  const status = useQuery(trpc.nodes.status.queryOptions(undefined, { refetchInterval: 10_000 }));
  const live = new Map((status.data?.nodes ?? []).map((n) => [n.name, n]));

  const rows = (nodes.data ?? []).map((node) => ({ node, health: nodeHealth(node, live.get(node.name)) }));
  const order = { red: 0, amber: 1, gray: 2, blue: 3, green: 4 } as const;
  rows.sort((a, b) => order[a.health.tone] - order[b.health.tone] || a.node.name.localeCompare(b.node.name));
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.health.word, (counts.get(r.health.word) ?? 0) + 1);

  return (
    <>
      <PageHeader
        title="Nodes"
        description={
          nodes.data === undefined ? undefined : (
            <span className="flex flex-wrap items-center gap-2">
              {nodes.data.length} node{nodes.data.length === 1 ? "" : "s"}
              {nodes.data[0]?.desiredRevision != null ? <> · desired revision {nodes.data[0].desiredRevision}</> : null}
              {[...counts].map(([word, n]) => (
                <Badge key={word} tone={rows.find((r) => r.health.word === word)?.health.tone ?? "gray"}>{n} {word}</Badge>
              ))}
            </span>
          )
        }
        actions={admin ? <Button onClick={() => setAdding(true)}>Add node</Button> : undefined}
      />
      {nodes.isError ? <ErrorNote error={nodes.error} /> : null}
      {status.isError ? <div className="mb-3"><ErrorNote error={`The agents could not be asked for their status: ${status.error.message}`} /></div> : null}
      {nodes.data?.length === 0 ? (
        <p className="rounded-lg border border-dashed border-zinc-300 p-6 text-sm text-zinc-600 dark:border-zinc-700 dark:text-zinc-400">
          No nodes yet. {admin ? "Add one: the dialog gives the command that starts its agent." : "An admin adds them."}
        </p>
      ) : null}
      <div className="space-y-4">
        {rows.map(({ node }) => (
          <NodeCard key={node.id} node={node} live={live.get(node.name)} asked={status.data !== undefined} />
        ))}
      </div>
      <AddNodeDialog open={adding} onOpenChange={setAdding} />
    </>
  );
}
