"use client";
import type { ConfigDiff } from "@switchyard/core/schemas";
import { ConfigDiffView } from "@/components/history/config-diff-view";
import { RowTh, Table, THead, Th, Tr } from "@/components/ui/table";
import { jsonFieldDiff, parseJsonColumn } from "@/lib/json-field-diff";
import type { AuditEvent } from "./describe-event";
import { farmEventDiff } from "./farm-event";

/**
 * What an event changed, field by field: a farm through the same structured diff as a
 * revision's; anything else (users, tokens, nodes) as its JSON keys, before → after.
 */
export function EventChanges({ event, farmDiff }: { event: AuditEvent; farmDiff: ConfigDiff | null }) {
  if (farmDiff !== null) return <ConfigDiffView diff={farmDiff} empty="The farm was the same before and after." />;
  const fields = jsonFieldDiff(parseJsonColumn(event.before), parseJsonColumn(event.after));
  if (fields.length === 0) return <p className="text-sm text-zinc-600 dark:text-zinc-400">Nothing was recorded before or after this event.</p>;
  return (
    <Table caption="Fields changed" bare>
      <THead>
        <Th className="w-48 py-0.5">Field</Th>
        <Th className="py-0.5">Before</Th>
        <Th className="py-0.5">After</Th>
      </THead>
      <tbody>
        {fields.map((f) => (
          <Tr key={f.field}>
            <RowTh className="py-0.5 font-mono text-xs font-normal">{f.field}</RowTh>
            <td className="py-0.5 font-mono text-xs text-red-800 dark:text-red-300">{f.before === "" ? <span className="text-zinc-400">—</span> : f.before}</td>
            <td className="py-0.5 font-mono text-xs text-green-800 dark:text-green-300">{f.after === "" ? <span className="text-zinc-400">—</span> : f.after}</td>
          </Tr>
        ))}
      </tbody>
    </Table>
  );
}
