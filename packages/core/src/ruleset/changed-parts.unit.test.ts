import { describe, expect, it } from "vitest";
import { parseConfig } from "../nftlb/codec.ts";
import { buildRuleset } from "./build.ts";
import { changedParts } from "./changed-parts.ts";
import { renderRuleset } from "./render.ts";

const farm = (name: string, vip: string, b2 = "up", extra: Record<string, unknown> = {}) => ({
  name,
  "virtual-addr": vip,
  "virtual-ports": "80",
  backends: [
    { name: "b1", "ip-addr": "198.18.2.11", port: "8080" },
    { name: "b2", "ip-addr": "198.18.2.12", port: "8080", state: b2 },
  ],
  ...extra,
});
const ir = (...farms: object[]) => buildRuleset(parseConfig({ farms }), { table: "t" });

describe("changedParts", () => {
  it("equal rulesets have no changed parts", () => {
    const a = ir(farm("web", "198.18.1.1"), farm("api", "198.18.1.2"));
    expect(changedParts(a, ir(farm("web", "198.18.1.1"), farm("api", "198.18.1.2")))).toEqual({ before: { tables: [] }, after: { tables: [] } });
  });

  it("a backend taken down changes only its farm's scheduler chain, shown with its farm chain (which id is which address)", () => {
    const parts = changedParts(ir(farm("web", "198.18.1.1"), farm("api", "198.18.1.2")), ir(farm("web", "198.18.1.1"), farm("api", "198.18.1.2", "down")));
    for (const side of [parts.before, parts.after]) {
      expect(side.tables).toHaveLength(1);
      expect(side.tables[0]?.maps).toEqual([]);
      expect(side.tables[0]?.chains.map((c) => c.name)).toEqual(["sched-api-4", "farm-api-4"]);
      expect(renderRuleset(side)).toContain("ct mark 0xc0000001 meta l4proto tcp counter name c/api/b2 dnat ip to 198.18.2.12:8080");
    }
    // The farm chain is context: the same on both sides.
    expect(parts.after.tables[0]?.chains[1]).toEqual(parts.before.tables[0]?.chains[1]);
    // Two backends drawn from, then one (its id: b1 is the first backend).
    expect(renderRuleset(parts.before)).toContain("ct mark set numgen inc mod 2 offset 0xc0000000");
    expect(renderRuleset(parts.after)).toContain("ct mark set numgen random mod 1 offset 0xc0000000");
  });

  it("an added farm brings its chains, its map element and its counters; the other farm's stay out", () => {
    const parts = changedParts(ir(farm("web", "198.18.1.1")), ir(farm("web", "198.18.1.1"), farm("api", "198.18.1.2")));
    // The table was there before: on that side, empty.
    expect(parts.before.tables).toEqual([{ family: "inet", name: "t", maps: [], chains: [] }]);
    const [table] = parts.after.tables;
    expect(table?.chains.map((c) => c.name)).toEqual(["sched-api-4", "farm-api-4"]);
    expect(table?.maps.flatMap((m) => m.elements.map(([k]) => k))).toEqual([
      "tcp . 198.18.1.2 . 80",
      "198.18.1.2 . tcp . 80 . 198.18.2.11 . 8080",
      "198.18.1.2 . tcp . 80 . 198.18.2.12 . 8080",
    ]);
    expect(table?.counters?.every((c) => c.includes("api"))).toBe(true);
    expect(renderRuleset(parts.after)).not.toContain("198.18.1.1");
  });

  it("a table that appears or goes (the first dsr farm) is shown whole on its side", () => {
    const dsr = farm("edge", "198.18.1.9", "up", { mode: "dsr", iface: "eth0", "ether-addr": "02:00:00:00:00:01" });
    (dsr.backends as Record<string, unknown>[]).forEach((b, i) => {
      delete b.port;
      b["ether-addr"] = `02:00:00:00:00:1${i}`;
    });
    const parts = changedParts(ir(farm("web", "198.18.1.1")), ir(farm("web", "198.18.1.1"), dsr));
    expect(parts.before.tables).toEqual([]);
    expect(parts.after.tables.map((t) => t.family)).toEqual(["netdev"]);
    expect(parts.after.tables[0]?.chains.map((c) => c.name)).toEqual(["ingress-eth0", "farm-edge-4"]);
    expect(changedParts(parts.after, { tables: [] }).before).toEqual(parts.after);
  });
});
