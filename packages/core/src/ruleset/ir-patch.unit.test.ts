import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../nftlb/codec.ts";
import { buildRuleset } from "./build.ts";
import { configPairs, TEST_FACTS } from "./fake-nft.ts";
import { diffIr, patchIr } from "./ir-patch.ts";
import type { IrRuleset } from "./ir.ts";

const build = (config: Parameters<typeof buildRuleset>[0]) => buildRuleset(config, { facts: TEST_FACTS });
/** What the journal does with a patch: JSON out, JSON in. */
const roundTrip = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

describe("diffIr / patchIr", () => {
  it("patchIr(a, diffIr(a, b)) is b, order included, for random pairs of rulesets", () => {
    fc.assert(
      fc.property(configPairs, ({ a, b }) => {
        const from = build(a);
        const to = build(b);
        expect(patchIr(from, roundTrip(diffIr(from, to)))).toEqual(to);
        expect(diffIr(from, from)).toEqual({ tables: [] });
      }),
      { numRuns: 200 },
    );
  });

  it("a one-backend change at 1,000 farms is a patch of one chain", () => {
    const farms = Array.from({ length: 1000 }, (_, i) => ({
      name: `f${i}`,
      "virtual-addr": `198.18.${100 + Math.floor(i / 250)}.${i % 250}`,
      "virtual-ports": "80",
      backends: [
        { name: "b1", "ip-addr": "198.18.2.11" },
        { name: "b2", "ip-addr": "198.18.2.12" },
      ],
    }));
    const a = parseConfig({ farms });
    const b = { farms: a.farms.map((f, i) => (i === 7 ? { ...f, backends: f.backends.map((x, j) => (j === 0 ? { ...x, state: "down" as const } : x)) } : f)) };
    const patch = diffIr(build(a), build(b));
    expect(patch.tables).toHaveLength(1);
    expect(patch.tables[0]).toEqual({ family: "inet", chains: { put: [{ name: "farm-f7-4", rules: ["ct mark set 0x80000000 dnat ip to 198.18.2.12"] }] } });
    expect(JSON.stringify(patch).length).toBeLessThan(200);
  });

  it("refuses a patch made for another ruleset", () => {
    const a: IrRuleset = { tables: [{ family: "inet", name: "t", maps: [], chains: [{ name: "x", rules: ["drop"] }] }] };
    const b: IrRuleset = { tables: [{ family: "inet", name: "t", maps: [], chains: [] }] };
    expect(() => patchIr(b, diffIr(a, b))).toThrow(/cannot remove chain x: there is none/);
    expect(() => patchIr({ tables: [] }, diffIr(b, a))).toThrow(/table inet is not there/);
  });
});
