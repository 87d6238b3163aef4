"use client";
import { skipToken, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";
import { ConfigDiffView } from "@/components/history/config-diff-view";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, ErrorNote, PageHeader } from "@/components/ui/card";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { ago, exact } from "@/lib/format";
import { countWords, kindTone } from "@/lib/history-words";
import { useTRPC } from "@/lib/trpc";
import { RenderedDiff } from "./rendered-diff";

/** A revision number from the URL: a whole number ≥ 0, else null. */
function revisionParam(value: string | null): number | null {
  return value !== null && /^\d+$/.test(value) ? Number(value) : null;
}

/** Who made revision `n`, when and why (0: the empty configuration before revision 1). */
function RevisionLabel({ n, side }: { n: number; side: string }) {
  const trpc = useTRPC();
  const row = useQuery(trpc.revisions.list.queryOptions(n === 0 ? skipToken : { before: n + 1, limit: 1 }));
  const r = row.data?.[0];
  return (
    <div className="min-w-0 flex-1 rounded-md border border-zinc-200 bg-white px-3 py-2 text-sm dark:border-zinc-800 dark:bg-zinc-900">
      <p className="text-xs text-zinc-500">{side}</p>
      {n === 0 ? (
        <p className="font-medium">The empty configuration (before revision 1)</p>
      ) : r === undefined || r.number !== n ? (
        <p className="text-zinc-500">{row.isPending ? "…" : `Revision ${n}: no such revision`}</p>
      ) : (
        <>
          <p className="flex flex-wrap items-center gap-1.5 font-medium">
            Revision {r.number}: {r.message !== "" ? r.message : <span className="font-normal text-zinc-500 italic">no message</span>}
            {r.kind !== "change" ? <Badge tone={kindTone(r.kind)}>{r.kind}</Badge> : null}
          </p>
          <p className="text-xs text-zinc-600 dark:text-zinc-400">
            by {r.authorName} <span title={exact(r.createdAt)}>{ago(r.createdAt)}</span>
          </p>
        </>
      )}
    </div>
  );
}

export function RevisionDiff() {
  const trpc = useTRPC();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const head = useQuery(trpc.revisions.list.queryOptions({ limit: 1 }));
  const latest = head.data?.[0]?.number ?? null;
  const to = revisionParam(params.get("to")) ?? latest;
  const from = revisionParam(params.get("from")) ?? (to !== null ? Math.max(0, to - 1) : null);
  const node = params.get("node");

  const [fromText, setFromText] = useState("");
  const [toText, setToText] = useState("");
  useEffect(() => {
    setFromText(from === null ? "" : String(from));
    setToText(to === null ? "" : String(to));
  }, [from, to]);

  const go = (next: { from?: number | null; to?: number | null; node?: string | null }) => {
    const query = new URLSearchParams();
    const f = next.from === undefined ? from : next.from;
    const t = next.to === undefined ? to : next.to;
    const n = next.node === undefined ? node : next.node;
    if (f !== null) query.set("from", String(f));
    if (t !== null) query.set("to", String(t));
    if (n !== null) query.set("node", n);
    router.replace(`${pathname}?${query.toString()}`, { scroll: false });
  };

  const diff = useQuery(trpc.revisions.diff.queryOptions(from !== null && to !== null ? { from, to } : skipToken));
  const counts = { added: 0, removed: 0, changed: 0 };
  for (const f of diff.data?.farms ?? []) counts[f.change]++;

  return (
    <>
      <PageHeader title="Compare revisions" description="What the later configuration changes in the earlier one: farms and backends, then the nft ruleset a node runs." actions={<Button asChild variant="secondary"><Link href="/revisions">All revisions</Link></Button>} />
      <form
        aria-label="Revisions to compare"
        className="mb-4 flex flex-wrap items-end gap-3"
        onSubmit={(event) => {
          event.preventDefault();
          const f = revisionParam(fromText.trim());
          const t = revisionParam(toText.trim());
          if (f !== null && t !== null) go({ from: f, to: t });
        }}
      >
        <div className="w-36">
          <Field label="From revision" error={fromText !== "" && revisionParam(fromText.trim()) === null ? "a whole number, 0 or more" : undefined}>
            <Input type="number" min={0} inputMode="numeric" value={fromText} onChange={(e) => setFromText(e.target.value)} />
          </Field>
        </div>
        <div className="w-36">
          <Field label="To revision" error={toText !== "" && revisionParam(toText.trim()) === null ? "a whole number, 0 or more" : undefined}>
            <Input type="number" min={0} inputMode="numeric" value={toText} onChange={(e) => setToText(e.target.value)} />
          </Field>
        </div>
        <Button type="submit">Compare</Button>
        <Button type="button" variant="secondary" disabled={from === null || to === null} onClick={() => go({ from: to, to: from })}>
          Swap
        </Button>
        <p className="basis-full text-xs text-zinc-500">Revision 0 is the empty configuration before revision 1.</p>
      </form>

      {head.isError ? <ErrorNote error={head.error} /> : null}
      {head.data?.length === 0 ? <p className="text-sm text-zinc-600 dark:text-zinc-400">No revisions yet: nothing to compare.</p> : null}
      {from !== null && to !== null ? (
        <div className="space-y-4">
          <div className="flex flex-wrap gap-3">
            <RevisionLabel n={from} side="From" />
            <RevisionLabel n={to} side="To" />
          </div>
          <Card title="Farms and backends" actions={diff.data !== undefined ? <span className="text-sm text-zinc-600 dark:text-zinc-400">{countWords(counts) || "no difference"}</span> : undefined}>
            {diff.isError ? <ErrorNote error={diff.error} /> : diff.isPending ? <p className="text-sm text-zinc-500">Comparing…</p> : (
              // Scrolls on its own, so that the ruleset below stays in reach of a diff of thousands of farms.
              <div tabIndex={0} aria-label={`Farms and backends that differ between revisions ${from} and ${to}`} className="max-h-[48rem] overflow-auto pr-1 focus-visible:outline-2 focus-visible:outline-blue-500">
                <ConfigDiffView diff={diff.data} empty={`Revisions ${from} and ${to} have the same farms and backends.`} />
              </div>
            )}
          </Card>
          <RenderedDiff from={from} to={to} node={node} onNode={(n) => go({ node: n })} />
        </div>
      ) : null}
    </>
  );
}
