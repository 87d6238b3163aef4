"use client";
import type { BackendDiff, ConfigDiff, FarmDiff, FieldChange } from "@switchyard/core/schemas";
import { useState } from "react";
import { Badge, type Tone } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { RowTh, Table, THead, Th, Tr } from "@/components/ui/table";
import { plural } from "@/lib/history-words";

// A structured diff of two configs (revisions.diff, a rollback's preview, an import's preview,
// a farm's audit entry): farms and backends added, removed or changed, each changed attribute
// as old → new. An added or removed farm is listed by its attributes, not as a table of blanks.

const TONE: Record<FarmDiff["change"], Tone> = { added: "green", removed: "red", changed: "amber" };
const PAGE = 50;

function Old({ value }: { value: string }) {
  return value === "" ? <span className="text-zinc-400">—</span> : <del className="rounded bg-red-50 px-1 font-mono text-red-800 no-underline dark:bg-red-950 dark:text-red-300">{value}</del>;
}

function New({ value }: { value: string }) {
  return value === "" ? <span className="text-zinc-400">—</span> : <ins className="rounded bg-green-50 px-1 font-mono text-green-800 no-underline dark:bg-green-950 dark:text-green-300">{value}</ins>;
}

function FieldTable({ fields, caption }: { fields: FieldChange[]; caption: string }) {
  return (
    <Table caption={caption} className="mt-1 w-auto" bare>
      <THead>
        <Th className="min-w-36 py-0.5 pr-6">Attribute</Th>
        <Th className="min-w-28 py-0.5 pr-6">Before</Th>
        <Th className="min-w-28 py-0.5">After</Th>
      </THead>
      <tbody>
        {fields.map((f) => (
          <Tr key={f.field}>
            <RowTh className="py-0.5 pr-6 font-mono text-xs font-normal">{f.field}</RowTh>
            <td className="py-0.5 pr-6 break-all"><Old value={f.before} /></td>
            <td className="py-0.5 break-all"><New value={f.after} /></td>
          </Tr>
        ))}
      </tbody>
    </Table>
  );
}

/** An added or removed entity's attributes on one line: `virtual-addr 198.18.1.100 · virtual-ports 80 · …`. */
function Attributes({ fields, side }: { fields: FieldChange[]; side: "before" | "after" }) {
  return (
    <p className="font-mono text-xs text-zinc-600 dark:text-zinc-400">
      {fields.map((f, i) => (
        <span key={f.field}>
          {i > 0 ? " · " : ""}
          <span className="whitespace-nowrap">
            {f.field} <span className="text-zinc-900 dark:text-zinc-100">{f[side] === "" ? "—" : f[side]}</span>
          </span>
        </span>
      ))}
    </p>
  );
}

function BackendRow({ farm, backend }: { farm: string; backend: BackendDiff }) {
  return (
    <li className="py-1">
      <div className="flex items-center gap-2 text-sm">
        <Badge tone={TONE[backend.change]}>{backend.change}</Badge>
        <span>backend <span className="font-medium">{backend.name}</span></span>
      </div>
      {backend.change === "changed" ? (
        <FieldTable fields={backend.fields} caption={`Backend ${backend.name} of farm ${farm}: attributes changed`} />
      ) : (
        <Attributes fields={backend.fields} side={backend.change === "added" ? "after" : "before"} />
      )}
    </li>
  );
}

export function FarmDiffView({ farm }: { farm: FarmDiff }) {
  const side = farm.change === "removed" ? "before" : "after";
  return (
    <section aria-label={`Farm ${farm.name} ${farm.change}`} className="rounded-md border border-zinc-200 p-3 dark:border-zinc-800">
      <h3 className="flex items-center gap-2 text-sm font-semibold">
        <Badge tone={TONE[farm.change]}>{farm.change}</Badge> farm {farm.name}
      </h3>
      {farm.fields.length > 0 ? (
        farm.change === "changed" ? <FieldTable fields={farm.fields} caption={`Farm ${farm.name}: attributes changed`} /> : <div className="mt-1"><Attributes fields={farm.fields} side={side} /></div>
      ) : null}
      {farm.backends.length > 0 ? (
        <ul className="mt-2 divide-y divide-zinc-100 border-l-2 border-zinc-200 pl-3 dark:divide-zinc-800 dark:border-zinc-700" aria-label={`Backends of farm ${farm.name}`}>
          {farm.backends.map((b) => (
            <BackendRow key={b.name} farm={farm.name} backend={b} />
          ))}
        </ul>
      ) : null}
    </section>
  );
}

/** Every farm of the diff, PAGE at a time (an import of 10,000 farms is one diff). */
export function ConfigDiffView({ diff, empty = "Nothing differs." }: { diff: ConfigDiff; empty?: string }) {
  const [limit, setLimit] = useState(PAGE);
  if (diff.farms.length === 0) return <p className="text-sm text-zinc-600 dark:text-zinc-400">{empty}</p>;
  return (
    <div className="space-y-2">
      {diff.farms.slice(0, limit).map((farm) => (
        <FarmDiffView key={farm.name} farm={farm} />
      ))}
      {diff.farms.length > limit ? (
        <Button variant="secondary" size="sm" onClick={() => setLimit((l) => l + PAGE * 4)}>
          Show more ({plural(diff.farms.length - limit, "farm")} not shown)
        </Button>
      ) : null}
    </div>
  );
}
