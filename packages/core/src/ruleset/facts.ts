import { z } from "zod";
import type { Config } from "../model/farm.ts";

/**
 * What the renderer needs to know about the host that the config does not say: dsr
 * rewrites MAC addresses, so it needs the MAC of the interface it sends from and of every
 * backend. The agent resolves these (sysfs, the neighbour table) and reports them.
 */
export const FactsSchema = z.strictObject({
  interfaces: z.record(z.string(), z.strictObject({ mac: z.string() })),
  neighbours: z.record(z.string(), z.string()),
});
export type Facts = z.output<typeof FactsSchema>;

export const NO_FACTS: Facts = { interfaces: {}, neighbours: {} };

export interface NeededFacts {
  interfaces: string[];
  /** Backend addresses whose MAC the config does not give. */
  neighbours: string[];
}

/** Which facts a config's dsr farms need, for the agent to resolve before rendering. */
export function neededFacts(config: Config): NeededFacts {
  const interfaces = new Set<string>();
  const neighbours = new Set<string>();
  for (const farm of config.farms) {
    if (farm.mode !== "dsr" || farm.state !== "up") continue;
    const out = farm.oface ?? farm.iface;
    if (out !== undefined && farm["ether-addr"] === undefined) interfaces.add(out);
    for (const backend of farm.backends) {
      if (backend.state === "up" && backend["ether-addr"] === undefined) neighbours.add(backend["ip-addr"]);
    }
  }
  return { interfaces: [...interfaces].sort(), neighbours: [...neighbours].sort() };
}
