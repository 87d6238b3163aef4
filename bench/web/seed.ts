// Farms for the web benchmark and for looking at the dashboard: varied names, protocols, modes,
// schedulers and states, each farm on its own virtual address (198.18.0.0/15), backends in
// 198.19.0.0/16. Committed as one import revision through the API's own commitChange.
import { parseConfig } from "@switchyard/core";
import { commitChange } from "@switchyard/api";
import type { Database } from "@switchyard/db";

const KINDS = ["web", "api", "auth", "cdn", "dns", "mail", "db", "cache", "queue", "search"] as const;
const REGIONS = ["ams", "fra", "lon", "nyc", "sfo", "sgp"] as const;

/** Farm `i` of a fleet: deterministic, so that two runs see the same names and a search has a known answer. */
export function benchFarm(i: number): Record<string, unknown> {
  const kind = KINDS[i % KINDS.length] as string;
  const region = REGIONS[Math.floor(i / KINDS.length) % REGIONS.length] as string;
  const udp = kind === "dns";
  const vip = `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`;
  const backends = 2 + (i % 3);
  const dnat = i % 7 === 3;
  return {
    name: `${kind}-${region}-${String(i).padStart(5, "0")}`,
    "virtual-addr": vip,
    "virtual-ports": udp ? "53" : kind === "web" || kind === "cdn" ? "80,443" : kind === "db" ? "5432" : "8080",
    protocol: udp ? "udp" : "tcp",
    mode: dnat ? "dnat" : "snat",
    scheduler: (["rr", "weight", "rr", "hash"] as const)[Math.floor(i / 10) % 4],
    state: i % 40 === 7 ? "down" : i % 60 === 11 ? "off" : "up",
    backends: Array.from({ length: backends }, (_, b) => ({
      name: `b${b + 1}`,
      "ip-addr": `198.19.${Math.floor(i / 60) % 250}.${((i % 60) * 4 + b + 1) % 255 || 1}`,
      port: udp ? "53" : "8080",
      weight: String(1 + ((i + b) % 4)),
      state: (i + b) % 23 === 5 ? "down" : (i + b) % 31 === 9 ? "off" : "up",
    })),
  };
}

/** Commits `count` farms (replacing whatever the config held) as one import revision. */
export async function seedFarms(db: Database, count: number): Promise<number> {
  const config = parseConfig({ farms: Array.from({ length: count }, (_, i) => benchFarm(i)) });
  const outcome = await commitChange(db, { id: null, name: "bench", role: "admin" }, { action: "config.import", kind: "import", message: `${count} benchmark farms` }, () => config);
  return outcome.revision;
}
