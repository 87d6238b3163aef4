import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseConfig, toNftlb } from "../nftlb/codec.ts";
import { buildRuleset } from "./build.ts";
import { planDelta, type NftOp } from "./delta.ts";
import { configPairs, fakeApply, FakeNftError, normalizeIr, TEST_FACTS, type FakeNftErrorCode } from "./fake-nft.ts";
import { checkIr } from "./guard.ts";
import type { IrRuleset } from "./ir.ts";

const T = "switchyard";
const at = { family: "inet", table: T } as const;

/** A table like the renderer's: a base chain with a vmap, a farm chain, a regular chain jumping to it. */
const BASE: IrRuleset = {
  tables: [
    {
      family: "inet",
      name: T,
      maps: [
        { name: "ports", key: "inet_proto . ipv4_addr . inet_service", interval: false, elements: [["tcp . 198.18.1.1 . 80", "goto farm"]] },
        { name: "ranges", key: "inet_proto . ipv4_addr . inet_service", interval: true, elements: [["tcp . 198.18.1.1 . 8000-8100", "goto farm"]] },
      ],
      chains: [
        { name: "pre", hook: { type: "nat", hook: "prerouting", priority: -100 }, rules: ["meta l4proto . ip daddr . th dport vmap @ports"] },
        { name: "farm", rules: ["ct mark set 0x1 counter name c/farm/a dnat ip to 198.18.2.1"] },
        { name: "hop", rules: ["jump farm"] },
      ],
      counters: ["c/farm/a", "c/farm/idle"],
    },
  ],
};

function refused(ops: NftOp[], ir: IrRuleset = BASE): FakeNftError {
  const before = structuredClone(ir);
  try {
    fakeApply(ir, ops);
  } catch (error) {
    expect(ir).toEqual(before); // the input is never touched
    if (error instanceof FakeNftError) return error;
    throw error;
  }
  throw new Error(`expected the fake to refuse:\n${JSON.stringify(ops)}`);
}

describe("the fake refuses what the kernel refuses", () => {
  const cases: [string, NftOp[], FakeNftErrorCode, number][] = [
    ["a chain into a missing table", [{ op: "add chain", family: "netdev", table: T, chain: "c" }], "ENOENT", 0],
    ["deleting a missing table", [{ op: "delete table", family: "netdev", table: T }], "ENOENT", 0],
    ["deleting a chain a rule still jumps to", [{ op: "delete chain", ...at, chain: "farm" }], "EBUSY", 0],
    [
      "deleting a chain an element still jumps to",
      [
        { op: "flush chain", ...at, chain: "hop" },
        { op: "delete chain", ...at, chain: "farm" },
      ],
      "EBUSY",
      1,
    ],
    ["deleting a map a rule still uses", [{ op: "delete map", ...at, map: "ports" }], "EBUSY", 0],
    ["deleting a missing chain", [{ op: "delete chain", ...at, chain: "nope" }], "ENOENT", 0],
    ["deleting a missing map", [{ op: "delete map", ...at, map: "nope" }], "ENOENT", 0],
    ["flushing a missing chain", [{ op: "flush chain", ...at, chain: "nope" }], "ENOENT", 0],
    ["a rule into a missing chain", [{ op: "add rule", ...at, chain: "nope", rule: "accept" }], "ENOENT", 0],
    ["a rule that jumps to a missing chain", [{ op: "add rule", ...at, chain: "hop", rule: "jump nope" }], "ENOENT", 0],
    ["a rule that jumps to a base chain", [{ op: "add rule", ...at, chain: "hop", rule: "goto pre" }], "EOPNOTSUPP", 0],
    ["a rule that uses a missing map", [{ op: "add rule", ...at, chain: "hop", rule: "ip daddr vmap @nope" }], "ENOENT", 0],
    ["an element that jumps to a missing chain", [{ op: "add element", ...at, map: "ports", elements: [["tcp . 198.18.1.2 . 80", "goto nope"]] }], "ENOENT", 0],
    ["an element that jumps to a base chain", [{ op: "add element", ...at, map: "ports", elements: [["tcp . 198.18.1.2 . 80", "goto pre"]] }], "EOPNOTSUPP", 0],
    ["an element into a missing map", [{ op: "add element", ...at, map: "nope", elements: [["1.2.3.4", "accept"]] }], "ENOENT", 0],
    ["an existing key with another value", [{ op: "add element", ...at, map: "ports", elements: [["tcp . 198.18.1.1 . 80", "drop"]] }], "EEXIST", 0],
    ["an interval that overlaps another", [{ op: "add element", ...at, map: "ranges", elements: [["tcp . 198.18.1.1 . 8050-8200", "drop"]] }], "EEXIST", 0],
    ["a range in a map without the interval flag", [{ op: "add element", ...at, map: "ports", elements: [["tcp . 198.18.1.1 . 90-95", "drop"]] }], "EINVAL", 0],
    ["deleting a missing element", [{ op: "delete element", ...at, map: "ports", keys: ["tcp . 198.18.1.1 . 81"] }], "ENOENT", 0],
    ["deleting an element twice", [{ op: "delete element", ...at, map: "ports", keys: ["tcp . 198.18.1.1 . 80", "tcp . 198.18.1.1 . 80"] }], "ENOENT", 0],
    ["re-adding a chain with another hook", [{ op: "add chain", ...at, chain: "pre", hook: { type: "nat", hook: "prerouting", priority: -90 } }], "EOPNOTSUPP", 0],
    ["making a regular chain a base chain with add", [{ op: "add chain", ...at, chain: "farm", hook: { type: "nat", hook: "prerouting", priority: -90 } }], "EOPNOTSUPP", 0],
    ["deleting a counter a rule still names", [{ op: "delete counter", ...at, counter: "c/farm/a" }], "EBUSY", 0],
    ["deleting a missing counter", [{ op: "delete counter", ...at, counter: "c/nope/a" }], "ENOENT", 0],
    ["a rule that names a missing counter", [{ op: "add rule", ...at, chain: "hop", rule: "counter name c/nope/a accept" }], "ENOENT", 0],
    ["re-adding a map with another type", [{ op: "add map", ...at, map: "ports", key: "ipv4_addr", interval: false }], "EEXIST", 0],
  ];
  for (const [what, ops, code, index] of cases) {
    it(what, () => {
      const error = refused(ops);
      expect(error.code).toBe(code);
      expect(error.index).toBe(index);
      expect(error.message).toMatch(new RegExp(`^op ${index + 1} \\(${ops[index]?.op} inet|netdev`));
    });
  }
});

describe("the fake accepts what the kernel accepts", () => {
  it("add of what exists identically is a no-op; add then delete of a missing table is fine", () => {
    const ops: NftOp[] = [
      { op: "add table", family: "netdev", table: T },
      { op: "delete table", family: "netdev", table: T },
      { op: "add table", ...at },
      { op: "add chain", ...at, chain: "pre", hook: { type: "nat", hook: "prerouting", priority: -100 } },
      { op: "add chain", ...at, chain: "pre" },
      { op: "add chain", ...at, chain: "farm" },
      { op: "add map", ...at, map: "ports", key: "inet_proto . ipv4_addr . inet_service", interval: false },
      { op: "add element", ...at, map: "ports", elements: [["tcp . 198.18.1.1 . 80", "goto farm"]] },
      { op: "add element", ...at, map: "ranges", elements: [["tcp . 198.18.1.1 . 8000-8100", "goto farm"]] },
    ];
    expect(fakeApply(BASE, ops)).toEqual(normalizeIr(BASE));
  });

  it("the orders the kernel takes: flush, delete elements, delete maps, delete chains; delete then re-add", () => {
    const ops: NftOp[] = [
      { op: "flush chain", ...at, chain: "pre" },
      { op: "flush chain", ...at, chain: "hop" },
      { op: "delete element", ...at, map: "ports", keys: ["tcp . 198.18.1.1 . 80"] },
      { op: "delete map", ...at, map: "ranges" },
      { op: "delete chain", ...at, chain: "farm" },
      { op: "delete chain", ...at, chain: "pre" },
      { op: "add chain", ...at, chain: "pre" },
      { op: "add rule", ...at, chain: "pre", rule: "jump hop" },
    ];
    const out = fakeApply(BASE, ops);
    expect(out.tables[0]?.chains.map((c) => c.name)).toEqual(["hop", "pre"]);
    expect(out.tables[0]?.chains[1]).toEqual({ name: "pre", rules: ["jump hop"] });
  });

  it("deleting a chain takes its own rules with it (the kernel does not need a flush first)", () => {
    expect(fakeApply(BASE, [{ op: "delete chain", ...at, chain: "hop" }]).tables[0]?.chains.map((c) => c.name)).toEqual(["farm", "pre"]);
  });
});

describe("the fake and named counters", () => {
  it("adds a counter (a no-op when it exists), deletes one no rule names, and one whose rules were flushed first", () => {
    const out = fakeApply(BASE, [
      { op: "add counter", ...at, counter: "c/farm/a" },
      { op: "add counter", ...at, counter: "c/new/a" },
      { op: "add rule", ...at, chain: "hop", rule: "counter name c/new/a accept" },
      { op: "delete counter", ...at, counter: "c/farm/idle" },
      { op: "flush chain", ...at, chain: "farm" },
      { op: "delete counter", ...at, counter: "c/farm/a" },
    ]);
    expect(out.tables[0]?.counters).toEqual(["c/new/a"]);
    const none = fakeApply(out, [
      { op: "flush chain", ...at, chain: "hop" },
      { op: "delete counter", ...at, counter: "c/new/a" },
    ]);
    expect(none.tables[0]).not.toHaveProperty("counters");
  });
});

describe("normalizeIr", () => {
  it("sorts tables, chains, maps and elements; keeps the order of rules; drops an absent device", () => {
    const ir: IrRuleset = {
      tables: [
        { family: "netdev", name: T, maps: [], chains: [{ name: "i", hook: { type: "filter", hook: "ingress", priority: 1, device: "eth0" }, rules: [] }] },
        {
          family: "inet",
          name: T,
          maps: [
            { name: "b", key: "ipv4_addr", interval: false, elements: [["198.18.1.2", "drop"], ["198.18.1.1", "accept"]] },
            { name: "a", key: "ipv4_addr", interval: false, elements: [] },
          ],
          chains: [
            { name: "z", rules: ["drop", "accept"] },
            { name: "p", hook: { type: "nat", hook: "prerouting", priority: 0, device: undefined }, rules: [] },
          ],
        },
      ],
    };
    const n = normalizeIr(ir);
    expect(n.tables.map((t) => t.family)).toEqual(["inet", "netdev"]);
    expect(n.tables[0]?.maps.map((m) => m.name)).toEqual(["a", "b"]);
    expect(n.tables[0]?.maps[1]?.elements).toEqual([["198.18.1.1", "accept"], ["198.18.1.2", "drop"]]);
    expect(n.tables[0]?.chains).toEqual([
      { name: "p", hook: { type: "nat", hook: "prerouting", priority: 0 }, rules: [] },
      { name: "z", rules: ["drop", "accept"] },
    ]);
    expect(normalizeIr(n)).toEqual(n);
  });
});

describe("the fake catches a planner that gets the order wrong", () => {
  it("for random changes, moving any deletion to the front of the plan is refused whenever it matters", () => {
    let refusedCount = 0;
    fc.assert(
      fc.property(configPairs, ({ a, b }) => {
        const A = buildRuleset(a, { facts: TEST_FACTS });
        const B = buildRuleset(b, { facts: TEST_FACTS });
        const plan = planDelta(A, B, T);
        const deletions = plan.filter((op) => op.op === "delete chain" || op.op === "delete map");
        const rest = plan.filter((op) => op.op !== "delete chain" && op.op !== "delete map");
        try {
          expect(fakeApply(A, [...deletions, ...rest])).toEqual(normalizeIr(B));
        } catch (error) {
          if (!(error instanceof FakeNftError)) throw error;
          expect(error.code).toBe("EBUSY");
          refusedCount++;
        }
      }),
      { numRuns: 200 },
    );
    // Most changes remove a farm somewhere, and its chain is still referenced until its element goes.
    expect(refusedCount).toBeGreaterThan(20);
  });
});

describe("the generated configuration pairs", () => {
  it("are valid, differ in interesting ways, and their rulesets pass checkIr", () => {
    const samples = fc.sample(configPairs, { numRuns: 200, seed: 1 });
    let dsr = 0;
    let same = 0;
    for (const { a, b } of samples) {
      for (const c of [a, b]) {
        expect(parseConfig(toNftlb(c))).toEqual(c);
        checkIr(buildRuleset(c, { facts: TEST_FACTS }), T);
      }
      if (b.farms.some((f) => f.mode === "dsr")) dsr++;
      if (a.farms.some((fa) => b.farms.some((fb) => JSON.stringify(fa) === JSON.stringify(fb)))) same++;
    }
    expect(dsr).toBeGreaterThan(50);
    expect(same).toBeGreaterThan(50);
  });
});
