import { parseCounterName, type CounterValue, type CounterValues, type CountersReport, type FarmCounters } from "@switchyard/core";
import type { Logger } from "./log.ts";
import type { NftDriver } from "./nft/driver.ts";
import type { CounterDumper } from "./nft/netlink/counters.ts";

// The agent's per-backend counters: core gives every backend of a NAT farm a named counter
// (`c/FARM/BACKEND`) that its farm chain's rule increments for each connection it sends
// there. NAT chains see the first packet of each connection only, so a counter's packets are
// the connections the backend was given (its bytes are those first packets' and are not
// reported). Named counters are kernel objects of the table: a chain flush and refill (every
// delta) leaves them alone, and a full replace carries their values over (see Applier).

export type { BackendCounters, CountersReport, FarmCounters } from "@switchyard/core";

/** The farms and backends of a table's counters, by name; counters core did not name are left out. */
export function farmCounters(values: CounterValues): FarmCounters[] {
  const farms = new Map<string, FarmCounters>();
  for (const [name, value] of values) {
    const parsed = parseCounterName(name);
    if (parsed === null) continue;
    let farm = farms.get(parsed.farm);
    if (farm === undefined) {
      farm = { name: parsed.farm, connections: 0, backends: [] };
      farms.set(parsed.farm, farm);
    }
    farm.backends.push({ name: parsed.backend, connections: value.packets });
    farm.connections += value.packets;
  }
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const out = [...farms.values()].sort(byName);
  for (const farm of out) farm.backends.sort(byName);
  return out;
}

/** A Prometheus label value: backslash, double quote and line feed escaped. */
const label = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/** Prometheus text lines (with HELP and TYPE) for the counters. */
export function countersMetrics(farms: readonly FarmCounters[]): string[] {
  const lines = [
    "# HELP switchyard_farm_connections_total New connections the farm balanced to its backends (kernel counters, one per backend).",
    "# TYPE switchyard_farm_connections_total counter",
    ...farms.map((f) => `switchyard_farm_connections_total{farm="${label(f.name)}"} ${f.connections}`),
    "# HELP switchyard_backend_connections_total New connections balanced to the backend.",
    "# TYPE switchyard_backend_connections_total counter",
  ];
  for (const f of farms) for (const b of f.backends) lines.push(`switchyard_backend_connections_total{farm="${label(f.name)}",backend="${label(b.name)}"} ${b.connections}`);
  return lines;
}

export interface CounterReaderOptions {
  driver: Pick<NftDriver, "listCounters">;
  table: string;
  /** A netlink dump of the counters (tens of ms at 10,000 farms); nft -j (about 1 s there) when absent or when it fails. */
  dumper?: CounterDumper | null;
  log?: Logger;
  now?: () => number;
}

/** Reads the named counters of the agent's inet table. */
export class CounterReader {
  readonly table: string;
  private readonly now: () => number;

  constructor(private readonly options: CounterReaderOptions) {
    this.table = options.table;
    this.now = options.now ?? Date.now;
  }

  /** Every named counter of the table (empty when the table does not exist). */
  async values(): Promise<Map<string, CounterValue>> {
    const { dumper, driver, log } = this.options;
    if (dumper) {
      try {
        return dumper.read(this.table);
      } catch (error) {
        log?.warn({ reason: (error as Error).message }, "netlink counter dump failed; reading the counters with nft");
      }
    }
    return (await driver.listCounters("inet", this.table)) ?? new Map();
  }

  async report(): Promise<CountersReport> {
    const started = performance.now();
    const values = await this.values();
    const readMs = Math.round((performance.now() - started) * 10) / 10;
    return { table: this.table, readAt: new Date(this.now()).toISOString(), readMs, farms: farmCounters(values) };
  }
}
