"use client";
import { skipToken, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { UnifiedDiff } from "@/components/history/unified-diff";
import { Card, ErrorNote } from "@/components/ui/card";
import { Select } from "@/components/ui/input";
import { useTRPC } from "@/lib/trpc";

/** The nft ruleset one node runs at `from` and at `to` (rendered with that node's facts), as a unified diff. */
export function RenderedDiff({ from, to, node, onNode }: { from: number; to: number; node: string | null; onNode: (node: string) => void }) {
  const trpc = useTRPC();
  const nodes = useQuery(trpc.nodes.list.queryOptions());
  const names = (nodes.data ?? []).map((n) => n.name);
  const chosen = node !== null && names.includes(node) ? node : (names[0] ?? null);
  const rendered = useQuery(trpc.revisions.renderedDiff.queryOptions(chosen !== null ? { from, to, node: chosen } : skipToken));
  const same = rendered.data !== undefined && rendered.data.before === rendered.data.after;

  return (
    <Card title="nft ruleset per node">
      {nodes.isError ? <ErrorNote error={nodes.error} /> : nodes.isPending ? <p className="text-sm text-zinc-500">Loading nodes…</p> : chosen === null ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          No node is enrolled, so there is no ruleset to render: a ruleset depends on the node&apos;s facts (interfaces, addresses).{" "}
          <Link className="underline" href="/nodes">Add a node</Link> to see what these revisions do to its kernel.
        </p>
      ) : (
        <div className="space-y-2">
          <div className="flex flex-wrap items-center gap-3">
            <label className="flex items-center gap-2 text-sm font-medium">
              Node
              <Select className="w-48" value={chosen} onChange={(e) => onNode(e.target.value)}>
                {names.map((n) => (
                  <option key={n} value={n}>{n}</option>
                ))}
              </Select>
            </label>
            {rendered.data !== undefined && !same ? <p className="text-sm text-zinc-600 dark:text-zinc-400">Lines of revision {from} that go are red, lines of revision {to} that come are green.</p> : null}
          </div>
          {rendered.isError ? <ErrorNote error={rendered.error} /> : rendered.isPending ? <p className="text-sm text-zinc-500">Rendering node {chosen}&apos;s ruleset at revisions {from} and {to}…</p> : same ? (
            <p className="text-sm text-zinc-600 dark:text-zinc-400">Node {chosen} runs the same nft ruleset at revisions {from} and {to}.</p>
          ) : (
            <UnifiedDiff diff={rendered.data.diff} label={`nft ruleset of node ${chosen}, revision ${from} to ${to}`} fileName={`${chosen}-revision-${from}-to-${to}.diff`} />
          )}
        </div>
      )}
    </Card>
  );
}
