import type { Config, Farm } from "../model/farm.ts";
import { farmPosition } from "../model/farm-index.ts";
import { buildRuleset, DEFAULT_TABLE, isFarmChain, isFarmVerdict, type BuildOptions } from "./build.ts";
import { isCounterOfFarm } from "./counters.ts";
import { addElementOp, type NftOp } from "./delta.ts";
import { mapValueOf, type IrChain, type IrMap, type IrRuleset, type IrTable } from "./ir.ts";
import { diffCounters, type ElementPatch, type IrPatch, type NamedListPatch, type TablePatch } from "./ir-patch.ts";

// The lane for a change of a few farms at 10,000: the next IR, the nft operations and the
// state journal's IR patch, computed from the previous IR by patching only the changed farms'
// chains and map elements, O(changed farms) (plus a few array copies), instead of building
// the whole IR (buildRuleset), diffing it (planDelta) and diffing it again (diffIr).
//
// Exact by construction and by test (farm-delta.unit.test.ts, over random configs and
// changes): the IR equals buildRuleset(next), element and chain order included; the ops take
// the previous IR to it as planDelta's do (the same ops, in the same order); patchIr(prev,
// patch) equals it. What each farm contributes comes from buildRuleset itself (a build of
// the farm alone), so the lane never renders a rule on its own.
//
// Not taken (the caller builds and plans in full): a change that touches a dsr farm that is
// up (before or after: dsr chains depend on host facts and live in the netdev table), a
// change that is neither farms replaced in place plus farms appended at the end nor farms
// removed, and an IR that does not look like the build of the previous config.

type Element = [key: string, value: string];

/** The inet table's chains, map elements and counter names of one farm, as buildRuleset makes them. */
interface Contribution {
  chains: readonly IrChain[];
  elements: ReadonlyMap<string, readonly Element[]>;
  counters: readonly string[];
}

const NOTHING: Contribution = { chains: [], elements: new Map(), counters: [] };

/**
 * The contributions of the farms one change touches, built once per change: not kept across
 * changes, where they would end up held for every farm ever changed (as would build's memo,
 * which the single-farm builds here skip).
 */
type Contributions = Map<Farm, Contribution>;

function contributionOf(farm: Farm | undefined, built: Contributions): Contribution {
  if (farm === undefined || farm.state !== "up" || farm.mode === "dsr") return NOTHING;
  let c = built.get(farm);
  if (c === undefined) {
    const inet = inetOf(buildRuleset({ farms: [farm] }, { memo: false }));
    const elements = new Map<string, readonly Element[]>();
    for (const map of inet.maps) if (map.elements.length > 0) elements.set(map.name, map.elements);
    c = { chains: inet.chains.slice(SKELETON.chains.length), elements, counters: inet.counters ?? [] };
    built.set(farm, c);
  }
  return c;
}

function inetOf(ir: IrRuleset): IrTable {
  const inet = ir.tables.find((t) => t.family === "inet");
  if (inet === undefined) throw new Error("buildRuleset made no inet table");
  return inet;
}

/** The inet table of no farms: the chains before every farm chain, and the maps. */
const SKELETON: IrTable = inetOf(buildRuleset({ farms: [] }));

// Where each farm's items are in an inet list of the IR (its chains, or one map's elements):
// the lists hold the farms' items farm by farm, in the config's order, after the skeleton's
// chains. starts[p] is where the items of the config's farm p begin (where they would go, for
// a farm with none), starts[n] the list's length: 4 bytes a farm and list, where a map of
// every item's key to its position cost 3.4 MB at 10,000 farms. Kept per list with the config
// it counts for, carried to the next list and config by each change in O(farms) of integer
// steps, and found again by a scan of the list when missing (a start, a change refused).
// Checked on every use: the old farm's items must be found where it says.
interface Starts {
  config: Config;
  at: Int32Array;
}

const startsByList = new WeakMap<readonly unknown[], Starts>();

/** Whether an item of a list is one of farm `farm`'s, by the names buildRuleset gives it. */
type BelongsTo<T> = (item: T, farm: string) => boolean;

const chainBelongs: BelongsTo<IrChain> = (chain, farm) => isFarmChain(chain.name, farm);

/** A service map's elements go to the farm's chain; a traffic set's are named by the farm's counters. */
const elementBelongs = (map: IrMap): BelongsTo<Element> =>
  mapValueOf(map) === "counted" ? (e, farm) => isCounterOfFarm(e[1], farm) : (e, farm) => isFarmVerdict(e[1], farm);

/** Where each farm of `config` has its items in `list`, by a scan; undefined when the list is not in the config's farm order. */
function scanStarts<T>(list: readonly T[], config: Config, belongs: BelongsTo<T>, base: number): Int32Array | undefined {
  const n = config.farms.length;
  const at = new Int32Array(n + 1);
  let i = base;
  for (let p = 0; p < n; p++) {
    at[p] = i;
    const name = (config.farms[p] as Farm).name;
    while (i < list.length && belongs(list[i] as T, name)) i++;
  }
  at[n] = i;
  return i === list.length ? at : undefined;
}

function startsOf<T>(list: readonly T[], config: Config, belongs: BelongsTo<T>, base: number): Int32Array {
  const held = startsByList.get(list);
  if (held !== undefined && held.config === config) return held.at;
  const at = scanStarts(list, config, belongs, base);
  if (at === undefined) throw new NoLane("the previous IR is not the build of the previous config");
  startsByList.set(list, { config, at });
  return at;
}

/** Replace `remove` items at `at` (in the old list) with `insert`; `order` breaks ties between edits at one place. */
interface Edit<T> {
  at: number;
  remove: number;
  insert: readonly T[];
  order: number;
  /** Filled by applyEdits: where `insert` starts in the new list. */
  newAt?: number;
}

class NoLane extends Error {}

function applyEdits<T>(list: readonly T[], edits: Edit<T>[]): readonly T[] {
  edits.sort((a, b) => a.at - b.at || (a.remove === 0 ? 0 : 1) - (b.remove === 0 ? 0 : 1) || a.order - b.order);
  let out: T[];
  let cursor = 0;
  if (edits.every((e) => e.remove === e.insert.length)) {
    // Farms changed in place (the common case): a copy with the items replaced.
    out = list.slice();
    for (const edit of edits) {
      if (edit.at < cursor) throw new NoLane("two farms' chains or elements overlap");
      edit.newAt = edit.at;
      edit.insert.forEach((item, i) => (out[edit.at + i] = item));
      cursor = edit.at + edit.remove;
    }
  } else {
    out = [];
    for (const edit of edits) {
      if (edit.at < cursor) throw new NoLane("two farms' chains or elements overlap");
      for (let i = cursor; i < edit.at; i++) out.push(list[i] as T);
      edit.newAt = out.length;
      for (const item of edit.insert) out.push(item);
      cursor = edit.at + edit.remove;
    }
    for (let i = cursor; i < list.length; i++) out.push(list[i] as T);
  }
  return out;
}

/** One touched place of the config: the farm before (if any) and after (if any). */
interface Slot {
  old: Farm | undefined;
  next: Farm | undefined;
  /** The old farm's position in the previous config (for a farm appended: none). */
  oldPos: number | undefined;
  order: number;
}

const chainKey = (c: IrChain) => c.name;
const elementKey = (e: Element) => e[0];

/** The edits of one list (the chains, or one map's elements), its farms' items found through `starts`. */
function editsOf<T>(
  list: readonly T[],
  starts: Int32Array,
  slots: readonly Slot[],
  itemsOf: (farm: Farm | undefined) => readonly T[],
  keyOf: (item: T) => string,
  same: (a: T, b: T) => boolean,
): Edit<T>[] {
  const edits: Edit<T>[] = [];
  for (const slot of slots) {
    const before = itemsOf(slot.old);
    const after = itemsOf(slot.next);
    if (before.length === 0 && after.length === 0) continue;
    // A farm appended goes at the end; any other where its old items are, or would be.
    const at = slot.oldPos === undefined ? list.length : (starts[slot.oldPos] as number);
    if (before.length > 0) {
      const old: T[] = [];
      for (let i = 0; i < before.length; i++) {
        const item = list[at + i];
        if (item === undefined || keyOf(item) !== keyOf(before[i] as T)) throw new NoLane("the previous IR is not the build of the previous config");
        old.push(item);
      }
      if (after.length === before.length && after.every((item, i) => same(old[i] as T, item))) continue;
    }
    edits.push({ at, remove: before.length, insert: after, order: slot.order });
  }
  return edits;
}

/**
 * The starts of a list after a change, for `next`: the farms it touched count the items of their
 * new contributions, the others what they had. The same array when no count changed.
 */
function nextStarts(starts: Int32Array, prev: Config, next: Config, slots: readonly Slot[], count: (farm: Farm | undefined) => number): Int32Array {
  const n = next.farms.length;
  // The common change (a state or weight): every farm keeps its count, in place.
  const counted = (s: Slot) => count(s.next) === (starts[s.order + 1] as number) - (starts[s.order] as number);
  if (n === prev.farms.length && slots.every(counted)) return starts;
  const counts = new Int32Array(n);
  if (n < prev.farms.length) {
    // Farms removed (slotsOf: every slot is one), the others kept in their order.
    const gone = new Set(slots.map((s) => s.oldPos));
    for (let p = 0, q = 0; p < prev.farms.length; p++) if (!gone.has(p)) counts[q++] = (starts[p + 1] as number) - (starts[p] as number);
  } else {
    for (let p = 0; p < prev.farms.length; p++) counts[p] = (starts[p + 1] as number) - (starts[p] as number);
    for (const slot of slots) counts[slot.order] = count(slot.next);
  }
  const at = new Int32Array(n + 1);
  at[0] = starts[0] as number;
  for (let p = 0; p < n; p++) at[p + 1] = (at[p] as number) + (counts[p] as number);
  return at;
}

const sameRules = (a: readonly string[], b: readonly string[]) => a === b || (a.length === b.length && a.every((r, i) => r === b[i]));
const sameChain = (a: IrChain, b: IrChain) => a === b || (a.name === b.name && a.hook === undefined && b.hook === undefined && sameRules(a.rules, b.rules));
const sameElement = (a: Element, b: Element) => a[0] === b[0] && a[1] === b[1];

/** The items an edit list removes and inserts, by key, with their old and new positions. */
function sides<T>(edits: readonly Edit<T>[], list: readonly T[], keyOf: (item: T) => string) {
  const removed = new Map<string, { item: T; at: number }>();
  const inserted = new Map<string, { item: T; at: number }>();
  for (const e of edits) {
    for (let i = 0; i < e.remove; i++) removed.set(keyOf(list[e.at + i] as T), { item: list[e.at + i] as T, at: e.at + i });
    e.insert.forEach((item, i) => inserted.set(keyOf(item), { item, at: (e.newAt as number) + i }));
  }
  return { removed, inserted };
}

/**
 * Whether adding and removing by key (patchNamed, patchElements: the kept in place, the new at
 * the end) turns the old list into the new one, order included.
 */
function patchable<T>(edits: readonly Edit<T>[], list: readonly T[], keyOf: (item: T) => string, removed: ReadonlyMap<string, unknown>, inserted: ReadonlyMap<string, unknown>): boolean {
  for (const e of edits) {
    const kept: string[] = [];
    for (let i = 0; i < e.remove; i++) {
      const key = keyOf(list[e.at + i] as T);
      if (inserted.has(key)) kept.push(key);
    }
    const keys = e.insert.map(keyOf);
    if (!kept.every((k, i) => keys[i] === k)) return false;
    const fresh = keys.slice(kept.length);
    if (fresh.some((k) => removed.has(k))) return false;
    if (fresh.length > 0 && e.at + e.remove !== list.length) return false;
  }
  return true;
}

export interface FarmChange {
  /** buildRuleset(next, options), element order included. */
  ir: IrRuleset;
  /** What planDelta(prevIr, ir) plans. */
  ops: NftOp[];
  /** patchIr(prevIr, patch) is `ir`. */
  patch: IrPatch;
}

export type FarmChangeResult = ({ ok: true } & FarmChange) | { ok: false; reason: string };

function slotsOf(prev: Config, next: Config, changed: Iterable<string>): Slot[] {
  const names = new Set(changed);
  if (next.farms.length < prev.farms.length) {
    // Farms removed, the others kept in their order. Found by a scan of `prev` (cheap, and a
    // removal is rare): the config index has moved on to `next` and would be rebuilt for `prev`.
    const slots: Slot[] = [];
    prev.farms.forEach((farm, pos) => {
      if (names.has(farm.name)) slots.push({ old: farm, next: undefined, oldPos: pos, order: pos });
    });
    if (next.farms.length !== prev.farms.length - slots.length) throw new NoLane("the farms removed do not account for the config's length");
    return slots;
  }
  // Farms replaced in place (renamed ones too) and appended at the end. Positions in `prev`
  // first, then in `next`: each config's index answers in turn.
  const touched = new Set<number>();
  for (const name of names) {
    const pos = farmPosition(prev, name);
    if (pos !== undefined) touched.add(pos);
  }
  for (const name of names) {
    const pos = farmPosition(next, name);
    if (pos !== undefined) touched.add(pos);
  }
  let appended = 0;
  for (const pos of touched) if (pos >= prev.farms.length) appended++;
  if (appended !== next.farms.length - prev.farms.length) throw new NoLane("the changed farms do not account for the config's length");
  return [...touched].sort((a, b) => a - b).map((pos) => {
    const old = prev.farms[pos];
    const now = next.farms[pos];
    if ((old !== undefined && !names.has(old.name)) || (now !== undefined && !names.has(now.name))) throw new NoLane("a farm changed that is not named as changed");
    return { old, next: now, oldPos: pos < prev.farms.length ? pos : undefined, order: pos };
  });
}

/**
 * The next IR, its ops and its journal patch for `next`, which is `prev` with the farms named
 * in `changed` added, changed or removed (farms replaced in place and appended at the end, or
 * farms removed; every other farm the same object), given `prevIr` = buildRuleset(prev,
 * options). O(changed farms). `{ ok: false }` with the reason when the lane does not apply:
 * the caller then builds and plans in full.
 */
export function planFarmChange(prevIr: IrRuleset, prev: Config, next: Config, changed: Iterable<string>, options: BuildOptions = {}): FarmChangeResult {
  try {
    return { ok: true, ...farmChange(prevIr, prev, next, changed, options.table ?? DEFAULT_TABLE) };
  } catch (error) {
    if (error instanceof NoLane) return { ok: false, reason: error.message };
    throw error;
  }
}

function farmChange(prevIr: IrRuleset, prev: Config, next: Config, changed: Iterable<string>, table: string): FarmChange {
  const slots = slotsOf(prev, next, changed).filter((s) => s.old !== s.next);
  const built: Contributions = new Map();
  const contribution = (farm: Farm | undefined) => contributionOf(farm, built);
  for (const s of slots) {
    for (const farm of [s.old, s.next]) {
      if (farm?.mode === "dsr" && farm.state === "up") throw new NoLane(`farm ${farm.name} is a dsr farm`);
    }
  }
  const inet = prevIr.tables.find((t) => t.family === "inet");
  if (inet === undefined || inet.name !== table) throw new NoLane("the previous IR has no inet table of the agent's");
  if (prevIr.tables.some((t) => t.name !== table)) throw new NoLane("the previous IR has another table");
  const base = SKELETON.chains.length;
  if (inet.maps.length !== SKELETON.maps.length || !inet.maps.every((m, i) => m.name === SKELETON.maps[i]?.name)) throw new NoLane("the previous IR's maps are not the builder's");
  if (!SKELETON.chains.every((c, i) => inet.chains[i]?.name === c.name)) throw new NoLane("the previous IR's base chains are not the builder's");

  const at = { family: "inet" as const, table };
  const addObjects: NftOp[] = [];
  const flushes: NftOp[] = [];
  const deleteElements: NftOp[] = [];
  const deleteChains: NftOp[] = [];
  const addElements: NftOp[] = [];
  const addRules: NftOp[] = [];
  const tablePatch: Extract<TablePatch, { chains?: unknown }> = { family: "inet" };

  // Chains.
  const chainsOf = (farm: Farm | undefined) => contribution(farm).chains;
  const chainStarts = startsOf(inet.chains, prev, chainBelongs, base);
  const chainEdits = editsOf(inet.chains, chainStarts, slots, chainsOf, chainKey, sameChain);
  let chains = inet.chains;
  if (chainEdits.length > 0) {
    chains = applyEdits(inet.chains, chainEdits) as IrChain[];
    const { removed, inserted } = sides(chainEdits, inet.chains, chainKey);
    const byOld = [...removed].sort((a, b) => a[1].at - b[1].at);
    const byNew = [...inserted].sort((a, b) => a[1].at - b[1].at);
    const refill = new Set<string>();
    for (const [name, { item }] of byNew) {
      if (item.hook !== undefined) throw new NoLane(`chain ${name} has a hook`);
      if (!removed.has(name)) addObjects.push({ op: "add chain", ...at, chain: name });
    }
    for (const [name, { item }] of byOld) {
      const now = inserted.get(name)?.item;
      if (now === undefined) flushes.push({ op: "flush chain", ...at, chain: name });
      else if (!sameRules(item.rules, now.rules)) {
        flushes.push({ op: "flush chain", ...at, chain: name });
        refill.add(name);
      }
    }
    for (const [name] of byOld) if (!inserted.has(name)) deleteChains.push({ op: "delete chain", ...at, chain: name });
    for (const [name, { item }] of byNew) {
      if (!removed.has(name) || refill.has(name)) for (const rule of item.rules) addRules.push({ op: "add rule", ...at, chain: name, rule });
    }
    const put = byNew.filter(([name, { item }]) => {
      const was = removed.get(name)?.item;
      return was === undefined || !(was === item || (was.hook === item.hook && sameRules(was.rules, item.rules)));
    });
    const remove = byOld.filter(([name]) => !inserted.has(name)).map(([name]) => name);
    const patch: NamedListPatch<IrChain> = {
      ...(put.length > 0 ? { put: put.map(([, { item }]) => item) } : {}),
      ...(remove.length > 0 ? { remove } : {}),
    };
    if (!patchable(chainEdits, inet.chains, chainKey, removed, inserted)) patch.order = chains.map(chainKey);
    if (patch.put !== undefined || patch.remove !== undefined || patch.order !== undefined) tablePatch.chains = patch;
  }

  startsByList.set(chains, { config: next, at: nextStarts(chainStarts, prev, next, slots, (farm) => chainsOf(farm).length) });

  // Map elements, map by map in the table's order.
  const putMaps: IrMap[] = [];
  const elementPatches: ElementPatch[] = [];
  const maps = inet.maps.map((map) => {
    const elementsOf = (farm: Farm | undefined) => contribution(farm).elements.get(map.name) ?? [];
    const starts = startsOf(map.elements, prev, elementBelongs(map), 0);
    const edits = editsOf(map.elements, starts, slots, elementsOf, elementKey, sameElement);
    const carried = nextStarts(starts, prev, next, slots, (farm) => elementsOf(farm).length);
    if (edits.length === 0) {
      startsByList.set(map.elements, { config: next, at: carried });
      return map;
    }
    const elements = applyEdits(map.elements, edits) as Element[];
    startsByList.set(elements, { config: next, at: carried });
    const { removed, inserted } = sides(edits, map.elements, elementKey);
    const stale = [...removed].filter(([key, { item }]) => inserted.get(key)?.item[1] !== item[1]).sort((a, b) => a[1].at - b[1].at);
    const fresh = [...inserted].filter(([key, { item }]) => removed.get(key)?.item[1] !== item[1]).sort((a, b) => a[1].at - b[1].at);
    if (stale.length > 0) deleteElements.push({ op: "delete element", ...at, map: map.name, keys: stale.map(([key]) => key) });
    if (fresh.length > 0) addElements.push(addElementOp(at, map, fresh.map(([k, { item }]) => [k, item[1]])));
    const nextMap: IrMap = { ...map, elements };
    if (patchable(edits, map.elements, elementKey, removed, inserted)) {
      const remove = [...removed.keys()].filter((k) => !inserted.has(k));
      if (fresh.length > 0 || remove.length > 0) elementPatches.push({ map: map.name, add: fresh.map(([k, { item }]) => [k, item[1]]), remove });
    } else putMaps.push(nextMap);
    return nextMap;
  });
  if (putMaps.length > 0) tablePatch.maps = { put: putMaps };
  if (elementPatches.length > 0) tablePatch.elements = elementPatches;

  // Counter names: one list in farm order too (a backend's, whatever its state). planDelta adds
  // the new ones before any chain, in the new list's order, and deletes the old ones after the
  // elements, in the old list's order.
  const counterList = inet.counters ?? [];
  const countersOf = (farm: Farm | undefined) => contribution(farm).counters;
  const counterStarts = startsOf(counterList, prev, isCounterOfFarm, 0);
  const counterEdits = editsOf(counterList, counterStarts, slots, countersOf, (c) => c, (a, b) => a === b);
  let counters = inet.counters;
  const addCounters: NftOp[] = [];
  const deleteCounters: NftOp[] = [];
  if (counterEdits.length > 0) {
    const list = applyEdits(counterList, counterEdits) as string[];
    const { removed, inserted } = sides(counterEdits, counterList, (c) => c);
    for (const [name] of [...inserted].sort((a, b) => a[1].at - b[1].at)) if (!removed.has(name)) addCounters.push({ op: "add counter", ...at, counter: name });
    for (const [name] of [...removed].sort((a, b) => a[1].at - b[1].at)) if (!inserted.has(name)) deleteCounters.push({ op: "delete counter", ...at, counter: name });
    counters = list.length > 0 ? list : undefined;
    const patch = diffCounters(inet.counters, counters);
    if (patch !== undefined) tablePatch.counters = patch;
  }
  if (counters !== undefined) startsByList.set(counters, { config: next, at: nextStarts(counterStarts, prev, next, slots, (farm) => countersOf(farm).length) });

  const nextInet: IrTable = { family: inet.family, name: inet.name, maps, chains: chains as IrChain[], ...(counters !== undefined ? { counters } : {}) };
  const ir: IrRuleset = { tables: prevIr.tables.map((t) => (t === inet ? nextInet : t)) };
  const ops = [...addCounters, ...addObjects, ...flushes, ...deleteElements, ...deleteCounters, ...deleteChains, ...addElements, ...addRules];
  const changedTable = tablePatch.chains !== undefined || tablePatch.maps !== undefined || tablePatch.elements !== undefined || tablePatch.counters !== undefined;
  return { ir, ops, patch: { tables: changedTable ? [tablePatch] : [] } };
}

/**
 * Finds where each farm's chains and map elements are in `ir`, the build of `config` (O(n) once),
 * so that the first change after a start does not pay for it.
 */
export function prepareFarmChange(ir: IrRuleset, config: Config): void {
  const inet = ir.tables.find((t) => t.family === "inet");
  if (inet === undefined) return;
  const found = (list: readonly unknown[], at: Int32Array | undefined) => {
    if (at !== undefined) startsByList.set(list, { config, at });
  };
  found(inet.chains, scanStarts(inet.chains, config, chainBelongs, SKELETON.chains.length));
  if (inet.counters !== undefined) found(inet.counters, scanStarts(inet.counters, config, isCounterOfFarm, 0));
  for (const map of inet.maps) found(map.elements, scanStarts(map.elements, config, elementBelongs(map), 0));
}
