import type { BackendCounters, CountersReport, FarmCounters } from "@switchyard/core";

// The fleet's counters: each node counts the connections it balanced itself, and the packets
// and bytes of those connections, so a farm's total is the sum over the nodes that answered,
// backend by backend.

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

const add = (into: { connections: number; packets: number; bytes: number }, from: { connections: number; packets: number; bytes: number }) => {
  into.connections += from.connections;
  into.packets += from.packets;
  into.bytes += from.bytes;
};

export function sumCounters(reports: readonly Pick<CountersReport, "farms">[]): FarmCounters[] {
  const farms = new Map<string, { farm: FarmCounters; backends: Map<string, BackendCounters> }>();
  for (const report of reports) {
    for (const farm of report.farms) {
      let sum = farms.get(farm.name);
      if (sum === undefined) farms.set(farm.name, (sum = { farm: { name: farm.name, connections: 0, packets: 0, bytes: 0, backends: [] }, backends: new Map() }));
      add(sum.farm, farm);
      for (const backend of farm.backends) {
        let b = sum.backends.get(backend.name);
        if (b === undefined) sum.backends.set(backend.name, (b = { name: backend.name, connections: 0, packets: 0, bytes: 0 }));
        add(b, backend);
      }
    }
  }
  return [...farms.values()].map(({ farm, backends }) => ({ ...farm, backends: [...backends.values()].sort(byName) })).sort(byName);
}
