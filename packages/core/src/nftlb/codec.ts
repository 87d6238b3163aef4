import { ConfigSchema, type Config, type Farm, type Backend } from "../model/farm.ts";
import { ConfigError, toConfigIssues, type ConfigIssue } from "../model/issues.ts";

export type ParseResult = { ok: true; config: Config } | { ok: false; issues: ConfigIssue[] };

/** Validates a configuration in nftlb's JSON shape (values as strings or numbers). */
export function safeParseConfig(raw: unknown): ParseResult {
  const result = ConfigSchema.safeParse(raw);
  if (result.success) return { ok: true, config: result.data };
  return { ok: false, issues: toConfigIssues(raw, result.error.issues) };
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

type NftlbBackend = Record<string, string>;
type NftlbFarm = Record<string, string | NftlbBackend[]>;
export interface NftlbConfig {
  farms: NftlbFarm[];
}

/** Writes the model back in nftlb's own style: every value a string, defaults spelled out. */
export function toNftlb(config: Config): NftlbConfig {
  return { farms: config.farms.map(farmToNftlb) };
}

function farmToNftlb(farm: Farm): NftlbFarm {
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
