import { z } from "zod";
import { addressFamily, canonicalAddress, isMac } from "./address.ts";
import { PlacementSchema } from "./placement.ts";
import { formatPorts, parsePorts, rangesOverlap, type PortRange, type PortsResult } from "./ports.ts";
import { flat, intern } from "./compact.ts";

// Every attribute keeps nftlb's name, so that the model *is* nftlb's JSON with canonical
// types (numbers as numbers, addresses in canonical text): import and export stay a
// matter of types, never of renaming fields.

// The enumerations are in enums.ts (a page may list them without loading the schemas).
import { FAMILIES, MODES, PROTOCOLS, SCHED_FIELDS, SCHEDULERS, STATES, type SchedField } from "./enums.ts";
export * from "./enums.ts";
/** nftlb modes that Switchyard does not implement yet. */
const NFTLB_MODES_NOT_YET = ["stlsdnat", "local"] as const;

export const MAX_WEIGHT = 10_000;
export const MAX_PRIORITY = 1_000;
export const MAX_BACKENDS = 1_024;

const oneOf = (values: readonly string[]) => ({ error: () => `must be one of ${values.join(", ")}` });

/** An integer that nftlb may write as a number or as a string ("5"). */
const integer = (min: number, max: number) =>
  z.union([z.number(), z.string()], { error: () => "must be a number" }).transform((value, ctx) => {
    const n = typeof value === "number" ? value : /^\s*-?\d+\s*$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: "custom", message: `must be an integer from ${min} to ${max}` });
      return z.NEVER;
    }
    return n;
  });

/** Names become parts of nft chain names and of URLs: keep them to a safe alphabet. */
const name = z
  .string({ error: () => "must be a string" })
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/, {
    error: () => "must be 1-63 letters, digits, '_', '.' or '-', not starting with '.' or '-'",
  });

const ifaceName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,15}$/, { error: () => "must be an interface name (1-15 letters, digits, '_', '.', '-')" });

const macAddress = z
  .string()
  .refine(isMac, { error: () => "must be a MAC address such as 02:00:00:00:00:0a" })
  .transform((mac) => mac.toLowerCase());

const address = z
  .string({ error: () => "must be a string" })
  .refine((text) => addressFamily(text) !== null, { error: () => "must be an IPv4 or IPv6 address" })
  .transform(canonicalAddress);

const port = z
  .union([z.number(), z.string()], { error: () => "must be a port number or empty" })
  .transform((value, ctx) => {
    if (value === "") return null;
    const n = typeof value === "number" ? value : /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isInteger(n) || n < 1 || n > 65535) {
      ctx.addIssue({ code: "custom", message: "must be a port from 1 to 65535, or empty to keep the destination port" });
      return z.NEVER;
    }
    return n;
  });

const virtualPorts = z.union([z.string(), z.number()], { error: () => "must be a string such as 80,443,8000-8100" }).transform((value, ctx) => {
  const parsed = parsePorts(String(value));
  if (!parsed.ok) {
    ctx.addIssue({ code: "custom", message: parsed.reason });
    return z.NEVER;
  }
  return formatPorts(parsed.ranges);
});

const schedParam = z.string({ error: () => "must be a string such as \"srcip srcport\"" }).transform((value, ctx) => {
  const words = value.split(/[\s,]+/).filter((w) => w !== "" && w !== "none");
  const unknown = words.filter((w) => !(SCHED_FIELDS as readonly string[]).includes(w));
  if (unknown.length > 0) {
    ctx.addIssue({ code: "custom", message: `unknown field ${unknown.join(", ")}; use any of ${SCHED_FIELDS.join(", ")} or none` });
    return z.NEVER;
  }
  return SCHED_FIELDS.filter((f) => words.includes(f));
});

/**
 * nftlb 1.0 attributes that Switchyard does not implement yet. nftlb writes them at these
 * values when they are off; a config that has them off means the same here, and a config
 * that turns one on is refused rather than silently run without it.
 */
const notYet = (...offValues: string[]) =>
  z
    .union([z.string(), z.number(), z.array(z.unknown())])
    .optional()
    .refine((value) => value === undefined || (Array.isArray(value) ? value.length === 0 : isOff(String(value), offValues)), {
      error: () =>
        `not supported yet (accepted only when off: ${offValues.length === 0 ? "[]" : offValues.map((v) => JSON.stringify(v)).join(" or ")})`,
    });

function isOff(value: string, offValues: string[]): boolean {
  if (offValues.includes(value)) return true;
  // Numeric attributes are off at zero however nftlb spells it ("0", "0x0", "0x00000000").
  return offValues.includes("0") && /^(0x)?0+$/i.test(value);
}

/** Attributes that only matter when a feature above is on; nftlb writes them anyway. */
const inert = z.union([z.string(), z.number()]).optional();

const unsupportedFarmAttributes = {
  helper: notYet("none"),
  log: notYet("none"),
  "log-rtlimit": notYet("0"),
  mark: notYet("0"),
  "est-connlimit": notYet("0"),
  "new-rtlimit": notYet("0"),
  "new-rtlimit-burst": notYet("0"),
  "rst-rtlimit": notYet("0"),
  "rst-rtlimit-burst": notYet("0"),
  "tcp-strict": notYet("off"),
  persistence: notYet("none"),
  queue: notYet("-1"),
  "intra-connect": notYet("off"),
  "flow-offload": notYet("off"),
  "source-addr": notYet(""),
  policies: notYet(),
  sessions: notYet(),
  addresses: notYet(),
  "log-prefix": inert,
  "persist-ttl": inert,
  "limits-ttl": inert,
  "new-rtlimit-log-prefix": inert,
  "rst-rtlimit-log-prefix": inert,
  "est-connlimit-log-prefix": inert,
};

const unsupportedBackendAttributes = {
  mark: notYet("0"),
  "est-connlimit": notYet("0"),
  "source-addr": notYet(""),
  "est-connlimit-log-prefix": inert,
};

function withoutKeys<T extends object, K extends string>(value: T, keys: Record<K, unknown>): Omit<T, K> {
  const copy = { ...value } as Record<string, unknown>;
  for (const key of Object.keys(keys)) delete copy[key];
  return copy as Omit<T, K>;
}

// The agent keeps 10,000 farms and 40,000 backends parsed: each is rebuilt here as one object
// literal, whose attributes V8 then keeps inside the object (an object grown attribute by
// attribute, as a parser builds it, keeps all but the first four in a second array), with
// the addresses that many backends share as one string (intern). The same attributes, values
// and order as the parsed object without the unsupported attributes.

interface BackendFields {
  name: string;
  "ip-addr": string;
  port: number | null;
  weight: number;
  priority: number;
  state: (typeof STATES)[number];
  "ether-addr"?: string | undefined;
}

function compactBackend<T extends BackendFields>(backend: T): Omit<T, keyof typeof unsupportedBackendAttributes> {
  const out: BackendFields = {
    name: intern(backend.name),
    "ip-addr": intern(backend["ip-addr"]),
    port: backend.port,
    weight: backend.weight,
    priority: backend.priority,
    state: backend.state,
  };
  if (backend["ether-addr"] !== undefined) out["ether-addr"] = backend["ether-addr"];
  return out as Omit<T, keyof typeof unsupportedBackendAttributes>;
}

interface FarmFields {
  name: string;
  family: (typeof FAMILIES)[number];
  "virtual-addr": string;
  "virtual-addr6"?: string | undefined;
  "virtual-ports": string;
  mode: (typeof MODES)[number];
  protocol: (typeof PROTOCOLS)[number];
  scheduler: (typeof SCHEDULERS)[number];
  "sched-param": SchedField[];
  priority: number;
  state: (typeof STATES)[number];
  iface?: string | undefined;
  oface?: string | undefined;
  "ether-addr"?: string | undefined;
  backends: unknown[];
  "x-placement"?: unknown;
}

/** Most farms' sched-param: one empty list for them all (frozen: configs are never edited in place). */
const NO_SCHED_FIELDS = Object.freeze([]) as unknown as SchedField[];

function compactFarm<T extends FarmFields>(farm: T): Omit<T, keyof typeof unsupportedFarmAttributes> {
  type Out = Omit<T, keyof typeof unsupportedFarmAttributes>;
  if (farm["virtual-addr6"] !== undefined || farm.iface !== undefined || farm.oface !== undefined || farm["ether-addr"] !== undefined || farm["x-placement"] !== undefined) {
    // Attributes that most farms do not have, some in the middle of the order: the parsed
    // object as it is, less the unsupported attributes.
    const out = withoutKeys(farm, unsupportedFarmAttributes) as Record<string, unknown>;
    // An empty selector reads as absent, so that "" and no attribute are the same farm.
    if (out["x-placement"] === undefined) delete out["x-placement"];
    return out as Out;
  }
  const out: FarmFields = {
    name: farm.name,
    family: farm.family,
    "virtual-addr": intern(farm["virtual-addr"]),
    "virtual-ports": farm["virtual-ports"],
    mode: farm.mode,
    protocol: farm.protocol,
    scheduler: farm.scheduler,
    "sched-param": farm["sched-param"].length === 0 ? NO_SCHED_FIELDS : farm["sched-param"],
    priority: farm.priority,
    state: farm.state,
    backends: farm.backends,
  };
  return out as Out;
}

export const BackendSchema = z
  .strictObject({
    name,
    "ip-addr": address,
    port: port.default(null),
    weight: integer(1, MAX_WEIGHT).default(1),
    priority: integer(1, MAX_PRIORITY).default(1),
    state: z.enum(STATES, oneOf(STATES)).default("up"),
    "ether-addr": macAddress.optional(),
    ...unsupportedBackendAttributes,
  })
  .transform(compactBackend);

export const FarmSchema = z
  .strictObject({
    name,
    family: z.enum(FAMILIES, oneOf(FAMILIES)).default("ipv4"),
    "virtual-addr": address,
    "virtual-addr6": address.optional(),
    "virtual-ports": virtualPorts.default(""),
    mode: z
      .enum(MODES, {
        error: (iss) =>
          typeof iss.input === "string" && (NFTLB_MODES_NOT_YET as readonly string[]).includes(iss.input)
            ? `not supported yet (nftlb's ${iss.input} mode); use one of ${MODES.join(", ")}`
            : `must be one of ${MODES.join(", ")}`,
      })
      .default("snat"),
    protocol: z.enum(PROTOCOLS, oneOf(PROTOCOLS)).default("tcp"),
    scheduler: z.enum(SCHEDULERS, oneOf(SCHEDULERS)).default("rr"),
    "sched-param": schedParam.default([]),
    priority: integer(1, MAX_PRIORITY).default(1),
    state: z.enum(STATES, oneOf(STATES)).default("up"),
    iface: ifaceName.optional(),
    oface: ifaceName.optional(),
    "ether-addr": macAddress.optional(),
    backends: z.array(BackendSchema).max(MAX_BACKENDS).default([]),
    // Switchyard's own attribute (see placement.ts): which nodes of a fleet serve the farm.
    "x-placement": PlacementSchema.optional(),
    ...unsupportedFarmAttributes,
  })
  .transform(compactFarm)
  .superRefine(checkFarm);

export const ConfigSchema = z
  .strictObject({ farms: z.array(FarmSchema).default([]) })
  .superRefine(checkConfig);

export type Backend = z.output<typeof BackendSchema>;
export type Farm = z.output<typeof FarmSchema>;
export type Config = z.output<typeof ConfigSchema>;
export type FarmInput = z.input<typeof FarmSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

type Ctx = z.RefinementCtx;

/** The longest key nft can hash: three 16-byte registers. */
export const MAX_HASH_KEY_BYTES = 48;

/** The register room a hash of these fields takes (addresses, ports padded to 4, MACs to 8). */
export function hashKeyBytes(fields: readonly SchedField[], ip: 4 | 6): number {
  const size: Record<SchedField, number> = { srcip: ip === 4 ? 4 : 16, dstip: ip === 4 ? 4 : 16, srcport: 4, dstport: 4, srcmac: 8, dstmac: 8 };
  return (fields.length === 0 ? (["srcip"] as const) : fields).reduce((sum, f) => sum + size[f], 0);
}

function checkFarm(farm: Farm, ctx: Ctx): void {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
  const vipFamily = addressFamily(farm["virtual-addr"]);
  const wanted = farm.family === "ipv6" ? "ipv6" : "ipv4";
  if (vipFamily !== wanted) {
    issue(["virtual-addr"], `is an ${vipFamily === "ipv6" ? "IPv6" : "IPv4"} address but the farm's family is ${farm.family}` +
      (farm.family === "dual" ? " (a dual farm takes its IPv4 address here and its IPv6 address in virtual-addr6)" : ""));
  }
  if (farm.family === "dual") {
    if (farm["virtual-addr6"] === undefined) issue(["virtual-addr6"], "is required for family dual (the farm's IPv6 address)");
    else if (addressFamily(farm["virtual-addr6"]) !== "ipv6") issue(["virtual-addr6"], "must be an IPv6 address");
  } else if (farm["virtual-addr6"] !== undefined) {
    issue(["virtual-addr6"], `is only for family dual; this farm's family is ${farm.family}`);
  }
  if (farm.protocol === "all" && farm["virtual-ports"] !== "") {
    issue(["virtual-ports"], "must be empty when protocol is all: the farm then takes every protocol and port of its address");
  }
  if (farm.scheduler === "hash" && farm.family !== "ipv4") {
    // nft hashes a key of at most 48 bytes (each field padded to 4 bytes); a longer one makes
    // nft 1.0.6 abort ("BUG: register reg_low 5 invalid"), so refuse it here with the reason.
    const bytes = hashKeyBytes(farm["sched-param"], 6);
    if (bytes > MAX_HASH_KEY_BYTES) {
      issue(["sched-param"], `makes a ${bytes}-byte hash key for IPv6 but nft hashes at most ${MAX_HASH_KEY_BYTES} bytes: leave out a port or a MAC field`);
    }
  }
  if (farm.mode === "dsr" && farm.iface === undefined) {
    issue(["iface"], "is required in dsr mode: the interface on which the virtual address arrives");
  }
  const seen = new Set<string>();
  farm.backends.forEach((backend, i) => {
    if (seen.has(backend.name)) issue(["backends", i, "name"], "is a duplicate backend name in this farm");
    seen.add(backend.name);
    const family = addressFamily(backend["ip-addr"]);
    if (farm.family !== "dual" && family !== farm.family) {
      issue(["backends", i, "ip-addr"], `is an ${family === "ipv6" ? "IPv6" : "IPv4"} address but the farm's family is ${farm.family}`);
    }
    if (farm.protocol === "all" && backend.port !== null) {
      issue(["backends", i, "port"], "must be empty when the farm's protocol is all: only a tcp, udp or sctp farm can change the port");
    }
    if (farm.mode === "dsr" && backend.port !== null) {
      issue(["backends", i, "port"], "must be empty in dsr mode: frames are forwarded unchanged, so the backend port is the virtual port");
    }
  });
}

/**
 * The checks across farms (unique names, no two farms on one service) as zod issues, for
 * callers that parse only the farms that changed (the agent's API at 10,000 farms).
 */
export function crossFarmIssues(config: Config): z.core.$ZodIssue[] {
  const issues: z.core.$ZodIssue[] = [];
  const ctx = { value: config, addIssue: (issue: z.core.$ZodIssue) => issues.push({ input: undefined, ...issue }) } as unknown as Ctx;
  checkConfig(config, ctx);
  return issues;
}

/** What a farm claims: its parsed ports and one service key per virtual address (farms of one key may not overlap). */
export interface FarmClaims {
  ports: PortsResult;
  keys: [addr: string, key: string][];
}

// Parsed port lists by their text: farms share a few texts ("80", "443"), and the index over
// 10,000 farms looks ports up again on every change. Frozen, as they are shared; bounded.
const PORTS_CACHE_LIMIT = 4096;
const portsCache = new Map<string, PortsResult>();

/** A farm's parsed ports (the same object for the same text). */
export function portsOf(farm: Farm): PortsResult {
  const text = farm["virtual-ports"];
  let ports = portsCache.get(text);
  if (ports === undefined) {
    const parsed = parsePorts(text);
    ports = Object.freeze(parsed.ok ? { ok: true, ranges: Object.freeze(parsed.ranges.map((r) => Object.freeze({ from: r.from, to: r.to }))) as PortRange[] } : parsed);
    if (portsCache.size >= PORTS_CACHE_LIMIT) portsCache.clear();
    portsCache.set(text, ports);
  }
  return ports;
}

/** A farm's service keys, one per virtual address: farms of one key may not overlap. */
export function claimKeysOf(farm: Farm): [addr: string, key: string][] {
  const kind = farm["virtual-ports"] === "" ? "*" : "ports";
  const key = (addr: string): [string, string] => [addr, flat(`${farm.protocol} ${addr} ${kind}`)];
  return farm["virtual-addr6"] ? [key(farm["virtual-addr"]), key(farm["virtual-addr6"])] : [key(farm["virtual-addr"])];
}

/** A farm's parsed ports and its service keys (made on each call: see portsOf and claimKeysOf). */
export function claimsOf(farm: Farm): FarmClaims {
  return { ports: portsOf(farm), keys: claimKeysOf(farm) };
}

/** Where a farm (`ports` its claims' ports) overlaps an earlier farm of the same service key, if it does. */
export function claimOverlap(farm: Farm, ports: FarmClaims["ports"], otherPorts: FarmClaims["ports"]): { from: number; to: number } | null {
  return farm["virtual-ports"] === "" ? { from: 1, to: 65535 } : ports.ok && otherPorts.ok ? rangesOverlap(ports.ranges, otherPorts.ranges) : null;
}

/** The message of the cross-farm issue on `farm` when it overlaps farm `other` at `addr`. */
export function claimOverlapMessage(farm: Farm, addr: string, overlap: { from: number; to: number }, other: string): string {
  const what = farm["virtual-ports"] === "" ? "every port" : overlap.from === overlap.to ? `port ${overlap.from}` : `ports ${overlap.from}-${overlap.to}`;
  const verb = what.startsWith("ports") ? "are" : "is";
  return `${what} of ${farm.protocol} ${addr} ${verb} already served by farm "${other}"`;
}

/** The message of the cross-farm issue on a farm whose name farm #`first` (0-based) has too. */
export function duplicateNameMessage(first: number): string {
  return `is a duplicate farm name (farm #${first + 1} has it too)`;
}

function checkConfig(config: Config, ctx: Ctx): void {
  const byName = new Map<string, number>();
  config.farms.forEach((farm, i) => {
    const first = byName.get(farm.name);
    if (first !== undefined) ctx.addIssue({ code: "custom", path: ["farms", i, "name"], message: duplicateNameMessage(first) });
    else byName.set(farm.name, i);
  });

  // Two farms may not claim the same protocol, address and port: the kernel's service map
  // holds one verdict per key. A farm with no ports (every port) or protocol all sits in its
  // own, less specific map, so the more specific farm wins there and nothing conflicts.
  const claims = new Map<string, { farm: string; ports: ReturnType<typeof parsePorts> }[]>();
  config.farms.forEach((farm, i) => {
    const { ports, keys } = claimsOf(farm);
    for (const [addr, key] of keys) {
      const others = claims.get(key) ?? [];
      for (const other of others) {
        const overlap = claimOverlap(farm, ports, other.ports);
        if (overlap) {
          ctx.addIssue({ code: "custom", path: ["farms", i, "virtual-ports"], message: claimOverlapMessage(farm, addr, overlap, other.farm) });
          break;
        }
      }
      others.push({ farm: farm.name, ports });
      claims.set(key, others);
    }
  });
}
