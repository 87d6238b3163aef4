import { FORBIDDEN_WORDS, referencesOf, textProblems, verdictTarget } from "./guard.ts";
import { COUNTER_NAME, mapValueOf, OWNED_FAMILIES, sameMapType, type IrChain, type IrHook, type IrMap, type IrRuleset, type IrTable, type TableFamily } from "./ir.ts";
import type { IrPatch, TablePatch } from "./ir-patch.ts";

// IR -> IR diff -> nft transaction. planDelta works out the typed operations that take the
// kernel from the ruleset the agent applied to the desired one; renderOps writes them as
// one nft script (one command per line) for a single `nft -f -`: one atomic transaction.
// Both are pure. The caller checks the desired IR with checkIr before planning.

interface At {
  family: TableFamily;
  table: string;
}

/** One nft command, knftables style: the verb and the object, then what names it. */
export type NftOp =
  | (At & { op: "add table" })
  | (At & { op: "delete table" })
  | (At & { op: "add chain"; chain: string; hook?: IrHook })
  | (At & { op: "delete chain"; chain: string })
  | (At & { op: "flush chain"; chain: string })
  | (At & { op: "add rule"; chain: string; rule: string })
  | (At & { op: "add map"; map: string; key: string; interval: boolean; value?: "counter" | "counted" })
  | (At & { op: "delete map"; map: string })
  | (At & { op: "add counter"; counter: string })
  | (At & { op: "delete counter"; counter: string })
  /** `counted`: the map is a counted set, whose elements go to nft as their keys alone (see IrMapValueSchema). */
  | (At & { op: "add element"; map: string; elements: [key: string, value: string][]; counted?: true })
  | (At & { op: "delete element"; map: string; keys: string[] });

/** Elements go into as few commands as fit in lines shorter than this (nft reads any length; this keeps errors readable). */
export const MAX_ELEMENT_LINE = 60_000;

const sameHook = (a: IrHook | undefined, b: IrHook | undefined): boolean =>
  a === undefined || b === undefined
    ? a === b
    : a.type === b.type && a.hook === b.hook && a.priority === b.priority && a.device === b.device;

// Identity first: core's builder hands back the same chain object for a farm that did not change.
const sameRules = (a: readonly string[], b: readonly string[]): boolean => a === b || (a.length === b.length && a.every((rule, i) => rule === b[i]));

// IR lists are never edited in place, so an index by name is kept with the list: the IR
// planned *to* now is the one planned *from* next time.
const nameIndexes = new WeakMap<readonly { name: string }[], Map<string, unknown>>();

function byName<T extends { name: string }>(items: readonly T[]): Map<string, T> {
  let index = nameIndexes.get(items) as Map<string, T> | undefined;
  if (index === undefined) {
    index = new Map(items.map((item) => [item.name, item]));
    nameIndexes.set(items, index);
  }
  return index;
}

/** The phases of one transaction, in the order nft and the kernel accept them (see planDelta). */
class Plan {
  readonly addTables: NftOp[] = [];
  readonly addObjects: NftOp[] = [];
  readonly flushes: NftOp[] = [];
  readonly deleteElements: NftOp[] = [];
  readonly deleteMaps: NftOp[] = [];
  readonly deleteCounters: NftOp[] = [];
  readonly deleteChains: NftOp[] = [];
  readonly readd: NftOp[] = [];
  readonly addElements: NftOp[] = [];
  readonly addRules: NftOp[] = [];
  readonly deleteTables: NftOp[] = [];

  ops(): NftOp[] {
    return [
      ...this.addTables,
      ...this.addObjects,
      ...this.flushes,
      ...this.deleteElements,
      ...this.deleteMaps,
      ...this.deleteCounters,
      ...this.deleteChains,
      ...this.readd,
      ...this.addElements,
      ...this.addRules,
      ...this.deleteTables,
    ];
  }
}

const addChainOp = (at: At, chain: IrChain): NftOp =>
  chain.hook === undefined ? { op: "add chain", ...at, chain: chain.name } : { op: "add chain", ...at, chain: chain.name, hook: { ...chain.hook } };

// A verdict map's op has no `value`, as before counter maps.
const addMapOp = (at: At, map: IrMap): NftOp => {
  const value = mapValueOf(map);
  return value === "verdict" ? { op: "add map", ...at, map: map.name, key: map.key, interval: map.interval } : { op: "add map", ...at, map: map.name, key: map.key, interval: map.interval, value };
};

/** An add of `elements` to `map`, marked when the map is a counted set. */
export const addElementOp = (at: At, map: IrMap, elements: [key: string, value: string][]): NftOp =>
  mapValueOf(map) === "counted" ? { op: "add element", ...at, map: map.name, elements, counted: true } : { op: "add element", ...at, map: map.name, elements };

function addRules(plan: Plan, at: At, chain: IrChain): void {
  for (const rule of chain.rules) plan.addRules.push({ op: "add rule", ...at, chain: chain.name, rule });
}

function addAllElements(plan: Plan, at: At, map: IrMap): void {
  if (map.elements.length > 0) plan.addElements.push(addElementOp(at, map, map.elements.map(([k, v]) => [k, v])));
}

const samePairs = (a: IrMap["elements"], b: IrMap["elements"]): boolean =>
  a.length === b.length &&
  a.every((pair, i) => {
    const other = b[i] as IrMap["elements"][number];
    return pair === other || (pair[0] === other[0] && pair[1] === other[1]);
  });

const sameList = (a: readonly string[], b: readonly string[]): boolean => a === b || (a.length === b.length && a.every((x, i) => x === b[i]));

function planNewTable(plan: Plan, to: IrTable): void {
  const at = { family: to.family, table: to.name };
  plan.addTables.push({ op: "add table", ...at });
  for (const counter of to.counters ?? []) plan.addObjects.push({ op: "add counter", ...at, counter });
  for (const chain of to.chains) plan.addObjects.push(addChainOp(at, chain));
  for (const map of to.maps) {
    plan.addObjects.push(addMapOp(at, map));
    addAllElements(plan, at, map);
  }
  for (const chain of to.chains) addRules(plan, at, chain);
}

function planTable(plan: Plan, from: IrTable, to: IrTable): void {
  const at = { family: to.family, table: to.name };
  const fromChains = byName(from.chains);
  const toChains = byName(to.chains);
  const fromMaps = byName(from.maps);
  const toMaps = byName(to.maps);

  // Deleted in this transaction: gone from `to`, or re-created because their definition
  // changed (a chain's hook, a map's key type or interval flag cannot be changed in place).
  const deletedChains = new Set<string>();
  const replacedChains = new Set<string>();
  for (const chain of from.chains) {
    const next = toChains.get(chain.name);
    if (next === undefined) deletedChains.add(chain.name);
    else if (!sameHook(chain.hook, next.hook)) {
      deletedChains.add(chain.name);
      replacedChains.add(chain.name);
    }
  }
  const deletedMaps = new Set<string>();
  const replacedMaps = new Set<string>();
  for (const map of from.maps) {
    const next = toMaps.get(map.name);
    if (next === undefined) deletedMaps.add(map.name);
    else if (!sameMapType(map, next)) {
      deletedMaps.add(map.name);
      replacedMaps.add(map.name);
    }
  }

  // Counters by name: a counter that stays is never touched, so it keeps counting across any
  // number of refills of the chains that use it.
  const fromCounters = from.counters ?? [];
  const toCounters = to.counters ?? [];
  const deletedCounters = new Set<string>();
  if (!sameList(fromCounters, toCounters)) {
    const before = new Set(fromCounters);
    const after = new Set(toCounters);
    for (const counter of toCounters) if (!before.has(counter)) plan.addObjects.push({ op: "add counter", ...at, counter });
    for (const counter of fromCounters) if (!after.has(counter)) deletedCounters.add(counter);
  }

  // New chains and maps, empty: every rule and element added later may refer to them.
  for (const chain of to.chains) if (!fromChains.has(chain.name)) plan.addObjects.push(addChainOp(at, chain));
  for (const map of to.maps) if (!fromMaps.has(map.name)) plan.addObjects.push(addMapOp(at, map));

  // Flush every chain whose rules change, and every chain whose current rules refer to a
  // chain, map or counter deleted here (the kernel refuses to delete what a rule still refers to).
  // Chains about to be deleted are flushed too, so that they no longer hold references to
  // each other or to maps when the deletions come.
  const refill = new Set<string>();
  const deletesAny = deletedChains.size > 0 || deletedMaps.size > 0 || deletedCounters.size > 0;
  const refersToDeleted = (rule: string) => {
    const r = referencesOf(rule);
    return r.chains.some((c) => deletedChains.has(c)) || r.maps.some((m) => deletedMaps.has(m)) || r.counters.some((c) => deletedCounters.has(c));
  };
  for (const chain of from.chains) {
    const next = toChains.get(chain.name);
    if (next === undefined || replacedChains.has(chain.name)) {
      plan.flushes.push({ op: "flush chain", ...at, chain: chain.name });
      continue;
    }
    if (!sameRules(chain.rules, next.rules) || (deletesAny && chain.rules.some(refersToDeleted))) {
      plan.flushes.push({ op: "flush chain", ...at, chain: chain.name });
      refill.add(chain.name);
    }
  }

  // Elements of the maps that stay: by key. A changed value is a delete and an add (the
  // kernel refuses to overwrite an element), and so is an unchanged `goto` whose chain is
  // re-created here.
  for (const map of to.maps) {
    const old = fromMaps.get(map.name);
    if (old === undefined || replacedMaps.has(map.name)) continue;
    // Two lists of the same pairs in the same order are the same elements: one pass (the builder
    // hands back the very same pair for a farm that did not change), where comparing by key
    // builds two maps of 40,000 elements at 10,000 farms.
    if (deletedChains.size === 0 && (old.elements === map.elements || samePairs(old.elements, map.elements))) continue;
    const before = new Map(old.elements);
    const after = new Map(map.elements);
    const stale: string[] = [];
    for (const [key, value] of before) {
      const target = verdictTarget(value);
      if (after.get(key) !== value || (target !== undefined && deletedChains.has(target))) stale.push(key);
    }
    const staleSet = new Set(stale);
    const fresh = map.elements.filter(([key]) => !before.has(key) || staleSet.has(key));
    if (stale.length > 0) plan.deleteElements.push({ op: "delete element", ...at, map: map.name, keys: stale });
    if (fresh.length > 0) plan.addElements.push(addElementOp(at, map, fresh.map(([k, v]) => [k, v])));
  }

  // Deletions: maps first (their elements may `goto` a chain deleted next), counters (no rule
  // uses them once the flushes above ran), then chains.
  for (const map of from.maps) if (deletedMaps.has(map.name)) plan.deleteMaps.push({ op: "delete map", ...at, map: map.name });
  for (const counter of fromCounters) if (deletedCounters.has(counter)) plan.deleteCounters.push({ op: "delete counter", ...at, counter });
  for (const chain of from.chains) if (deletedChains.has(chain.name)) plan.deleteChains.push({ op: "delete chain", ...at, chain: chain.name });

  // Re-created chains and maps, with their new definition, before any element or rule.
  for (const chain of to.chains) if (replacedChains.has(chain.name)) plan.readd.push(addChainOp(at, chain));
  for (const map of to.maps) {
    if (!fromMaps.has(map.name) || replacedMaps.has(map.name)) {
      if (replacedMaps.has(map.name)) plan.readd.push(addMapOp(at, map));
      addAllElements(plan, at, map);
    }
  }

  for (const chain of to.chains) {
    if (!fromChains.has(chain.name) || replacedChains.has(chain.name) || refill.has(chain.name)) addRules(plan, at, chain);
  }
}

function tablesByFamily(ir: IrRuleset, table: string): Map<TableFamily, IrTable> {
  const out = new Map<TableFamily, IrTable>();
  for (const t of ir.tables) {
    if (t.name !== table) throw new Error(`planDelta: table ${t.family} ${t.name} is not the agent's table (${table})`);
    if (out.has(t.family)) throw new Error(`planDelta: two ${t.family} tables named ${table}`);
    out.set(t.family, t);
  }
  return out;
}

/**
 * The operations that take the kernel from `from` (what the agent applied; null when it does
 * not know) to `to`, as one transaction. From null: every owned table is reset (`add table`
 * then `delete table`, so that the delete cannot fail) and `to` is added whole, like
 * renderReplaceScript. Otherwise the smallest diff: tables, chains and maps by name, elements
 * by key, counters by name, a chain's rules as one list (a changed chain is flushed and
 * refilled). Counters that stay are never touched: they keep their counts.
 *
 * Order, which the kernel checks operation by operation inside the transaction:
 *  1. add new tables, then new counters, chains (empty, with their hook) and maps (empty);
 *  2. flush changed chains, chains about to be deleted, and chains whose rules refer to a
 *     chain, map or counter deleted below;
 *  3. delete stale elements of the maps that stay;
 *  4. delete removed (and re-created) maps, then removed counters, then chains: nothing
 *     refers to them any more;
 *  5. add the re-created chains and maps with their new definition;
 *  6. add elements, then rules: everything they refer to exists now;
 *  7. delete removed tables (with all they hold).
 */
export function planDelta(from: IrRuleset | null, to: IrRuleset, table: string): NftOp[] {
  const plan = new Plan();
  const next = tablesByFamily(to, table);
  if (from === null) {
    for (const family of OWNED_FAMILIES) {
      plan.addTables.push({ op: "add table", family, table });
      plan.addTables.push({ op: "delete table", family, table });
    }
    for (const family of OWNED_FAMILIES) {
      const t = next.get(family);
      if (t !== undefined) planNewTable(plan, t);
    }
    return plan.ops();
  }
  const prev = tablesByFamily(from, table);
  for (const family of OWNED_FAMILIES) {
    const before = prev.get(family);
    const after = next.get(family);
    if (after === undefined) {
      if (before !== undefined) plan.deleteTables.push({ op: "delete table", family, table });
    } else if (before === undefined) planNewTable(plan, after);
    else planTable(plan, before, after);
  }
  return plan.ops();
}

export function isEmptyDelta(ops: readonly NftOp[]): boolean {
  return ops.length === 0;
}

function hookSpec(hook: IrHook): string {
  const device = hook.device === undefined ? "" : ` device "${hook.device}"`;
  return ` { type ${hook.type} hook ${hook.hook}${device} priority ${hook.priority}; policy accept; }`;
}

/** Splits `items` into groups whose joined text (with ", ") stays under `max` characters; never an empty group. */
function chunks(items: readonly string[], max: number): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const item of items) {
    if (current.length > 0 && size + 2 + item.length > max) {
      out.push(current);
      current = [];
      size = 0;
    }
    size += (current.length > 0 ? 2 : 0) + item.length;
    current.push(item);
  }
  if (current.length > 0) out.push(current);
  return out;
}

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_.-]{0,127}$/;
const KEY_TYPE = /^[a-z0-9_]+( \. [a-z0-9_]+)*$/;
const DEVICE = /^[A-Za-z0-9_.-]{1,15}$/;

/** Refuses to render an operation whose names or text could not stay one command on one line. */
function assertRenderable(op: NftOp): void {
  const names = [op.table, "chain" in op ? op.chain : undefined, "map" in op ? op.map : undefined];
  for (const name of names) {
    if (name !== undefined && !IDENTIFIER.test(name)) throw new Error(`renderOps: ${op.op} ${op.family}: ${JSON.stringify(name)} is not an nft identifier`);
  }
  const bad = (what: string) => new Error(`renderOps: ${op.op} ${op.family} ${op.table}: ${what}`);
  if (op.op === "add chain" && op.hook !== undefined) {
    if (op.hook.device !== undefined && !DEVICE.test(op.hook.device)) throw bad(`device ${JSON.stringify(op.hook.device)} is not an interface name`);
    if (!Number.isInteger(op.hook.priority)) throw bad(`priority ${op.hook.priority} is not an integer`);
  }
  if ((op.op === "add counter" || op.op === "delete counter") && (!COUNTER_NAME.test(op.counter) || FORBIDDEN_WORDS.includes(op.counter.toLowerCase()))) {
    throw bad(`${JSON.stringify(op.counter)} is not a counter name`);
  }
  if (op.op === "add map" && !KEY_TYPE.test(op.key)) throw bad(`key type ${JSON.stringify(op.key)} is not an nft type expression`);
  const texts =
    op.op === "add rule" ? [op.rule] : op.op === "add element" ? op.elements.flat() : op.op === "delete element" ? op.keys : [];
  for (const text of texts) {
    const problems = textProblems(text);
    if (problems.length > 0) throw bad(`${JSON.stringify(text)} ${problems.join(", ")}`);
  }
}

/** The nft script of a transaction: one command per line, the same bytes for the same ops. */
export function renderOps(ops: readonly NftOp[]): string {
  const lines: string[] = [];
  for (const op of ops) {
    assertRenderable(op);
    const where = `${op.family} ${op.table}`;
    switch (op.op) {
      case "add table":
      case "delete table":
        lines.push(`${op.op} ${where}`);
        break;
      case "add chain":
        lines.push(`add chain ${where} ${op.chain}${op.hook === undefined ? "" : hookSpec(op.hook)}`);
        break;
      case "delete chain":
      case "flush chain":
        lines.push(`${op.op} ${where} ${op.chain}`);
        break;
      case "add rule":
        lines.push(`add rule ${where} ${op.chain} ${op.rule}`);
        break;
      case "add map":
        lines.push(
          op.value === "counted"
            ? `add set ${where} ${op.map} { type ${op.key};${op.interval ? " flags interval;" : ""} counter; }`
            : `add map ${where} ${op.map} { type ${op.key} : ${op.value ?? "verdict"};${op.interval ? " flags interval;" : ""} }`,
        );
        break;
      case "delete map":
        lines.push(`delete map ${where} ${op.map}`);
        break;
      case "add counter":
      case "delete counter":
        lines.push(`${op.op} ${where} ${op.counter}`);
        break;
      case "add element":
      case "delete element": {
        const items = op.op === "delete element" ? op.keys : op.counted ? op.elements.map(([k]) => k) : op.elements.map(([k, v]) => `${k} : ${v}`);
        const prefix = `${op.op} ${where} ${op.map} { `;
        for (const group of chunks(items, MAX_ELEMENT_LINE - prefix.length - 2)) lines.push(`${prefix}${group.join(", ")} }`);
        break;
      }
    }
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/**
 * planDelta(from, to, table) for `to = patchIr(from, patch)`, in O(what the patch touches) when
 * it only puts chains and maps that keep their hook and type, adds and removes elements, and
 * adds counters: planTable then runs over just those chains and maps (the others are the same
 * objects in both, for which planDelta plans nothing). Anything else (a table added, dropped or
 * put whole, anything removed or reordered, a chain or map re-created) is planned by planDelta.
 * For a patch from diffIr the operations are planDelta's, in its order (tested); for any other,
 * the same operations, possibly in another order within a phase.
 */
export function planPatch(from: IrRuleset, patch: IrPatch, to: IrRuleset, table: string): NftOp[] {
  const prev = tablesByFamily(from, table);
  const next = tablesByFamily(to, table);
  const families = patch.tables.map((p) => p.family);
  if (new Set(families).size !== families.length) return planDelta(from, to, table);
  const parts: [IrTable, IrTable][] = [];
  for (const p of patch.tables) {
    const before = prev.get(p.family);
    const after = next.get(p.family);
    if (before === undefined || after === undefined || "whole" in p || "drop" in p) return planDelta(from, to, table);
    const sub = touchedParts(before, after, p);
    if (sub === null) return planDelta(from, to, table);
    parts.push(sub);
  }
  const plan = new Plan();
  // In planDelta's order of tables.
  for (const family of OWNED_FAMILIES) for (const [before, after] of parts) if (after.family === family) planTable(plan, before, after);
  return plan.ops();
}

/** The chains, maps and added counters of one table patch, before and after; null when planTable over them would not be planDelta's plan. */
function touchedParts(from: IrTable, to: IrTable, p: Extract<TablePatch, { chains?: unknown }>): [IrTable, IrTable] | null {
  if ((p.chains?.remove?.length ?? 0) > 0 || p.chains?.order !== undefined) return null;
  if ((p.maps?.remove?.length ?? 0) > 0 || p.maps?.order !== undefined) return null;
  if (p.counters !== undefined && ("all" in p.counters || (p.counters.remove?.length ?? 0) > 0)) return null;
  const fromChains = byName(from.chains);
  const toChains = new Map<string, IrChain>();
  for (const chain of p.chains?.put ?? []) toChains.set(chain.name, chain);
  const chainsBefore: IrChain[] = [];
  for (const [name, chain] of toChains) {
    const old = fromChains.get(name);
    if (old === undefined) continue;
    if (!sameHook(old.hook, chain.hook)) return null;
    chainsBefore.push(old);
  }
  const fromMaps = byName(from.maps);
  const touched = new Set([...(p.maps?.put ?? []).map((m) => m.name), ...(p.elements ?? []).map((e) => e.map)]);
  const mapsAfter = to.maps.filter((m) => touched.has(m.name));
  const mapsBefore: IrMap[] = [];
  for (const map of mapsAfter) {
    const old = fromMaps.get(map.name);
    if (old === undefined) continue;
    if (!sameMapType(old, map)) return null;
    mapsBefore.push(old);
  }
  // Only the added counters: planTable adds those of `to` that `from` does not have, in order.
  const added = p.counters?.add ?? [];
  return [
    { family: from.family, name: from.name, chains: chainsBefore, maps: mapsBefore },
    { family: to.family, name: to.name, chains: [...toChains.values()], maps: mapsAfter, ...(added.length > 0 ? { counters: added } : {}) },
  ];
}
