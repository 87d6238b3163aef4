import { z } from "zod";
import {
  IrChainSchema,
  IrCounterNamesSchema,
  IrElementSchema,
  IrIdentifierSchema,
  IrMapSchema,
  IrTableSchema,
  TableFamilySchema,
  sameMapType,
  type IrChain,
  type IrMap,
  type IrRuleset,
  type IrTable,
} from "./ir.ts";

// A compact description of how one IR became another, by name: chains and maps put (added or
// replaced whole) or removed, map elements added and removed by key, and the order of names
// when it is not the one the put/remove leave. The agent's state journal writes one per change
// instead of the whole ruleset (4 MB at 10,000 farms); patchIr(a, diffIr(a, b)) equals b,
// order included, so a replayed IR hashes as the one the control plane sent. Pure.

export interface NamedListPatch<T> {
  /** Added (appended) or replaced (in place), by name. */
  put?: T[];
  remove?: string[];
  /** The names in their final order, when put and remove do not leave them so. */
  order?: string[];
}

const namedListPatchSchema = <T extends z.ZodType<{ name: string }>>(item: T) =>
  z.strictObject({
    put: z.array(item).optional(),
    remove: z.array(IrIdentifierSchema).optional(),
    order: z.array(IrIdentifierSchema).optional(),
  });

export const ElementPatchSchema = z.strictObject({
  map: IrIdentifierSchema,
  add: z.array(IrElementSchema),
  remove: z.array(z.string()),
});

/**
 * How a table's counter names changed: added (appended) and removed by name, or, when that
 * would not rebuild the list in its order, the whole list (null: the table has none).
 */
export const CounterPatchSchema = z.union([
  z.strictObject({ add: IrCounterNamesSchema.optional(), remove: IrCounterNamesSchema.optional() }),
  z.strictObject({ all: IrCounterNamesSchema.nullable() }),
]);

export const TablePatchSchema = z.union([
  z.strictObject({ family: TableFamilySchema, whole: IrTableSchema }),
  z.strictObject({ family: TableFamilySchema, drop: z.literal(true) }),
  z.strictObject({
    family: TableFamilySchema,
    chains: namedListPatchSchema(IrChainSchema).optional(),
    maps: namedListPatchSchema(IrMapSchema).optional(),
    elements: z.array(ElementPatchSchema).optional(),
    counters: CounterPatchSchema.optional(),
  }),
]);

/**
 * An IrPatch as it travels (PATCH /v1/ruleset, the agent's journal): every chain, map, element
 * and counter name in it checked as the IR's schema checks them in a whole ruleset.
 */
export const IrPatchSchema = z.strictObject({
  tables: z.array(TablePatchSchema),
  /** The table families in their final order, when it changed. */
  order: z.array(TableFamilySchema).optional(),
});

export type ElementPatch = z.output<typeof ElementPatchSchema>;
export type CounterPatch = z.output<typeof CounterPatchSchema>;
export type TablePatch = z.output<typeof TablePatchSchema>;
export type IrPatch = z.output<typeof IrPatchSchema>;

const sameHook = (a: IrChain["hook"], b: IrChain["hook"]) =>
  a === b || (a !== undefined && b !== undefined && a.type === b.type && a.hook === b.hook && a.priority === b.priority && a.device === b.device);

const sameChain = (a: IrChain, b: IrChain) =>
  a === b || (sameHook(a.hook, b.hook) && (a.rules === b.rules || (a.rules.length === b.rules.length && a.rules.every((r, i) => r === b.rules[i]))));

/** The order put/remove leave: the old names without the removed, then the new names as they come. */
function impliedOrder(before: readonly string[], after: readonly string[], removed: ReadonlySet<string>): string[] {
  const kept = before.filter((n) => !removed.has(n));
  const known = new Set(kept);
  return [...kept, ...after.filter((n) => !known.has(n))];
}

const sameNames = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((n, i) => n === b[i]);

/** How a list of named things became another: put (by identity or `same`), removed, reordered. */
export function diffNamed<T extends { name: string }>(before: readonly T[], after: readonly T[], same: (a: T, b: T) => boolean): NamedListPatch<T> | undefined {
  if (before.length === after.length && before.every((x, i) => x.name === after[i]?.name)) {
    // The common case (things changed in place, none added, removed or moved): no index needed.
    const put = after.filter((x, i) => !same(before[i] as T, x));
    return put.length === 0 ? undefined : { put };
  }
  const old = new Map(before.map((x) => [x.name, x]));
  const names = new Set(after.map((x) => x.name));
  const put = after.filter((x) => {
    const was = old.get(x.name);
    return was === undefined || !same(was, x);
  });
  const remove = before.filter((x) => !names.has(x.name)).map((x) => x.name);
  const finalOrder = after.map((x) => x.name);
  const order = sameNames(impliedOrder(before.map((x) => x.name), finalOrder, new Set(remove)), finalOrder) ? undefined : finalOrder;
  if (put.length === 0 && remove.length === 0 && order === undefined) return undefined;
  return { ...(put.length > 0 ? { put } : {}), ...(remove.length > 0 ? { remove } : {}), ...(order !== undefined ? { order } : {}) };
}

const sameElements = (a: IrMap["elements"], b: IrMap["elements"]) =>
  a === b || (a.length === b.length && a.every(([k, v], i) => b[i]?.[0] === k && b[i]?.[1] === v));

/** The element changes from `before` to `after`, or undefined when adding and removing by key would not rebuild `after` in its order. */
function diffElements(before: IrMap, after: IrMap): ElementPatch | undefined {
  const old = new Map(before.elements);
  const keys = new Set(after.elements.map(([k]) => k));
  const patch: ElementPatch = {
    map: after.name,
    add: after.elements.filter(([k, v]) => old.get(k) !== v).map(([k, v]) => [k, v]),
    remove: before.elements.filter(([k]) => !keys.has(k)).map(([k]) => k),
  };
  // Element order is part of the IR (and of its hash).
  return sameElements(patchElements(before.elements, patch), after.elements) ? patch : undefined;
}

function patchCounters(list: readonly string[] | undefined, patch: CounterPatch): string[] | undefined {
  if ("all" in patch) return patch.all === null ? undefined : [...patch.all];
  const removed = new Set(patch.remove ?? []);
  const out = (list ?? []).filter((c) => !removed.has(c));
  out.push(...(patch.add ?? []));
  return out.length === 0 ? undefined : out;
}

/** How a table's counter names changed (see CounterPatchSchema); undefined when they did not. */
export function diffCounters(before: readonly string[] | undefined, after: readonly string[] | undefined): CounterPatch | undefined {
  if (before === after) return undefined;
  if (before !== undefined && after !== undefined && sameNames(before, after)) return undefined;
  const now = new Set(after ?? []);
  const old = new Set(before ?? []);
  const add = (after ?? []).filter((c) => !old.has(c));
  const remove = (before ?? []).filter((c) => !now.has(c));
  const patch = { ...(add.length > 0 ? { add } : {}), ...(remove.length > 0 ? { remove } : {}) };
  const rebuilt = patchCounters(before, patch);
  // `counters` is left out rather than empty: an empty list is put whole, so the IR comes back as it was.
  const same = rebuilt === undefined ? after === undefined : after !== undefined && sameNames(rebuilt, after);
  return same && (add.length > 0 || remove.length > 0) ? patch : { all: after === undefined ? null : [...after] };
}

function diffTable(before: IrTable, after: IrTable): TablePatch | undefined {
  const counters = diffCounters(before.counters, after.counters);
  const chains = diffNamed(before.chains, after.chains, sameChain);
  const elements: ElementPatch[] = [];
  // A map of the same type gets its elements patched; one whose type changed, or whose
  // elements cannot be patched in order, is put whole.
  const maps = diffNamed(before.maps, after.maps, (a, b) => {
    if (!sameMapType(a, b)) return false;
    if (sameElements(a.elements, b.elements)) return true;
    const patch = diffElements(a, b);
    if (patch === undefined) return false;
    elements.push(patch);
    return true;
  });
  if (chains === undefined && maps === undefined && elements.length === 0 && counters === undefined) return undefined;
  return {
    family: after.family,
    ...(chains ? { chains } : {}),
    ...(maps ? { maps } : {}),
    ...(elements.length > 0 ? { elements } : {}),
    ...(counters ? { counters } : {}),
  };
}

/** How `from` became `to`; tables by family (the agent has one table name). */
export function diffIr(from: IrRuleset, to: IrRuleset): IrPatch {
  const old = new Map(from.tables.map((t) => [t.family, t]));
  const now = new Set(to.tables.map((t) => t.family));
  const tables: TablePatch[] = [];
  for (const t of to.tables) {
    const was = old.get(t.family);
    if (was === undefined || was.name !== t.name) tables.push({ family: t.family, whole: t });
    else {
      const patch = diffTable(was, t);
      if (patch !== undefined) tables.push(patch);
    }
  }
  for (const t of from.tables) if (!now.has(t.family)) tables.push({ family: t.family, drop: true });
  const finalOrder = to.tables.map((t) => t.family);
  const implied = impliedOrder(
    from.tables.map((t) => t.family),
    finalOrder,
    new Set(from.tables.filter((t) => !now.has(t.family)).map((t) => t.family)),
  );
  return sameNames(implied, finalOrder) ? { tables } : { tables, order: finalOrder };
}

/** `list` with a NamedListPatch applied; throws when it does not fit. */
export function patchNamed<T extends { name: string }>(list: readonly T[], patch: NamedListPatch<T> | undefined, what: string): T[] {
  if (patch === undefined) return [...list];
  const removed = new Set(patch.remove ?? []);
  for (const name of removed) if (!list.some((x) => x.name === name)) throw new Error(`cannot remove ${what} ${name}: there is none`);
  const out = list.filter((x) => !removed.has(x.name));
  const index = new Map(out.map((x, i) => [x.name, i]));
  for (const x of patch.put ?? []) {
    const at = index.get(x.name);
    if (at === undefined) {
      index.set(x.name, out.length);
      out.push(x);
    } else out[at] = x;
  }
  if (patch.order === undefined) return out;
  const byName = new Map(out.map((x) => [x.name, x]));
  if (patch.order.length !== out.length) throw new Error(`the ${what} order names ${patch.order.length}, there are ${out.length}`);
  return patch.order.map((name) => {
    const x = byName.get(name);
    if (x === undefined) throw new Error(`the ${what} order names ${name}, which is not there`);
    return x;
  });
}

function patchElements(elements: readonly [string, string][], patch: ElementPatch): [string, string][] {
  const removed = new Set(patch.remove);
  const added = new Map(patch.add);
  const out: [string, string][] = [];
  for (const [k, v] of elements) {
    if (removed.has(k)) continue;
    const replaced = added.get(k);
    if (replaced !== undefined) {
      out.push([k, replaced]);
      added.delete(k);
    } else out.push([k, v]);
  }
  for (const [k, v] of added) out.push([k, v]);
  return out;
}

function patchTable(table: IrTable, patch: Extract<TablePatch, { chains?: unknown }>): IrTable {
  let maps = patchNamed(table.maps, patch.maps, "map");
  for (const e of patch.elements ?? []) {
    const at = maps.findIndex((m) => m.name === e.map);
    const map = maps[at];
    if (map === undefined) throw new Error(`ir patch: elements for map ${e.map}, which is not there`);
    maps = maps.map((m, i) => (i === at ? { ...map, elements: patchElements(map.elements, e) } : m));
  }
  const out: IrTable = { ...table, maps, chains: patchNamed(table.chains, patch.chains, "chain") };
  if (patch.counters !== undefined) {
    const counters = patchCounters(table.counters, patch.counters);
    if (counters === undefined) delete out.counters;
    else out.counters = counters;
  }
  return out;
}

/** `ir` with `patch` applied; throws when the patch does not fit `ir` (it was made for another). */
export function patchIr(ir: IrRuleset, patch: IrPatch): IrRuleset {
  let tables = [...ir.tables];
  for (const p of patch.tables) {
    const at = tables.findIndex((t) => t.family === p.family);
    if ("whole" in p) {
      if (at >= 0) tables[at] = p.whole;
      else tables.push(p.whole);
    } else if ("drop" in p) {
      if (at < 0) throw new Error(`ir patch: cannot drop table ${p.family}: there is none`);
      tables = tables.filter((_, i) => i !== at);
    } else {
      const table = tables[at];
      if (table === undefined) throw new Error(`ir patch: table ${p.family} is not there`);
      tables[at] = patchTable(table, p);
    }
  }
  if (patch.order !== undefined) {
    const byFamily = new Map(tables.map((t) => [t.family, t]));
    tables = patch.order.map((family) => {
      const t = byFamily.get(family);
      if (t === undefined) throw new Error(`ir patch: the table order names ${family}, which is not there`);
      return t;
    });
  }
  return { tables };
}
