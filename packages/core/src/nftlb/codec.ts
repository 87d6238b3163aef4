import { ConfigSchema, FarmSchema, type Config, type Farm, type Backend } from "../model/farm.ts";
import { crossFarmIssuesAfter } from "../model/farm-index.ts";
import { ConfigError, toConfigIssues, type ConfigIssue } from "../model/issues.ts";
import { formatPlacement, PLACEMENT_ATTRIBUTE } from "../model/placement.ts";

export type ParseResult = { ok: true; config: Config } | { ok: false; issues: ConfigIssue[] };

/** Validates a configuration in nftlb's JSON shape (values as strings or numbers). */
export function safeParseConfig(raw: unknown): ParseResult {
  const result = ConfigSchema.safeParse(raw);
  if (result.success) return { ok: true, config: result.data };
  return { ok: false, issues: toConfigIssues(raw, result.error.issues) };
}

/**
 * `current` with some farms replaced (index < length) or added (index = length, then the next),
 * each given in nftlb's shape. Only those farms are parsed; the others keep their objects (so
 * that what is built from them can be reused); then every check across farms runs. The same
 * answers as safeParseConfig of the whole merged config, in a fraction of the time.
 */
export function safeReplaceFarms(current: Config, updates: readonly { index: number; raw: unknown }[]): ParseResult {
  const farms = [...current.farms];
  const root = { farms: [] as unknown[] };
  const issues: ConfigIssue[] = [];
  for (const { index, raw } of updates) {
    if (index < 0 || index > farms.length) throw new RangeError(`farm index ${index} is outside 0..${farms.length}`);
    root.farms[index] = raw;
    const parsed = FarmSchema.safeParse(raw);
    if (parsed.success) farms[index] = parsed.data;
    else issues.push(...toConfigIssues(root, parsed.error.issues, ["farms", index]));
  }
  if (issues.length > 0) return { ok: false, issues };
  const config: Config = { farms };
  // Through the index of `current`'s farms, moved to the new config: O(updates), not O(farms).
  const cross = crossFarmIssuesAfter(current, config, updates.map((u) => u.index));
  return cross.length > 0 ? { ok: false, issues: toConfigIssues(config, cross) } : { ok: true, config };
}

export function parseConfig(raw: unknown): Config {
  const result = safeParseConfig(raw);
  if (!result.ok) throw new ConfigError(result.issues);
  return result.config;
}

export function parseNftlbJson(text: string): Config {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([{ field: "", message: `not valid JSON: ${(error as Error).message}` }]);
  }
  return parseConfig(raw);
}

export type NftlbBackend = Record<string, string>;
export type NftlbFarm = Record<string, string | NftlbBackend[]>;
export interface NftlbConfig {
  farms: NftlbFarm[];
}

export interface NftlbWriteOptions {
  /**
   * Whether Switchyard's own attributes ("x-placement") are written; true by default, so that
   * an export imports back as the same config. nftlb itself refuses a config with a key it does
   * not know ("Unknown key"), so a file for nftlb is written with false. A farm without a
   * placement has none of them either way: such output is nftlb's, byte for byte.
   */
  extensions?: boolean;
}

/** Writes the model back in nftlb's own style: every value a string, defaults spelled out. */
export function toNftlb(config: Config, options: NftlbWriteOptions = {}): NftlbConfig {
  return { farms: config.farms.map((farm) => farmToNftlb(farm, options)) };
}

/** One farm in nftlb's own style (see toNftlb). */
export function farmToNftlb(farm: Farm, options: NftlbWriteOptions = {}): NftlbFarm {
  const out: NftlbFarm = {
    name: farm.name,
    family: farm.family,
    "virtual-addr": farm["virtual-addr"],
  };
  if (farm["virtual-addr6"] !== undefined) out["virtual-addr6"] = farm["virtual-addr6"];
  Object.assign(out, {
    "virtual-ports": farm["virtual-ports"],
    mode: farm.mode,
    protocol: farm.protocol,
    scheduler: farm.scheduler,
    "sched-param": farm["sched-param"].length === 0 ? "none" : farm["sched-param"].join(" "),
    priority: String(farm.priority),
    state: farm.state,
  });
  if (farm.iface !== undefined) out.iface = farm.iface;
  if (farm.oface !== undefined) out.oface = farm.oface;
  if (farm["ether-addr"] !== undefined) out["ether-addr"] = farm["ether-addr"];
  if (farm[PLACEMENT_ATTRIBUTE] !== undefined && options.extensions !== false) out[PLACEMENT_ATTRIBUTE] = formatPlacement(farm[PLACEMENT_ATTRIBUTE]);
  out.backends = farm.backends.map(backendToNftlb);
  return out;
}

function backendToNftlb(backend: Backend): NftlbBackend {
  const out: NftlbBackend = {
    name: backend.name,
    "ip-addr": backend["ip-addr"],
    port: backend.port === null ? "" : String(backend.port),
    weight: String(backend.weight),
    priority: String(backend.priority),
    state: backend.state,
  };
  if (backend["ether-addr"] !== undefined) out["ether-addr"] = backend["ether-addr"];
  return out;
}
