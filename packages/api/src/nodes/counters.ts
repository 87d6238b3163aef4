import type { CountersReport, FarmCounters } from "@switchyard/core";

// The fleet's counters: each node counts the connections it balanced itself, so a farm's
// total is the sum over the nodes that answered, backend by backend.

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function sumCounters(reports: readonly Pick<CountersReport, "farms">[]): FarmCounters[] {
  const farms = new Map<string, { connections: number; backends: Map<string, number> }>();
  for (const report of reports) {
    for (const farm of report.farms) {
      let sum = farms.get(farm.name);
      if (sum === undefined) farms.set(farm.name, (sum = { connections: 0, backends: new Map() }));
      sum.connections += farm.connections;
      for (const backend of farm.backends) sum.backends.set(backend.name, (sum.backends.get(backend.name) ?? 0) + backend.connections);
    }
  }
  return [...farms]
    .map(([name, sum]) => ({ name, connections: sum.connections, backends: [...sum.backends].map(([b, connections]) => ({ name: b, connections })).sort(byName) }))
    .sort(byName);
}
