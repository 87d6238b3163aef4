import type { Outputs } from "@/lib/trpc";

// The browser's rolling window of counter readings and the rates drawn from it. The agents
// report totals since each counter was created; a rate is the difference between two readings
// of the same node over the time between them. A node that did not answer in either reading
// adds nothing to that interval (rather than a drop and a spike), and a counter that went
// backwards (a backend removed and added again, a node whose state was lost) is a reset, not
// a negative rate.

export type CountersAnswer = Outputs["nodes"]["counters"];

/** What the agents count per backend: new connections, and the packets and bytes of all of them (both directions). */
export type Measure = "connections" | "packets" | "bytes";
export const MEASURES: readonly Measure[] = ["connections", "packets", "bytes"];

export type Amounts = Record<Measure, number>;

/** One poll: per node that answered, "farm/backend" → totals since the counters were created. */
export interface Reading {
  at: number;
  nodes: Map<string, Map<string, Amounts>>;
}

/** Per second over the interval ending at `at`, per farm and per "farm/backend", of each measure. */
export interface RatePoint {
  at: number;
  farms: Map<string, Amounts>;
  backends: Map<string, Amounts>;
}

export const key = (farm: string, backend: string) => `${farm}/${backend}`;

export function readingOf(answer: CountersAnswer): Reading {
  const nodes = new Map<string, Map<string, Amounts>>();
  for (const node of answer.nodes) {
    if (!node.ok) continue;
    const values = new Map<string, Amounts>();
    for (const farm of node.value.farms) for (const b of farm.backends) values.set(key(farm.name, b.name), { connections: b.connections, packets: b.packets, bytes: b.bytes });
    nodes.set(node.name, values);
  }
  return { at: Date.parse(answer.at), nodes };
}

function addTo(map: Map<string, Amounts>, k: string, amounts: Amounts): void {
  const sum = map.get(k);
  if (sum === undefined) map.set(k, { ...amounts });
  else for (const m of MEASURES) sum[m] += amounts[m];
}

/** The rate between two readings, of one node or of all (`node` null). */
export function rateBetween(previous: Reading, current: Reading, node: string | null): RatePoint {
  const seconds = (current.at - previous.at) / 1_000;
  const farms = new Map<string, Amounts>();
  const backends = new Map<string, Amounts>();
  if (seconds <= 0) return { at: current.at, farms, backends };
  for (const [name, values] of current.nodes) {
    if (node !== null && name !== node) continue;
    const before = previous.nodes.get(name);
    if (before === undefined) continue;
    for (const [k, value] of values) {
      const was = before.get(k);
      // One counter of the backend went back: it was made again, and the others with it.
      if (was === undefined || MEASURES.some((m) => value[m] < was[m])) continue;
      const rate = { connections: (value.connections - was.connections) / seconds, packets: (value.packets - was.packets) / seconds, bytes: (value.bytes - was.bytes) / seconds };
      addTo(backends, k, rate);
      addTo(farms, k.slice(0, k.indexOf("/")), rate);
    }
  }
  return { at: current.at, farms, backends };
}

export function ratesOf(readings: readonly Reading[], node: string | null): RatePoint[] {
  const out: RatePoint[] = [];
  for (let i = 1; i < readings.length; i++) out.push(rateBetween(readings[i - 1] as Reading, readings[i] as Reading, node));
  return out;
}
