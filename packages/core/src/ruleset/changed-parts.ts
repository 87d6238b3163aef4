import { sameMapType, type IrChain, type IrMap, type IrRuleset, type IrTable } from "./ir.ts";

// What a reviewer reads before a change: only the parts of a ruleset that differ between two
// IRs (chains, map elements, counters), each side as an IR of its own that the renderer turns
// into nft text. At 10,000 farms a whole ruleset is 5 MB of text; one farm's change touches a
// few chains and map elements of it, and a text diff of the whole would take most of a second.

const sameChain = (a: IrChain, b: IrChain) =>
  a.rules.length === b.rules.length &&
  a.rules.every((r, i) => r === b.rules[i]) &&
  (a.hook === b.hook ||
    (a.hook !== undefined && b.hook !== undefined && a.hook.type === b.hook.type && a.hook.hook === b.hook.hook && a.hook.priority === b.hook.priority && a.hook.device === b.hook.device));

/** The maps of each side, cut down to the elements that differ by key or verdict; a map whose type changed is kept whole. */
function changedMaps(before: readonly IrMap[], after: readonly IrMap[]): [IrMap[], IrMap[]] {
  const old = new Map(before.map((m) => [m.name, m]));
  const now = new Map(after.map((m) => [m.name, m]));
  const keep = (map: IrMap, other: IrMap | undefined): IrMap | null => {
    if (other === undefined || !sameMapType(map, other)) return map;
    const verdicts = new Map(other.elements);
    const elements = map.elements.filter(([k, v]) => verdicts.get(k) !== v);
    return elements.length === 0 ? null : { ...map, elements };
  };
  return [
    before.map((m) => keep(m, now.get(m.name))).filter((m): m is IrMap => m !== null),
    after.map((m) => keep(m, old.get(m.name))).filter((m): m is IrMap => m !== null),
  ];
}

/**
 * The chains that differ, and as context the farm chain of each scheduler chain that differs
 * (build.ts: `sched-X` is jumped to from `farm-X`): a backend set down changes the scheduler
 * chain alone, which names backends by id only; the farm chain beside it says which address
 * each id is.
 */
function changedChains(before: readonly IrChain[], after: readonly IrChain[]): [IrChain[], IrChain[]] {
  const old = new Map(before.map((c) => [c.name, c]));
  const now = new Map(after.map((c) => [c.name, c]));
  const differs = (chain: IrChain, other: IrChain | undefined) => other === undefined || !sameChain(chain, other);
  const shown = new Set([...before.filter((c) => differs(c, now.get(c.name))), ...after.filter((c) => differs(c, old.get(c.name)))].map((c) => c.name));
  for (const name of [...shown]) if (name.startsWith("sched-")) shown.add(`farm-${name.slice("sched-".length)}`);
  return [before.filter((c) => shown.has(c.name)), after.filter((c) => shown.has(c.name))];
}

function changedCounters(before: readonly string[] = [], after: readonly string[] = []): [string[], string[]] {
  const old = new Set(before);
  const now = new Set(after);
  return [before.filter((c) => !now.has(c)), after.filter((c) => !old.has(c))];
}

function cutTable(table: IrTable, maps: IrMap[], chains: IrChain[], counters: string[]): IrTable | null {
  if (maps.length === 0 && chains.length === 0 && counters.length === 0) return null;
  return { family: table.family, name: table.name, maps, chains, ...(counters.length > 0 ? { counters } : {}) };
}

/**
 * The parts of `before` and of `after` that differ, as two IRs: per table, the chains that were
 * added, removed or changed (whole; a changed scheduler chain with its farm chain as context), the map elements added, removed or re-pointed (a changed
 * map type keeps the map whole) and the counters added or removed. Equal IRs give two empty ones.
 */
export function changedParts(before: IrRuleset, after: IrRuleset): { before: IrRuleset; after: IrRuleset } {
  const out = { before: { tables: [] as IrTable[] }, after: { tables: [] as IrTable[] } };
  const key = (t: IrTable) => `${t.family} ${t.name}`;
  const old = new Map(before.tables.map((t) => [key(t), t]));
  const now = new Map(after.tables.map((t) => [key(t), t]));
  const empty = (t: IrTable): IrTable => ({ family: t.family, name: t.name, maps: [], chains: [] });
  for (const table of [...before.tables, ...after.tables.filter((t) => !old.has(key(t)))]) {
    const b = old.get(key(table)) ?? empty(table);
    const a = now.get(key(table)) ?? empty(table);
    const [mapsB, mapsA] = changedMaps(b.maps, a.maps);
    const [chainsB, chainsA] = changedChains(b.chains, a.chains);
    const [countersB, countersA] = changedCounters(b.counters, a.counters);
    const cutB = old.has(key(table)) ? cutTable(b, mapsB, chainsB, countersB) : null;
    const cutA = now.has(key(table)) ? cutTable(a, mapsA, chainsA, countersA) : null;
    if (cutB === null && cutA === null) continue;
    // A table that changed is on each side where it exists, empty if need be: a diff then shows
    // it as there all along rather than as made or dropped.
    if (old.has(key(table))) out.before.tables.push(cutB ?? empty(b));
    if (now.has(key(table))) out.after.tables.push(cutA ?? empty(a));
  }
  return out;
}
