import type { z } from "zod";
import { claimKeysOf, claimOverlap, claimOverlapMessage, duplicateNameMessage, portsOf, type Config, type Farm } from "./farm.ts";

// An index of a config's farms for the checks across farms (unique names, no two farms on one
// service) and for finding a farm by name, kept per config object and carried from one config
// to the next: a change that replaces or appends a few farms updates it in O(those farms)
// instead of O(all farms). crossFarmIssuesAfter answers exactly what crossFarmIssues answers
// (the same issues, messages and order); the property test in farm-index.unit.test.ts
// compares them over random configs and changes.
//
// Configs are never edited in place. A change is described by the positions it touched: the
// farms at other positions must be the same objects in both configs, and the configs may
// differ in length only by farms appended (or cut) at the end. A change that does not fit
// (a farm removed from the middle shifts every position after it) rebuilds the index, O(n).

/** One service key claimed by the farm at `pos` (its `keyIdx`-th key), with the earlier farm of the key it overlaps first. */
interface Member {
  pos: number;
  farm: Farm;
  keyIdx: number;
  addr: string;
  first: Member | null;
}

interface Group {
  /** In config order (by pos). */
  members: Member[];
  /** How many members have an overlap (first !== null). */
  bad: number;
}

interface Index {
  /** The config this index describes now; the index moves to the next config of a change. */
  owner: Config;
  /** Where each name is: its position, or its positions ascending when farms share it (a duplicate). */
  names: Map<string, number | number[]>;
  dupNames: Set<string>;
  /** The farms of each service key: most keys have one farm, held as its member itself. */
  groups: Map<string, Member | Group>;
  badGroups: Set<string>;
  /** The change that made `owner` from `from`, so that `from` can have the index back (a refused change). */
  undo: { from: Config; touched: readonly number[] } | null;
}

const holders = new WeakMap<Config, Index>();

function lowerBound(members: readonly Member[], pos: number): number {
  let lo = 0;
  let hi = members.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((members[mid] as Member).pos < pos) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function firstOverlap(members: readonly Member[], upTo: number, member: Member): Member | null {
  const ports = portsOf(member.farm);
  for (let j = 0; j < upTo; j++) {
    const other = members[j] as Member;
    if (claimOverlap(member.farm, ports, portsOf(other.farm)) !== null) return other;
  }
  return null;
}

function setFirst(index: Index, key: string, group: Group, member: Member, first: Member | null): void {
  if ((member.first === null) !== (first === null)) group.bad += first === null ? -1 : 1;
  member.first = first;
  if (group.bad > 0) index.badGroups.add(key);
  else index.badGroups.delete(key);
}

/** The group of a key that holds one member or more (one member alone never overlaps). */
function groupOf(held: Member | Group): Group {
  return "members" in held ? held : { members: [held], bad: 0 };
}

function addClaims(index: Index, farm: Farm, pos: number): void {
  claimKeysOf(farm).forEach(([addr, key], keyIdx) => {
    const member: Member = { pos, farm, keyIdx, addr, first: null };
    const held = index.groups.get(key);
    if (held === undefined) {
      index.groups.set(key, member);
      return;
    }
    const group = groupOf(held);
    index.groups.set(key, group);
    const { members } = group;
    const at = lowerBound(members, pos);
    members.splice(at, 0, member);
    setFirst(index, key, group, member, firstOverlap(members, at, member));
    // A later member now overlaps this one first if it overlaps it and nothing earlier.
    for (let j = at + 1; j < members.length; j++) {
      const later = members[j] as Member;
      if (later.first !== null && later.first.pos < pos) continue;
      if (claimOverlap(later.farm, portsOf(later.farm), portsOf(farm)) !== null) setFirst(index, key, group, later, member);
    }
  });
}

function removeClaims(index: Index, farm: Farm, pos: number): void {
  for (const [, key] of claimKeysOf(farm)) {
    const held = index.groups.get(key);
    if (held === undefined) continue;
    if (!("members" in held)) {
      if (held.pos === pos) index.groups.delete(key);
      continue;
    }
    const group = held;
    const { members } = group;
    const at = lowerBound(members, pos);
    const member = members[at];
    if (member === undefined || member.pos !== pos) continue;
    setFirst(index, key, group, member, null);
    members.splice(at, 1);
    // Members that overlapped it first look again.
    for (let j = at; j < members.length; j++) {
      const later = members[j] as Member;
      if (later.first === member) setFirst(index, key, group, later, firstOverlap(members, j, later));
    }
    if (members.length === 0) index.groups.delete(key);
    else if (members.length === 1 && group.bad === 0) index.groups.set(key, members[0] as Member);
  }
}

function addName(index: Index, name: string, pos: number): void {
  const held = index.names.get(name);
  if (held === undefined) {
    index.names.set(name, pos);
    return;
  }
  const positions = typeof held === "number" ? [held] : held;
  index.names.set(name, positions);
  let at = positions.length;
  while (at > 0 && (positions[at - 1] as number) > pos) at--;
  positions.splice(at, 0, pos);
  index.dupNames.add(name);
}

function removeName(index: Index, name: string, pos: number): void {
  const held = index.names.get(name);
  if (held === undefined) return;
  const positions = typeof held === "number" ? [held] : held;
  const at = positions.indexOf(pos);
  if (at >= 0) positions.splice(at, 1);
  if (positions.length === 0) index.names.delete(name);
  else if (positions.length === 1) index.names.set(name, positions[0] as number);
  if (positions.length <= 1) index.dupNames.delete(name);
}

function build(config: Config): Index {
  const index: Index = { owner: config, names: new Map(), dupNames: new Set(), groups: new Map(), badGroups: new Set(), undo: null };
  config.farms.forEach((farm, pos) => {
    addName(index, farm.name, pos);
    addClaims(index, farm, pos);
  });
  holders.set(config, index);
  return index;
}

/** Whether `touched` describes how `from` became `to` as far as lengths go: every position past the shorter is touched. */
function fits(from: Config, to: Config, touched: ReadonlySet<number>): boolean {
  const short = Math.min(from.farms.length, to.farms.length);
  const long = Math.max(from.farms.length, to.farms.length);
  if (long - short > touched.size) return false;
  for (let pos = short; pos < long; pos++) if (!touched.has(pos)) return false;
  for (const pos of touched) if (!Number.isInteger(pos) || pos < 0 || pos >= long) return false;
  return true;
}

/** Moves `index` from its owner to `to`, changed at the `touched` positions. */
function move(index: Index, to: Config, touched: readonly number[]): void {
  const from = index.owner;
  const sorted = [...new Set(touched)].sort((a, b) => a - b);
  const changed = sorted.filter((pos) => from.farms[pos] !== to.farms[pos]);
  for (const pos of changed) {
    const old = from.farms[pos];
    if (old === undefined) continue;
    removeName(index, old.name, pos);
    removeClaims(index, old, pos);
  }
  for (const pos of changed) {
    const farm = to.farms[pos];
    if (farm === undefined) continue;
    addName(index, farm.name, pos);
    addClaims(index, farm, pos);
  }
  index.owner = to;
  index.undo = { from, touched: sorted };
  holders.set(to, index);
}

/** The index of `config`: its own, the one of the change it was made from or into (moved back), or a new one. */
function indexOf(config: Config): Index {
  const held = holders.get(config);
  if (held !== undefined) {
    if (held.owner === config) return held;
    // `config` was the start of the index's last change (the change was refused or rolled back).
    // Moving back records the way forward again as its own undo.
    if (held.undo !== null && held.undo.from === config) {
      move(held, config, held.undo.touched);
      return held;
    }
  }
  return build(config);
}

/**
 * The index of `to`, made from the index of `from` when `to` is `from` changed at the
 * `touched` positions (farms replaced in place, appended or cut at the end); from scratch otherwise.
 */
function derive(from: Config, to: Config, touched: readonly number[]): Index {
  const held = holders.get(to);
  if (held !== undefined && held.owner === to) return held;
  if (!fits(from, to, new Set(touched))) return build(to);
  const index = indexOf(from);
  move(index, to, touched);
  return index;
}

/**
 * Carries the index of `from` to `to`, which is `from` without the farms at the `removed`
 * positions (the others in their order): O(n) small steps (every later position shifts), not a
 * rebuild. Nothing to check: removing farms makes no issue across farms.
 */
export function farmsRemoved(from: Config, to: Config, removed: readonly number[]): void {
  const gone = [...new Set(removed)].sort((a, b) => a - b);
  if (to.farms.length !== from.farms.length - gone.length || gone.some((p) => !Number.isInteger(p) || p < 0 || p >= from.farms.length)) {
    build(to);
    return;
  }
  const index = indexOf(from);
  for (const pos of gone) {
    const farm = from.farms[pos] as Farm;
    removeName(index, farm.name, pos);
    removeClaims(index, farm, pos);
  }
  // How many removed positions lie below `pos`.
  const below = (pos: number) => {
    let lo = 0;
    let hi = gone.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((gone[mid] as number) < pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  for (const [name, held] of index.names) {
    if (typeof held === "number") index.names.set(name, held - below(held));
    else for (let i = 0; i < held.length; i++) held[i] = (held[i] as number) - below(held[i] as number);
  }
  for (const held of index.groups.values()) for (const member of "members" in held ? held.members : [held]) member.pos -= below(member.pos);
  index.owner = to;
  index.undo = null;
  holders.set(to, index);
}

function issuesOf(index: Index): z.core.$ZodIssue[] {
  const config = index.owner;
  const issue = (pos: number, field: string, message: string) =>
    ({ input: undefined, code: "custom", path: ["farms", pos, field], message }) as z.core.$ZodIssue;
  const dups: number[][] = [];
  for (const name of index.dupNames) {
    const held = index.names.get(name) ?? [];
    const positions = typeof held === "number" ? [held] : held;
    for (const pos of positions.slice(1)) dups.push([pos, positions[0] as number]);
  }
  dups.sort((a, b) => (a[0] as number) - (b[0] as number));
  const claims: Member[] = [];
  for (const key of index.badGroups) {
    const held = index.groups.get(key);
    for (const member of held !== undefined && "members" in held ? held.members : []) if (member.first !== null) claims.push(member);
  }
  claims.sort((a, b) => a.pos - b.pos || a.keyIdx - b.keyIdx);
  return [
    ...dups.map(([pos, first]) => issue(pos as number, "name", duplicateNameMessage(first as number))),
    ...claims.map((m) => {
      const first = m.first as Member;
      const farm = config.farms[m.pos] as Farm;
      const overlap = claimOverlap(farm, portsOf(farm), portsOf(first.farm)) ?? { from: 1, to: 65535 };
      return issue(m.pos, "virtual-ports", claimOverlapMessage(farm, m.addr, overlap, first.farm.name));
    }),
  ];
}

/**
 * crossFarmIssues of `to`, where `to` is `from` with the farms at `touched` positions replaced
 * (or appended or cut at the end): O(touched) when `from`'s index is at hand (it is, for the
 * config a change was made from through here), O(n) otherwise. The same issues, in the same
 * order, as crossFarmIssues(to).
 */
export function crossFarmIssuesAfter(from: Config, to: Config, touched: readonly number[]): z.core.$ZodIssue[] {
  return issuesOf(derive(from, to, touched));
}

/** crossFarmIssues through the index of `config` (built once, O(n); free for a config made through crossFarmIssuesAfter). */
export function indexedCrossFarmIssues(config: Config): z.core.$ZodIssue[] {
  return issuesOf(indexOf(config));
}

/** Where the (first) farm named `name` is in `config`, through its index. */
export function farmPosition(config: Config, name: string): number | undefined {
  const held = indexOf(config).names.get(name);
  return typeof held === "number" ? held : held?.[0];
}

/** The farm named `name` in `config` (the first one of that name), through its index. */
export function farmNamed(config: Config, name: string): Farm | undefined {
  const pos = farmPosition(config, name);
  return pos === undefined ? undefined : config.farms[pos];
}
