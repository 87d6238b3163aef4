import { z } from "zod";
import type { Facts } from "../ruleset/facts.ts";

// What an agent reports about its host (GET /v1/facts) and what the control plane renders dsr
// farms with: interfaces (name, MAC, addresses) and the neighbour table.

export const HostInterfaceSchema = z.object({
  name: z.string(),
  /** null for interfaces without a link-layer address (tunnels). */
  mac: z.string().nullable(),
  /** "198.18.0.1/24", "2001:db8::1/64", ... */
  addresses: z.array(z.string()),
});

export const HostNeighbourSchema = z.object({
  ip: z.string(),
  mac: z.string().nullable(),
  dev: z.string(),
  /** iproute2's states joined with ",", e.g. "REACHABLE" or "STALE". */
  state: z.string(),
});

export const HostFactsSchema = z.object({
  interfaces: z.array(HostInterfaceSchema),
  neighbours: z.array(HostNeighbourSchema),
});

export type HostInterface = z.output<typeof HostInterfaceSchema>;
export type HostNeighbour = z.output<typeof HostNeighbourSchema>;
export type HostFacts = z.output<typeof HostFactsSchema>;

/** The renderer's facts from a host's report: MACs by interface, and by neighbour address (failed entries left out). */
export function factsFromHost(host: HostFacts): Facts {
  const interfaces: Facts["interfaces"] = {};
  for (const i of host.interfaces) if (i.mac !== null) interfaces[i.name] = { mac: i.mac };
  const neighbours: Facts["neighbours"] = {};
  for (const n of host.neighbours) if (n.mac !== null && !/FAILED|INCOMPLETE/.test(n.state)) neighbours[n.ip] = n.mac;
  return { interfaces, neighbours };
}
