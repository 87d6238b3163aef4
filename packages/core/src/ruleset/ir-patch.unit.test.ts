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

  it("a one-backend change at 1,000 farms is a patch of one scheduler chain", () => {
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
    expect(patch.tables[0]).toEqual({ family: "inet", chains: { put: [{ name: "sched-f7-4", rules: ["ct mark set numgen random mod 1 offset 0xc0000001"] }] } });
    expect(JSON.stringify(patch).length).toBeLessThan(200);
  });

  it("counters: added and removed by name, the whole list when that would not rebuild it in order, null when an empty list goes", () => {
    const t = (counters?: string[]): IrRuleset => ({ tables: [{ family: "inet", name: "t", maps: [], chains: [], ...(counters ? { counters } : {}) }] });
    const cases: [string[] | undefined, string[] | undefined, unknown][] = [
      [["a", "b"], ["a", "b", "c"], { add: ["c"] }],
      [["a", "b", "c"], ["a", "c"], { remove: ["b"] }],
      [undefined, ["a"], { add: ["a"] }],
      [["a"], undefined, { remove: ["a"] }],
      [[], undefined, { all: null }],
      [["a", "b"], ["b", "a"], { all: ["b", "a"] }],
      [["a"], [], { all: [] }],
    ];
    for (const [before, after, counters] of cases) {
      const patch = roundTrip(diffIr(t(before), t(after)));
      expect(patch, JSON.stringify([before, after])).toEqual({ tables: [{ family: "inet", counters }] });
      expect(patchIr(t(before), patch)).toEqual(t(after));
      expect(Object.keys(patchIr(t(before), patch).tables[0] ?? {}).includes("counters")).toBe(after !== undefined);
    }
    expect(diffIr(t(["a"]), t(["a"]))).toEqual({ tables: [] });
  });

  it("adding a farm to 1,000 adds its counters, not the whole list", () => {
    const farms = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ name: `f${i}`, "virtual-addr": `198.18.${100 + Math.floor(i / 250)}.${i % 250}`, "virtual-ports": "80", backends: [{ name: "b1", "ip-addr": "198.18.2.11" }] }));
    const patch = diffIr(build(parseConfig({ farms: farms(1000) })), build(parseConfig({ farms: farms(1001) })));
    expect(patch.tables[0]).toMatchObject({ counters: { add: ["c/f1000/b1"] } });
    expect(JSON.stringify(patch).length).toBeLessThan(800);
  });

  it("refuses a patch made for another ruleset", () => {
    const a: IrRuleset = { tables: [{ family: "inet", name: "t", maps: [], chains: [{ name: "x", rules: ["drop"] }] }] };
    const b: IrRuleset = { tables: [{ family: "inet", name: "t", maps: [], chains: [] }] };
    expect(() => patchIr(b, diffIr(a, b))).toThrow(/cannot remove chain x: there is none/);
    expect(() => patchIr({ tables: [] }, diffIr(b, a))).toThrow(/table inet is not there/);
  });
});
