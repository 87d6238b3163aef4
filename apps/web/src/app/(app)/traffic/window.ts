import type { Outputs } from "@/lib/trpc";

// The browser's rolling window of counter readings and the rates drawn from it. The agents
// report totals since each counter was created; a rate is the difference between two readings
// of the same node over the time between them. A node that did not answer in either reading
// adds nothing to that interval (rather than a drop and a spike), and a counter that went
// backwards (a backend removed and added again, a node whose state was lost) is a reset, not
// a negative rate.

export type CountersAnswer = Outputs["nodes"]["counters"];

/** One poll: per node that answered, "farm/backend" → connections since the counter was created. */
export interface Reading {
  at: number;
  nodes: Map<string, Map<string, number>>;
}

/** New connections per second over the interval ending at `at`, per farm and per "farm/backend". */
export interface RatePoint {
  at: number;
  farms: Map<string, number>;
  backends: Map<string, number>;
}

export const key = (farm: string, backend: string) => `${farm}/${backend}`;

export function readingOf(answer: CountersAnswer): Reading {
  const nodes = new Map<string, Map<string, number>>();
  for (const node of answer.nodes) {
    if (!node.ok) continue;
    const values = new Map<string, number>();
    for (const farm of node.value.farms) for (const b of farm.backends) values.set(key(farm.name, b.name), b.connections);
    nodes.set(node.name, values);
  }
  return { at: Date.parse(answer.at), nodes };
}

/** The rate between two readings, of one node or of all (`node` null). */
export function rateBetween(previous: Reading, current: Reading, node: string | null): RatePoint {
  const seconds = (current.at - previous.at) / 1_000;
  const farms = new Map<string, number>();
  const backends = new Map<string, number>();
  if (seconds <= 0) return { at: current.at, farms, backends };
  for (const [name, values] of current.nodes) {
    if (node !== null && name !== node) continue;
    const before = previous.nodes.get(name);
    if (before === undefined) continue;
    for (const [k, value] of values) {
      const was = before.get(k);
      if (was === undefined || value < was) continue;
      const rate = (value - was) / seconds;
      backends.set(k, (backends.get(k) ?? 0) + rate);
      const farm = k.slice(0, k.indexOf("/"));
      farms.set(farm, (farms.get(farm) ?? 0) + rate);
    }
  }
  return { at: current.at, farms, backends };
}

export function ratesOf(readings: readonly Reading[], node: string | null): RatePoint[] {
  const out: RatePoint[] = [];
  for (let i = 1; i < readings.length; i++) out.push(rateBetween(readings[i - 1] as Reading, readings[i] as Reading, node));
  return out;
}
