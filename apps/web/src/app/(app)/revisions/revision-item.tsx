"use client";
import Link from "next/link";
import { useState } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ago, exact } from "@/lib/format";
import { countWords, farmWords, kindTone, plural } from "@/lib/history-words";
import type { Outputs } from "@/lib/trpc";
import { useCan } from "@/lib/viewer";
import { RollbackDialog } from "./rollback-dialog";

export type RevisionRow = Outputs["revisions"]["list"][number];

/** What the revision changed in its parent, in words: the counts, then the first farms in full. */
function ChangeWords({ changes }: { changes: RevisionRow["changes"] }) {
  const total = changes.added + changes.removed + changes.changed;
  if (total === 0) return <p className="text-sm text-zinc-500">No farm changed.</p>;
  const rest = total - changes.farms.length;
  return (
    <div className="mt-1 text-sm">
      {rest > 0 ? <p className="text-zinc-600 dark:text-zinc-400">{countWords(changes)}</p> : null}
      <ul className="mt-0.5 space-y-0.5">
        {changes.farms.map((f) => (
          <li key={f.name} className="break-words">{farmWords(f)}</li>
        ))}
        {rest > 0 ? <li className="text-zinc-500">and {plural(rest, "more farm")}</li> : null}
      </ul>
    </div>
  );
}

export function RevisionItem({ revision: r, latest }: { revision: RevisionRow; latest: number | null }) {
  const operator = useCan("operator");
  const [rollingBack, setRollingBack] = useState(false);
  const parent = r.parentNumber ?? 0;
  const isLatest = r.number === latest;
  return (
    <li aria-label={`Revision ${r.number}`} className="flex flex-wrap items-start gap-x-4 gap-y-2 rounded-lg border border-zinc-200 bg-white px-4 py-3 dark:border-zinc-800 dark:bg-zinc-900">
      <div className="w-14 shrink-0 pt-0.5 text-lg font-semibold tabular-nums" aria-hidden="true">#{r.number}</div>
      <div className="min-w-0 flex-1 basis-80">
        <div className="flex flex-wrap items-center gap-2">
          <h2 className="text-sm font-semibold">
            <span className="sr-only">Revision {r.number}: </span>
            {r.message !== "" ? r.message : <span className="font-normal text-zinc-500 italic">no message</span>}
          </h2>
          {r.kind !== "change" ? <Badge tone={kindTone(r.kind)}>{r.kind}</Badge> : null}
          {isLatest ? <Badge tone="green">current</Badge> : null}
        </div>
        <p className="text-xs text-zinc-600 dark:text-zinc-400">
          by <span className="font-medium text-zinc-800 dark:text-zinc-200">{r.authorName}</span>{" "}
          <time dateTime={new Date(r.createdAt).toISOString()} title={exact(r.createdAt)}>{ago(r.createdAt)}</time>
        </p>
        <ChangeWords changes={r.changes} />
      </div>
      <div className="flex shrink-0 flex-wrap items-center gap-2">
        <Button asChild variant="secondary" size="sm">
          <Link href={`/revisions/diff?from=${parent}&to=${r.number}`}>
            {parent === 0 ? "Show changes" : "Compare with previous"}
            <span className="sr-only"> (revision {parent} to {r.number})</span>
          </Link>
        </Button>
        {operator && !isLatest && latest !== null ? (
          <Button variant="secondary" size="sm" onClick={() => setRollingBack(true)}>
            Roll back to revision {r.number}
          </Button>
        ) : null}
      </div>
      {rollingBack ? <RollbackDialog to={r.number} open={rollingBack} onOpenChange={setRollingBack} /> : null}
    </li>
  );
}
