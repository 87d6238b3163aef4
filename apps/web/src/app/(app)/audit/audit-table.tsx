"use client";
import Link from "next/link";
import { Fragment, useState } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Table, THead, Th, Tr } from "@/components/ui/table";
import { ago, exact } from "@/lib/format";
import { changedWords } from "@/lib/history-words";
import { describeEvent, eventTone, type AuditEvent } from "./describe-event";
import { EventChanges } from "./event-changes";
import { farmEventDiff } from "./farm-event";

/** One row per event; an event that recorded a before or an after opens to its field-level diff. */
export function AuditTable({ events }: { events: AuditEvent[] }) {
  const [open, setOpen] = useState<ReadonlySet<number>>(new Set());
  const toggle = (id: number) =>
    setOpen((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <Table caption="Audit events, newest first" wrapperClassName="rounded-lg border border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900">
      <THead className="border-b border-zinc-200 dark:border-zinc-800">
        <Th className="w-40 px-3 py-2">When</Th>
        <Th className="w-36 px-3 py-2">Who</Th>
        <Th className="px-3 py-2">What</Th>
        <Th className="w-24 px-3 py-2">Revision</Th>
        <Th className="w-32 px-3 py-2"><span className="sr-only">Changes</span></Th>
      </THead>
      <tbody>
        {events.map((e) => {
          const what = describeEvent(e);
          const farmDiff = farmEventDiff(e);
          const changed = farmDiff?.farms[0]?.change === "changed" ? changedWords(farmDiff.farms[0]) : null;
          const recorded = e.before !== null || e.after !== null;
          const isOpen = open.has(e.id);
          const detailId = `audit-${e.id}-changes`;
          return (
            <Fragment key={e.id}>
              <Tr className="align-top first:border-t-0">
                <td className="px-3 py-2 whitespace-nowrap text-zinc-600 dark:text-zinc-400">
                  <time dateTime={new Date(e.createdAt).toISOString()} title={exact(e.createdAt)}>{ago(e.createdAt)}</time>
                </td>
                <td className="px-3 py-2 font-medium break-all">{e.actorName}</td>
                <td className="px-3 py-2">
                  <span className="flex flex-wrap items-center gap-2">
                    <Badge tone={eventTone(e)}>{e.entityType}</Badge>
                    <span>{what}</span>
                  </span>
                  {changed !== null ? <span className="block break-words text-zinc-700 dark:text-zinc-300">{changed}</span> : null}
                  <span className="font-mono text-xs text-zinc-500">{e.action}</span>
                </td>
                <td className="px-3 py-2">
                  {e.revisionNumber !== null ? (
                    <Link className="underline" href={`/revisions/diff?from=${Math.max(0, e.revisionNumber - 1)}&to=${e.revisionNumber}`}>
                      {e.revisionNumber}
                      <span className="sr-only"> (what revision {e.revisionNumber} changed)</span>
                    </Link>
                  ) : <span className="text-zinc-400">—</span>}
                </td>
                <td className="px-3 py-2 text-right">
                  {recorded ? (
                    <Button variant="ghost" size="sm" aria-expanded={isOpen} aria-controls={detailId} onClick={() => toggle(e.id)}>
                      {isOpen ? "Hide changes" : "Show changes"}
                      <span className="sr-only"> of event {e.id}: {e.actorName} {what}</span>
                    </Button>
                  ) : null}
                </td>
              </Tr>
              {recorded && isOpen ? (
                <tr id={detailId} className="bg-zinc-50 dark:bg-zinc-950">
                  <td colSpan={5} className="px-3 py-3">
                    <EventChanges event={e} farmDiff={farmDiff} />
                  </td>
                </tr>
              ) : null}
            </Fragment>
          );
        })}
      </tbody>
    </Table>
  );
}
