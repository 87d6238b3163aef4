"use client";
import type { ConfigDiff } from "@switchyard/core/schemas";
import { ConfigDiffView } from "@/components/history/config-diff-view";
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
    <table className="w-full text-left text-sm">
      <caption className="sr-only">Fields changed</caption>
      <thead className="text-xs text-zinc-500">
        <tr>
          <th scope="col" className="w-48 py-0.5 font-medium">Field</th>
          <th scope="col" className="py-0.5 font-medium">Before</th>
          <th scope="col" className="py-0.5 font-medium">After</th>
        </tr>
      </thead>
      <tbody>
        {fields.map((f) => (
          <tr key={f.field} className="border-t border-zinc-100 dark:border-zinc-800">
            <th scope="row" className="py-0.5 font-mono text-xs font-normal">{f.field}</th>
            <td className="py-0.5 font-mono text-xs text-red-800 dark:text-red-300">{f.before === "" ? <span className="text-zinc-400">—</span> : f.before}</td>
            <td className="py-0.5 font-mono text-xs text-green-800 dark:text-green-300">{f.after === "" ? <span className="text-zinc-400">—</span> : f.after}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
