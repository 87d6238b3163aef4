import fc from "fast-check";
import { FarmSchema, type Config, type Farm } from "../model/farm.ts";

// Test generators for the farm lane (farm-delta, farm-index): farms over a few shared
// addresses, so that services collide and pass from one farm to another, and sequences of the
// changes the agent's API makes (farms replaced in place, renamed, appended, removed).

export const LANE_NAMES = ["web", "dns", "api", "db", "mail", "ssh", "ntp", "vpn", "git", "log", "ftp", "irc"] as const;

export const laneFarmSpec = fc.record({
  family: fc.constantFrom("ipv4", "ipv4", "ipv6", "dual"),
  mode: fc.constantFrom("snat", "snat", "dnat", "dsr"),
  protocol: fc.constantFrom("tcp", "tcp", "udp", "all"),
  scheduler: fc.constantFrom("weight", "rr", "hash"),
  ports: fc.constantFrom("", "80", "443", "80,443", "8000-8100", "53,1000-2000", "81"),
  vip: fc.integer({ min: 1, max: 3 }),
  state: fc.constantFrom("up", "up", "up", "down"),
  backends: fc.array(
    fc.record({ host: fc.integer({ min: 1, max: 6 }), weight: fc.integer({ min: 1, max: 3 }), state: fc.constantFrom("up", "up", "down") }),
    { maxLength: 3 },
  ),
});

export type LaneFarmSpec = typeof laneFarmSpec extends fc.Arbitrary<infer T> ? T : never;

/** A farm of the spec, or undefined when the spec makes none that parses. */
export function laneFarm(name: string, spec: LaneFarmSpec): Farm | undefined {
  const dsr = spec.mode === "dsr";
  const v4 = `198.18.1.${spec.vip}`;
  const v6 = `2001:db8:1::${spec.vip}`;
  const raw: Record<string, unknown> = {
    name,
    family: spec.family,
    "virtual-addr": spec.family === "ipv6" ? v6 : v4,
    mode: spec.mode,
    protocol: spec.protocol,
    scheduler: spec.scheduler,
    "virtual-ports": spec.protocol === "all" ? "" : spec.ports,
    state: spec.state,
    backends: spec.backends.map((b, j) => ({
      name: `b${j + 1}`,
      "ip-addr": spec.family === "ipv6" || (spec.family === "dual" && j % 2 === 1) ? `2001:db8:2::${b.host}` : `198.18.2.${b.host}`,
      weight: b.weight,
      state: b.state,
      ...(dsr ? { "ether-addr": `02:00:00:00:02:0${b.host}` } : {}),
    })),
  };
  if (spec.family === "dual") raw["virtual-addr6"] = v6;
  if (dsr) {
    raw.iface = "eth-in";
    raw["ether-addr"] = "02:00:00:00:01:01";
  }
  const parsed = FarmSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

/** One change: farms replaced (by position, maybe renamed), appended, or removed. */
export const laneStep = fc.record({
  kind: fc.constantFrom("replace", "replace", "replace", "append", "remove", "backend"),
  picks: fc.array(fc.record({ at: fc.nat(), name: fc.nat(), rename: fc.boolean(), spec: laneFarmSpec }), { minLength: 1, maxLength: 3 }),
});

export type LaneStep = typeof laneStep extends fc.Arbitrary<infer T> ? T : never;

export interface LaneChange {
  next: Config;
  /** The names of the farms added, changed or removed (old and new names of a renamed farm). */
  changed: string[];
  /** The positions touched (replaced in place, appended); for a removal, none. */
  touched: number[];
  removed: boolean;
}

/** The config a step makes of `config` (it may be invalid across farms: the caller checks). */
export function applyLaneStep(config: Config, step: LaneStep): LaneChange | undefined {
  const farms = [...config.farms];
  const changed = new Set<string>();
  const touched = new Set<number>();
  const unused = () => LANE_NAMES.filter((n) => !farms.some((f) => f.name === n));
  if (step.kind === "remove") {
    if (farms.length === 0) return undefined;
    const gone = new Set(step.picks.map((p) => p.at % farms.length));
    for (const at of gone) changed.add((farms[at] as Farm).name);
    return { next: { farms: farms.filter((_, i) => !gone.has(i)) }, changed: [...changed], touched: [], removed: true };
  }
  for (const pick of step.picks) {
    if (step.kind === "append" || farms.length === 0) {
      const free = unused();
      if (free.length === 0) continue;
      const farm = laneFarm(free[pick.name % free.length] as string, pick.spec);
      if (farm === undefined) continue;
      touched.add(farms.length);
      farms.push(farm);
      changed.add(farm.name);
      continue;
    }
    const at = pick.at % farms.length;
    const old = farms[at] as Farm;
    let farm: Farm | undefined;
    if (step.kind === "backend") {
      farm = old.backends.length === 0
        ? { ...old, state: old.state === "up" ? "down" : "up" }
        : { ...old, backends: old.backends.map((b, j) => (j === pick.name % old.backends.length ? { ...b, state: b.state === "up" ? "down" : "up" } : b)) };
    } else {
      const free = unused();
      const name = pick.rename && free.length > 0 ? (free[pick.name % free.length] as string) : old.name;
      farm = laneFarm(name, pick.spec);
    }
    if (farm === undefined) continue;
    farms[at] = farm;
    touched.add(at);
    changed.add(old.name);
    changed.add(farm.name);
  }
  if (touched.size === 0) return undefined;
  return { next: { farms }, changed: [...changed], touched: [...touched], removed: false };
}

/** A config of up to `max` farms from specs, each name once (it may be invalid across farms). */
export function laneConfig(specs: readonly LaneFarmSpec[]): Config {
  const farms: Farm[] = [];
  specs.forEach((spec, i) => {
    const farm = laneFarm(LANE_NAMES[i % LANE_NAMES.length] as string, spec);
    if (farm !== undefined && !farms.some((f) => f.name === farm.name)) farms.push(farm);
  });
  return { farms };
}
