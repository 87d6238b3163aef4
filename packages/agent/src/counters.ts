import { parseCounterName, type BackendCounters, type CounterValue, type CounterValues, type CountersReport, type FarmCounters } from "@switchyard/core";
import type { Logger } from "./log.ts";
import type { NftDriver } from "./nft/driver.ts";
import type { CounterDumper } from "./nft/netlink/counters.ts";

// The agent's per-backend counters: core gives every backend of a NAT farm two named counters.
// `c/FARM/BACKEND` is incremented by the farm chain's rule for each connection it sends
// there (nat chains see the first packet of each connection only, so its packets are the
// connections the backend was given); `t/FARM/BACKEND` by the forward chain for every packet
// of those connections, both ways (its packets and bytes are the backend's traffic). Named
// counters are kernel objects of the table: a chain flush and refill (every delta) leaves them
// alone, and a full replace carries their values over (see Applier).

export type { BackendCounters, CountersReport, FarmCounters } from "@switchyard/core";

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The farms and backends of a table's counters, by name; counters core did not name are left out. */
export function farmCounters(values: CounterValues): FarmCounters[] {
  const farms = new Map<string, { farm: FarmCounters; backends: Map<string, BackendCounters> }>();
  for (const [name, value] of values) {
    const parsed = parseCounterName(name);
    if (parsed === null) continue;
    let entry = farms.get(parsed.farm);
    if (entry === undefined) {
      entry = { farm: { name: parsed.farm, connections: 0, packets: 0, bytes: 0, backends: [] }, backends: new Map() };
      farms.set(parsed.farm, entry);
    }
    let backend = entry.backends.get(parsed.backend);
    if (backend === undefined) {
      backend = { name: parsed.backend, connections: 0, packets: 0, bytes: 0 };
      entry.backends.set(parsed.backend, backend);
      entry.farm.backends.push(backend);
    }
    if (parsed.kind === "connections") {
      backend.connections = value.packets;
      entry.farm.connections += value.packets;
    } else {
      backend.packets = value.packets;
      backend.bytes = value.bytes;
      entry.farm.packets += value.packets;
      entry.farm.bytes += value.bytes;
    }
  }
  const out = [...farms.values()].map((e) => e.farm).sort(byName);
  for (const farm of out) farm.backends.sort(byName);
  return out;
}

/** A Prometheus label value: backslash, double quote and line feed escaped. */
const label = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

type Measure = "connections" | "packets" | "bytes";

const HELP: Record<Measure, { farm: string; backend: string }> = {
  connections: {
    farm: "New connections the farm balanced to its backends (kernel counters, one per backend).",
    backend: "New connections balanced to the backend.",
  },
  packets: {
    farm: "Packets of the farm's balanced connections, both directions (kernel counters, one per backend).",
    backend: "Packets of the connections balanced to the backend, both directions.",
  },
  bytes: {
    farm: "Bytes (IP length) of the farm's balanced connections, both directions.",
    backend: "Bytes (IP length) of the connections balanced to the backend, both directions.",
  },
};

/** Prometheus text lines (with HELP and TYPE) for the counters. */
export function countersMetrics(farms: readonly FarmCounters[]): string[] {
  const lines: string[] = [];
  for (const measure of ["connections", "packets", "bytes"] as const) {
    const farm = `switchyard_farm_${measure}_total`;
    const backend = `switchyard_backend_${measure}_total`;
    lines.push(`# HELP ${farm} ${HELP[measure].farm}`, `# TYPE ${farm} counter`);
    for (const f of farms) lines.push(`${farm}{farm="${label(f.name)}"} ${f[measure]}`);
    lines.push(`# HELP ${backend} ${HELP[measure].backend}`, `# TYPE ${backend} counter`);
    for (const f of farms) for (const b of f.backends) lines.push(`${backend}{farm="${label(f.name)}",backend="${label(b.name)}"} ${b[measure]}`);
  }
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
