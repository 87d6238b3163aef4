"use client";
import { useQueries } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { ErrorNote, PageHeader } from "@/components/ui/card";
import { useTRPC } from "@/lib/trpc";
import { RevisionItem } from "./revision-item";

const PAGE = 25;

/** Every revision, newest first, PAGE at a time ("Show older" pages back with `before`). */
export function Timeline() {
  const trpc = useTRPC();
  const [cursors, setCursors] = useState<(number | undefined)[]>([undefined]);
  const pages = useQueries({
    queries: cursors.map((before, i) =>
      trpc.revisions.list.queryOptions({ limit: PAGE, ...(before !== undefined ? { before } : {}) }, i === 0 ? { refetchInterval: 10_000 } : {}),
    ),
  });
  const rows = pages.flatMap((p) => p.data ?? []);
  const latest = pages[0]?.data?.[0]?.number ?? null;
  const last = pages.at(-1);
  const oldest = rows.at(-1)?.number;
  const more = last?.data !== undefined && last.data.length === PAGE && oldest !== undefined && oldest > 1;

  return (
    <>
      <PageHeader
        title="Revisions"
        description="Every change to the desired configuration, newest first. A rollback is a new revision with old content: history only grows."
        actions={
          <Button asChild variant="secondary">
            <Link href="/revisions/diff">Compare two revisions</Link>
          </Button>
        }
      />
      {pages.map((p, i) => (p.isError ? <ErrorNote key={i} error={p.error} /> : null))}
      {pages[0]?.isPending ? <p className="text-sm text-zinc-500">Loading revisions…</p> : null}
      {pages[0]?.data?.length === 0 ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          No revisions yet. Create a farm on <Link className="underline" href="/farms">Farms</Link> or <Link className="underline" href="/import">import an nftlb config</Link>.
        </p>
      ) : null}
      {rows.length > 0 ? (
        <ol aria-label="Revisions, newest first" className="space-y-2">
          {rows.map((r) => (
            <RevisionItem key={r.number} revision={r} latest={latest} />
          ))}
        </ol>
      ) : null}
      {more ? (
        <Button variant="secondary" className="mt-3" disabled={last?.isFetching} onClick={() => setCursors((c) => [...c, oldest])}>
          {last?.isFetching ? "Loading…" : "Show older revisions"}
        </Button>
      ) : null}
    </>
  );
}
