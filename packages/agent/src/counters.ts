import { parseCounterName, type BackendCounters, type CounterValue, type CounterValues, type CountersReport, type FarmCounters, type IrRuleset } from "@switchyard/core";
import { addCountedValues, countedSets, kernelKey, listedKey } from "./counted-elements.ts";
import type { Logger } from "./log.ts";
import type { NftDriver } from "./nft/driver.ts";
import type { CounterDumper } from "./nft/netlink/counters.ts";
import type { ElementCounterDumper } from "./nft/netlink/elements.ts";

// The agent's per-backend counters: core gives every backend of a NAT farm two counters.
// `c/FARM/BACKEND`, a named counter, is incremented by the farm chain's rule for each
// connection it sends there (nat chains see the first packet of each connection only, so its
// packets are the connections the backend was given). `t/FARM/BACKEND` is the sum of the
// traffic sets' elements that count for the backend: the forward chain looks every packet of
// those connections up there, both ways (their packets and bytes are the backend's traffic).
// Both live in the kernel's table: a chain flush and refill (every delta) leaves them alone,
// and a full replace carries their values over (see Applier).

export type { BackendCounters, CountersReport, FarmCounters } from "@switchyard/core";

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The farms and backends of a table's counters, by name; counters core did not name are left out. */
export function farmCounters(values: CounterValues): FarmCounters[] {
  const farms = new Map<string, FarmCounters>();
  // By "FARM/BACKEND": a backend's two counters share their name after the kind's prefix.
  const backends = new Map<string, BackendCounters>();
  for (const [name, value] of values) {
    const parsed = parseCounterName(name);
    if (parsed === null) continue;
    let farm = farms.get(parsed.farm);
    if (farm === undefined) {
      farm = { name: parsed.farm, connections: 0, packets: 0, bytes: 0, backends: [] };
      farms.set(parsed.farm, farm);
    }
    const key = name.slice(name.indexOf("/") + 1);
    let backend = backends.get(key);
    if (backend === undefined) {
      backend = { name: parsed.backend, connections: 0, packets: 0, bytes: 0 };
      backends.set(key, backend);
      farm.backends.push(backend);
    }
    if (parsed.kind === "connections") {
      backend.connections = value.packets;
      farm.connections += value.packets;
    } else {
      backend.packets = value.packets;
      backend.bytes = value.bytes;
      farm.packets += value.packets;
      farm.bytes += value.bytes;
    }
  }
  const out = [...farms.values()].sort(byName);
  for (const farm of out) farm.backends.sort(byName);
  return out;
}

/** A Prometheus label value: backslash, double quote and line feed escaped (farm and backend names have none, so most pass as they are). */
const label = (value: string) => (/[\\"\n]/.test(value) ? value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n") : value);

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
  // Each series' labels once, for the three measures.
  const farmLabels = farms.map((f) => `{farm="${label(f.name)}"}`);
  const backendLabels = farms.map((f) => f.backends.map((b) => `{farm="${label(f.name)}",backend="${label(b.name)}"}`));
  const lines: string[] = [];
  for (const measure of ["connections", "packets", "bytes"] as const) {
    const farm = `switchyard_farm_${measure}_total`;
    const backend = `switchyard_backend_${measure}_total`;
    lines.push(`# HELP ${farm} ${HELP[measure].farm}`, `# TYPE ${farm} counter`);
    farms.forEach((f, i) => lines.push(`${farm}${farmLabels[i]} ${f[measure]}`));
    lines.push(`# HELP ${backend} ${HELP[measure].backend}`, `# TYPE ${backend} counter`);
    farms.forEach((f, i) => f.backends.forEach((b, j) => lines.push(`${backend}${backendLabels[i]?.[j]} ${b[measure]}`)));
  }
  return lines;
}

export interface CounterReaderOptions {
  driver: Pick<NftDriver, "listCounters" | "listSetCounters">;
  table: string;
  /** A netlink dump of the counters (tens of ms at 10,000 farms); nft -j (about 1 s there) when absent or when it fails. */
  dumper?: CounterDumper | null;
  /** A netlink dump of the traffic sets' elements; `nft list set` when absent or when it fails. */
  elements?: ElementCounterDumper | null;
  /** The IR the kernel holds: its counted sets say which backend each element counts for. */
  applied?: () => IrRuleset | null;
  /**
   * Runs a report's read between applies (the applier's queue): a set element dump that a
   * commit lands in can miss elements, and the dumper's retries would then meet the next commit.
   */
  serialize?: <T>(task: () => Promise<T>) => Promise<T>;
  log?: Logger;
  now?: () => number;
}

/** Reads the named counters of the agent's inet table and the counted elements of its traffic sets. */
export class CounterReader {
  readonly table: string;
  private readonly now: () => number;

  constructor(private readonly options: CounterReaderOptions) {
    this.table = options.table;
    this.now = options.now ?? Date.now;
  }

  /**
   * Every counter of the table by name (empty when the table does not exist): the named ones,
   * and the traffic sets' elements summed under the names `ir` gives them (by default the IR
   * applied; a full replace passes the IR it is about to apply, whose elements then start
   * from what the kernel's elements of the same key counted).
   */
  async values(ir: IrRuleset | null = this.options.applied?.() ?? null): Promise<Map<string, CounterValue>> {
    const out = await this.named();
    const sets = countedSets(ir, this.table);
    if (sets.length > 0) await this.addElements(sets, out);
    return out;
  }

  private async named(): Promise<Map<string, CounterValue>> {
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

  private async addElements(sets: ReturnType<typeof countedSets>, into: Map<string, CounterValue>): Promise<void> {
    const { elements, driver, log } = this.options;
    const names = sets.map((s) => s.name);
    if (elements) {
      try {
        addCountedValues(sets, elements.read(this.table, names), kernelKey, into);
        return;
      } catch (error) {
        log?.warn({ reason: (error as Error).message }, "netlink dump of the traffic sets failed; reading them with nft");
      }
    }
    const read = new Map<string, Map<string, CounterValue>>();
    for (const name of names) read.set(name, (await driver.listSetCounters("inet", this.table, name)) ?? new Map());
    addCountedValues(sets, read, listedKey, into);
  }

  async report(): Promise<CountersReport> {
    const serialize = this.options.serialize ?? ((task) => task());
    // Timed inside the queue: an apply it waited for is not the read's time.
    const { values, readMs } = await serialize(async () => {
      const started = performance.now();
      const read = await this.values();
      return { values: read, readMs: Math.round((performance.now() - started) * 10) / 10 };
    });
    return { table: this.table, readAt: new Date(this.now()).toISOString(), readMs, farms: farmCounters(values) };
  }
}
