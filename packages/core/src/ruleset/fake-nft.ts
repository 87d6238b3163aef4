import fc from "fast-check";
import type { Config } from "../model/farm.ts";
import { safeParseConfig } from "../nftlb/codec.ts";
import type { NftOp } from "./delta.ts";
import type { Facts } from "./facts.ts";
import { referencesOf, verdictTarget } from "./guard.ts";
import { mapValueOf, type IrChain, type IrHook, type IrMap, type IrMapValue, type IrRuleset, type IrTable, type TableFamily } from "./ir.ts";

// For tests only (knftables' fake, in spirit): an in-memory nftables that applies typed
// operations to a copy of a ruleset, refusing what the kernel refuses (checked on nft 1.0.6
// and Linux 6.x, see delta.integration.test.ts), and dumps the result sorted. It keeps the
// delta planner's unit tests fast; the real kernel has the last word in the integration test.
// The second half holds the fast-check generator of valid configuration pairs both use.

export type FakeNftErrorCode = "ENOENT" | "EEXIST" | "EBUSY" | "EOPNOTSUPP" | "EINVAL";

export class FakeNftError extends Error {
  constructor(
    readonly code: FakeNftErrorCode,
    /** Index of the operation that failed; the whole transaction is refused. */
    readonly index: number,
    readonly op: NftOp,
    detail: string,
  ) {
    super(`op ${index + 1} (${op.op} ${op.family} ${op.table}): ${code}: ${detail}`);
    this.name = "FakeNftError";
  }
}

interface FakeChain {
  hook: IrHook | undefined;
  rules: string[];
}

interface FakeMap {
  key: string;
  interval: boolean;
  value: IrMapValue;
  elements: Map<string, string>;
}

interface FakeTable {
  family: TableFamily;
  name: string;
  chains: Map<string, FakeChain>;
  maps: Map<string, FakeMap>;
  counters: Set<string>;
}

const tableKey = (family: string, name: string) => `${family} ${name}`;

function load(ir: IrRuleset): Map<string, FakeTable> {
  const state = new Map<string, FakeTable>();
  for (const t of ir.tables) {
    state.set(tableKey(t.family, t.name), {
      family: t.family,
      name: t.name,
      chains: new Map(t.chains.map((c) => [c.name, { hook: c.hook === undefined ? undefined : { ...c.hook }, rules: [...c.rules] }])),
      maps: new Map(t.maps.map((m) => [m.name, { key: m.key, interval: m.interval, value: mapValueOf(m), elements: new Map(m.elements) }])),
      counters: new Set(t.counters ?? []),
    });
  }
  return state;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function hookOf(hook: IrHook): IrHook {
  return hook.device === undefined
    ? { type: hook.type, hook: hook.hook, priority: hook.priority }
    : { type: hook.type, hook: hook.hook, priority: hook.priority, device: hook.device };
}

function dump(state: Map<string, FakeTable>): IrRuleset {
  const tables: IrTable[] = [...state.values()].map((t) => ({
    family: t.family,
    name: t.name,
    // Left out when empty, as the builder does.
    ...(t.counters.size > 0 ? { counters: [...t.counters].sort(byName) } : {}),
    maps: [...t.maps]
      .sort(([a], [b]) => byName(a, b))
      .map(([name, m]): IrMap => ({
        name,
        key: m.key,
        interval: m.interval,
        ...(m.value !== "verdict" ? { value: m.value } : {}),
        elements: [...m.elements].sort(([a], [b]) => byName(a, b)),
      })),
    chains: [...t.chains]
      .sort(([a], [b]) => byName(a, b))
      .map(([name, c]): IrChain => (c.hook === undefined ? { name, rules: [...c.rules] } : { name, hook: hookOf(c.hook), rules: [...c.rules] })),
  }));
  tables.sort((a, b) => byName(a.family, b.family) || byName(a.name, b.name));
  return { tables };
}

/** The IR sorted as the fake dumps it: tables, chains, maps and elements by name; rules keep their order. */
export function normalizeIr(ir: IrRuleset): IrRuleset {
  return dump(load(ir));
}

const sameHook = (a: IrHook | undefined, b: IrHook | undefined) => JSON.stringify(a && hookOf(a)) === JSON.stringify(b && hookOf(b));

type Span = { lo: number; hi: number } | { text: string };

function spans(key: string): Span[] {
  return key.split(" . ").map((part) => {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) return { lo: Number(range[1]), hi: Number(range[2]) };
    if (/^\d+$/.test(part)) return { lo: Number(part), hi: Number(part) };
    return { text: part };
  });
}

/** Whether two keys of an interval map share a point (ranges as nft reads them on numeric parts). */
function overlaps(a: string, b: string): boolean {
  const x = spans(a);
  const y = spans(b);
  if (x.length !== y.length) return false;
  return x.every((p, i) => {
    const q = y[i] as Span;
    if ("text" in p || "text" in q) return "text" in p && "text" in q && p.text === q.text;
    return p.lo <= q.hi && q.lo <= p.hi;
  });
}

const hasRange = (key: string) => key.split(" . ").some((part) => /^[^-]+-[^-]+$/.test(part) && !/^[A-Za-z]/.test(part));

/**
 * Applies `ops` to a copy of `ir` as one transaction and returns the result, normalized.
 * Throws FakeNftError (and changes nothing: `ir` is never touched) where nft or the kernel
 * would refuse the transaction: adding into a missing table, chain or map; deleting or
 * flushing what does not exist; deleting a chain that a rule or an element still jumps to,
 * or a map a rule still names; a rule or element that refers to a missing chain or map, or
 * jumps to a base chain; deleting a counter a rule still names, or a rule that names a missing
 * counter; re-adding a chain with another hook or a map with another type;
 * an element whose key exists with another value, or overlaps an interval. `add` of what
 * exists identically is a no-op, as in nft.
 */
export function fakeApply(ir: IrRuleset, ops: readonly NftOp[]): IrRuleset {
  const state = load(ir);
  ops.forEach((op, index) => {
    const fail = (code: FakeNftErrorCode, detail: string): never => {
      throw new FakeNftError(code, index, op, detail);
    };
    const key = tableKey(op.family, op.table);
    if (op.op === "add table") {
      if (!state.has(key)) state.set(key, { family: op.family, name: op.table, chains: new Map(), maps: new Map(), counters: new Set() });
      return;
    }
    const table = state.get(key) ?? fail("ENOENT", "no such table");
    const chainOf = (name: string) => table.chains.get(name) ?? fail("ENOENT", `no such chain ${name}`);
    const mapOf = (name: string) => table.maps.get(name) ?? fail("ENOENT", `no such map ${name}`);
    const checkTarget = (target: string) => {
      const chain = chainOf(target);
      if (chain.hook !== undefined) fail("EOPNOTSUPP", `${target} is a base chain and cannot be a jump target`);
    };
    switch (op.op) {
      case "delete table":
        state.delete(key);
        return;
      case "add chain": {
        const existing = table.chains.get(op.chain);
        if (existing === undefined) table.chains.set(op.chain, { hook: op.hook && hookOf(op.hook), rules: [] });
        else if (op.hook !== undefined && !sameHook(existing.hook, op.hook)) fail("EOPNOTSUPP", `chain ${op.chain} exists with another hook`);
        return;
      }
      case "delete chain": {
        chainOf(op.chain);
        for (const [name, chain] of table.chains) {
          if (name === op.chain) continue;
          if (chain.rules.some((rule) => referencesOf(rule).chains.includes(op.chain))) fail("EBUSY", `chain ${name} still jumps to ${op.chain}`);
        }
        for (const [name, map] of table.maps) {
          for (const value of map.elements.values()) {
            if (verdictTarget(value) === op.chain) fail("EBUSY", `an element of map ${name} still jumps to ${op.chain}`);
          }
        }
        table.chains.delete(op.chain);
        return;
      }
      case "flush chain":
        chainOf(op.chain).rules = [];
        return;
      case "add rule": {
        const chain = chainOf(op.chain);
        const refs = referencesOf(op.rule);
        for (const target of refs.chains) checkTarget(target);
        for (const name of refs.maps) mapOf(name);
        for (const name of refs.counters) if (!table.counters.has(name)) fail("ENOENT", `no such counter ${name}`);
        chain.rules.push(op.rule);
        return;
      }
      case "add map": {
        const existing = table.maps.get(op.map);
        const value = op.value ?? "verdict";
        if (existing === undefined) table.maps.set(op.map, { key: op.key, interval: op.interval, value, elements: new Map() });
        else if (existing.key !== op.key || existing.interval !== op.interval || existing.value !== value) fail("EEXIST", `map ${op.map} exists with another type`);
        return;
      }
      case "delete map": {
        mapOf(op.map);
        for (const [name, chain] of table.chains) {
          if (chain.rules.some((rule) => referencesOf(rule).maps.includes(op.map))) fail("EBUSY", `chain ${name} still uses @${op.map}`);
        }
        table.maps.delete(op.map);
        return;
      }
      case "add counter":
        table.counters.add(op.counter); // an existing counter is left as it is (and keeps its count)
        return;
      case "delete counter": {
        if (!table.counters.has(op.counter)) fail("ENOENT", `no such counter ${op.counter}`);
        for (const [name, chain] of table.chains) {
          if (chain.rules.some((rule) => referencesOf(rule).counters.includes(op.counter))) fail("EBUSY", `chain ${name} still counts in ${op.counter}`);
        }
        for (const [name, map] of table.maps) {
          if (map.value !== "counter") continue;
          for (const value of map.elements.values()) if (value === op.counter) fail("EBUSY", `an element of map ${name} still counts in ${op.counter}`);
        }
        table.counters.delete(op.counter);
        return;
      }
      case "add element": {
        const map = mapOf(op.map);
        for (const [k, v] of op.elements) {
          if (map.value === "counter") {
            if (!table.counters.has(v)) fail("ENOENT", `no such counter ${v} (element ${k} of ${op.map})`);
          } else {
            const target = verdictTarget(v);
            if (target !== undefined) checkTarget(target);
          }
          if (!map.interval && hasRange(k)) fail("EINVAL", `range ${k} in map ${op.map}, which has no interval flag`);
          const existing = map.elements.get(k);
          if (existing !== undefined) {
            if (existing !== v) fail("EEXIST", `element ${k} exists in ${op.map} with value ${existing}`);
            continue;
          }
          if (map.interval) {
            for (const other of map.elements.keys()) if (overlaps(k, other)) fail("EEXIST", `element ${k} overlaps ${other} in ${op.map}`);
          }
          map.elements.set(k, v);
        }
        return;
      }
      case "delete element": {
        const map = mapOf(op.map);
        for (const k of op.keys) {
          if (!map.elements.delete(k)) fail("ENOENT", `no element ${k} in map ${op.map}`);
        }
        return;
      }
    }
  });
  return dump(state);
}

// --- valid configuration pairs for property tests ---------------------------------------------

/** Host facts for the generated dsr farms: the veth pair the integration test creates. */
export const TEST_FACTS: Facts = {
  interfaces: { "eth-in": { mac: "02:00:00:00:01:01" }, "eth-out": { mac: "02:00:00:00:01:02" } },
  neighbours: {},
};

const FARM_NAMES = ["web", "dns", "api", "db", "mail", "ssh", "ntp", "vpn"] as const;

const backendSpec = fc.record({
  host: fc.integer({ min: 1, max: 8 }),
  v6: fc.boolean(),
  port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
  weight: fc.integer({ min: 1, max: 5 }),
  priority: fc.constantFrom(1, 1, 2),
  state: fc.constantFrom("up", "up", "up", "down", "off"),
});

const farmSpec = fc.record({
  family: fc.constantFrom("ipv4", "ipv4", "ipv6", "dual"),
  mode: fc.constantFrom("snat", "dnat", "dsr"),
  protocol: fc.constantFrom("tcp", "tcp", "udp", "sctp", "all"),
  scheduler: fc.constantFrom("weight", "rr", "hash", "symhash"),
  schedParam: fc.constantFrom("srcip", "srcip srcport", "srcip dstip", "dstport"),
  ports: fc.constantFrom("", "80", "443", "80,443", "8000-8100", "8050-8200", "53,1000-2000", "1-65535"),
  sharedVip: fc.boolean(),
  state: fc.constantFrom("up", "up", "up", "up", "down"),
  oface: fc.boolean(),
  backends: fc.array(backendSpec, { maxLength: 4 }),
});

type FarmSpec = typeof farmSpec extends fc.Arbitrary<infer T> ? T : never;

/** What becomes of one farm name from config A to config B. */
const farmFate = fc.record({
  inA: fc.boolean(),
  a: farmSpec,
  b: farmSpec,
  fate: fc.constantFrom("same", "same", "tweak", "tweak", "other", "absent"),
  tweak: fc.record({ backend: fc.nat(), weight: fc.integer({ min: 1, max: 5 }), state: fc.constantFrom("up", "down") }),
});

function rawFarm(name: string, spec: FarmSpec): Record<string, unknown> {
  const i = FARM_NAMES.indexOf(name as (typeof FARM_NAMES)[number]) + 1;
  const v4 = spec.sharedVip ? "198.18.1.200" : `198.18.1.${i}`;
  const v6 = spec.sharedVip ? "2001:db8:1::c8" : `2001:db8:1::${i}`;
  const dsr = spec.mode === "dsr";
  const farm: Record<string, unknown> = {
    name,
    family: spec.family,
    "virtual-addr": spec.family === "ipv6" ? v6 : v4,
    mode: spec.mode,
    protocol: spec.protocol,
    scheduler: spec.scheduler,
    "sched-param": spec.schedParam,
    "virtual-ports": spec.protocol === "all" ? "" : spec.ports,
    state: spec.state,
  };
  if (spec.family === "dual") farm["virtual-addr6"] = v6;
  if (dsr) {
    farm.iface = "eth-in";
    if (spec.oface) farm.oface = "eth-out";
  }
  farm.backends = spec.backends.map((b, j) => {
    const v6Backend = spec.family === "ipv6" || (spec.family === "dual" && b.v6);
    const backend: Record<string, unknown> = {
      name: `b${j + 1}`,
      "ip-addr": v6Backend ? `2001:db8:2::${b.host}` : `198.18.2.${b.host}`,
      weight: b.weight,
      priority: b.priority,
      state: b.state,
    };
    if (b.port !== undefined && !dsr && spec.protocol !== "all") backend.port = b.port;
    if (dsr) backend["ether-addr"] = `02:00:00:00:02:${b.host.toString(16).padStart(2, "0")}`;
    return backend;
  });
  return farm;
}

/** Adds farms one by one and keeps those that leave the config valid (two farms may not claim one port). */
function validConfig(farms: Record<string, unknown>[]): Config {
  let kept: Record<string, unknown>[] = [];
  let config: Config = { farms: [] };
  for (const farm of farms) {
    const parsed = safeParseConfig({ farms: [...kept, farm] });
    if (parsed.ok) {
      kept = [...kept, farm];
      config = parsed.config;
    }
  }
  return config;
}

function tweaked(spec: FarmSpec, tweak: { backend: number; weight: number; state: "up" | "down" }): FarmSpec {
  if (spec.backends.length === 0) return { ...spec, state: spec.state === "up" ? "down" : "up" };
  const at = tweak.backend % spec.backends.length;
  return { ...spec, backends: spec.backends.map((b, j) => (j === at ? { ...b, weight: tweak.weight, state: tweak.state } : b)) };
}

/**
 * Two valid configurations over one small set of farm names: each farm is in A, B, both or
 * neither; one in both is the same, slightly changed (a backend's weight or state) or
 * different in every way (mode, family, ports...). Some farms share a virtual address, so
 * that one farm's service can pass to another within one transaction.
 */
export const configPairs: fc.Arbitrary<{ a: Config; b: Config }> = fc
  .tuple(...FARM_NAMES.map(() => farmFate))
  .map((fates) => {
    const a: Record<string, unknown>[] = [];
    const b: Record<string, unknown>[] = [];
    fates.forEach((f, i) => {
      const name = FARM_NAMES[i] as string;
      if (f.inA) a.push(rawFarm(name, f.a));
      const base = f.inA ? f.a : f.b;
      if (f.fate === "same") b.push(rawFarm(name, base));
      else if (f.fate === "tweak") b.push(rawFarm(name, tweaked(base, f.tweak)));
      else if (f.fate === "other") b.push(rawFarm(name, f.b));
    });
    return { a: validConfig(a), b: validConfig(b) };
  });
