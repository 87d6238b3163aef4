"use client";
import { Tabs } from "radix-ui";
import { Card } from "@/components/ui/card";
import { cn } from "@/lib/cn";
import type { Outputs } from "@/lib/trpc";

type Preview = Outputs["farms"]["preview"];

const TAB = "rounded-md px-2.5 py-1 text-sm font-medium text-zinc-600 hover:bg-zinc-100 focus-visible:outline-2 focus-visible:outline-blue-500 data-[state=active]:bg-zinc-900 data-[state=active]:text-white dark:text-zinc-300 dark:hover:bg-zinc-800 dark:data-[state=active]:bg-zinc-100 dark:data-[state=active]:text-zinc-900";

function lineTone(line: string): string | undefined {
  if (line.startsWith("+++") || line.startsWith("---")) return "text-zinc-500";
  if (line.startsWith("+")) return "bg-green-50 text-green-900 dark:bg-green-950/60 dark:text-green-200";
  if (line.startsWith("-")) return "bg-red-50 text-red-900 dark:bg-red-950/60 dark:text-red-200";
  if (line.startsWith("@@")) return "text-blue-700 dark:text-blue-400";
  return undefined;
}

function Code({ text, label, diff = false }: { text: string; label: string; diff?: boolean }) {
  if (text === "") return <p className="text-sm text-zinc-500">Nothing.</p>;
  return (
    <pre aria-label={label} tabIndex={0} className="max-h-[28rem] overflow-auto rounded-md border border-zinc-200 bg-zinc-50 p-2 font-mono text-xs leading-5 focus-visible:outline-2 focus-visible:outline-blue-500 dark:border-zinc-800 dark:bg-zinc-950">
      {diff
        ? text.split("\n").map((line, i) => (
            <span key={i} className={cn("block px-1 whitespace-pre", lineTone(line))}>
              {line === "" ? " " : line}
            </span>
          ))
        : text.replaceAll("\t", "  ")}
    </pre>
  );
}

/** The nft rules a change would add, remove or rewrite on a node, before it is saved. */
export function RulesetPreview({ preview, stale, loading }: { preview: Preview | undefined; stale: boolean; loading: boolean }) {
  const where = preview === undefined ? "" : preview.node !== null ? `node ${preview.node}` : "a node without facts (no node is enrolled yet)";
  return (
    <Card title="Ruleset preview" actions={stale && !loading ? <span className="text-xs text-amber-700 dark:text-amber-400">The form changed since: preview again</span> : undefined}>
      {loading && preview === undefined ? <p className="text-sm text-zinc-500">Rendering…</p> : null}
      {preview !== undefined ? (
        <div className={cn("space-y-3", (stale || loading) && "opacity-60")} aria-busy={loading}>
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            Rendered for {where} against revision {preview.revision}: only the chains, map elements and counters this change touches.
          </p>
          {preview.issues.length > 0 ? (
            <p className="text-sm text-red-700 dark:text-red-400">
              {preview.refused
                ? "Saving this would be refused; the reasons are under the fields."
                : preview.node !== null
                  ? `Node ${preview.node} could not run this (a deploy to it would fail); the reasons are under the fields.`
                  : "This cannot be rendered without a node's facts (a dsr farm needs MAC addresses, which an enrolled node reports); the reasons are under the fields."}
            </p>
          ) : preview.diff === "" ? (
            <p className="text-sm">This change leaves the ruleset as it is (a farm that is down or off has no rules on the nodes).</p>
          ) : (
            <Tabs.Root defaultValue="diff">
              <Tabs.List aria-label="Preview" className="mb-2 flex gap-1">
                <Tabs.Trigger value="diff" className={TAB}>Diff</Tabs.Trigger>
                <Tabs.Trigger value="after" className={TAB}>After</Tabs.Trigger>
                <Tabs.Trigger value="before" className={TAB}>Now</Tabs.Trigger>
              </Tabs.List>
              <Tabs.Content value="diff"><Code text={preview.diff} label="Ruleset diff" diff /></Tabs.Content>
              <Tabs.Content value="after"><Code text={preview.after} label="Rules after this change" /></Tabs.Content>
              <Tabs.Content value="before"><Code text={preview.before} label="Rules now" /></Tabs.Content>
            </Tabs.Root>
          )}
        </div>
      ) : null}
    </Card>
  );
}
