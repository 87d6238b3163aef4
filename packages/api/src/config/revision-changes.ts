import { diffConfigs, safeParseConfig, type Config, type FarmDiff } from "@switchyard/core";
import type { Database } from "@switchyard/db";

// What each revision of a page of the timeline changed, without diffing whole snapshots: every
// commit writes one audit event per farm it touches (before and after, same transaction), so
// counting a revision's farm events by whether before or after is empty says how many farms it
// added, removed and changed, and the first few events say which, down to their backends.
// Measured with 10,000 farms, two imports of all of them and 25 small changes (20,000 audit
// events): a page of the timeline gains 30-45 ms (three scans of the audit events: there is
// an index on revisionNumber since 0004), where revisions.diff against the parent for each row took 19 s.

export interface RevisionChanges {
  added: number;
  removed: number;
  changed: number;
  /** The first farms the revision touched (at most FIRST), each as revisions.diff would show it. */
  farms: FarmDiff[];
}

export const FIRST_FARMS = 3;

const none = (): RevisionChanges => ({ added: 0, removed: 0, changed: 0, farms: [] });

/** One farm as an audit event keeps it (canonical nftlb JSON), as a config of that farm alone. */
function farmConfig(json: string | null): Config | null {
  if (json === null) return { farms: [] };
  const parsed = safeParseConfig({ farms: [JSON.parse(json) as unknown] });
  return parsed.ok ? parsed.config : null;
}

function farmDiff(name: string, before: string | null, after: string | null): FarmDiff {
  const [was, now] = [farmConfig(before), farmConfig(after)];
  const change = before === null ? "added" : after === null ? "removed" : "changed";
  // A farm kept under an older schema that no longer parses is still named, without its fields.
  if (was === null || now === null) return { name, change, fields: [], backends: [] };
  return diffConfigs(was, now).farms[0] ?? { name, change, fields: [], backends: [] };
}

export async function revisionChanges(db: Database, numbers: number[]): Promise<Map<number, RevisionChanges>> {
  const out = new Map(numbers.map((n) => [n, none()]));
  if (numbers.length === 0) return out;
  const where = { entityType: "farm", revisionNumber: { in: numbers } };
  const [all, added, removed] = await Promise.all([
    db.auditEvent.groupBy({ by: ["revisionNumber"], where, _count: { _all: true }, _min: { id: true } }),
    db.auditEvent.groupBy({ by: ["revisionNumber"], where: { ...where, before: null }, _count: { _all: true } }),
    db.auditEvent.groupBy({ by: ["revisionNumber"], where: { ...where, after: null }, _count: { _all: true } }),
  ]);
  const count = (rows: typeof added, n: number) => rows.find((r) => r.revisionNumber === n)?._count._all ?? 0;
  // A commit writes its events in one createMany inside its transaction, and commits are
  // serial, so a revision's events have consecutive ids from the smallest one.
  const firstIds: number[] = [];
  for (const row of all) {
    if (row.revisionNumber === null || row._min.id === null) continue;
    const n = row.revisionNumber;
    const a = count(added, n);
    const r = count(removed, n);
    out.set(n, { added: a, removed: r, changed: row._count._all - a - r, farms: [] });
    for (let i = 0; i < Math.min(FIRST_FARMS, row._count._all); i++) firstIds.push(row._min.id + i);
  }
  // SQLite takes at most 999 bound parameters a statement; a page of 500 revisions asks for 1,500 ids.
  const chunks: number[][] = [];
  for (let i = 0; i < firstIds.length; i += 900) chunks.push(firstIds.slice(i, i + 900));
  const events = (
    await Promise.all(
      chunks.map((ids) =>
        db.auditEvent.findMany({ where: { id: { in: ids }, entityType: "farm" }, orderBy: { id: "asc" }, select: { revisionNumber: true, entityName: true, before: true, after: true } }),
      ),
    )
  ).flat();
  for (const event of events) {
    const changes = event.revisionNumber === null ? undefined : out.get(event.revisionNumber);
    changes?.farms.push(farmDiff(event.entityName, event.before, event.after));
  }
  return out;
}
