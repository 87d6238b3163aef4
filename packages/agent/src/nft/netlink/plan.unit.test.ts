import { buildRuleset, parseConfig, planDelta, type NftOp } from "@switchyard/core";
import { describe, expect, it } from "vitest";
import { NFT_MSG_DELRULE, NFT_MSG_NEWRULE } from "./constants.ts";
import { planRefill } from "./plan.ts";

const at = { family: "inet" as const, table: "switchyard" };
const flush = (chain: string): NftOp => ({ op: "flush chain", ...at, chain });
const add = (chain: string, rule: string): NftOp => ({ op: "add rule", ...at, chain, rule });

describe("planRefill", () => {
  it("turns a chain refill into DELRULE on the chain and one NEWRULE per rule, in order", () => {
    const plan = planRefill([flush("farm-a-4"), add("farm-a-4", "ct mark set numgen inc mod 2"), add("farm-a-4", "drop")]);
    expect(plan?.map((m) => [m.type, m.table, m.chain])).toEqual([
      [NFT_MSG_DELRULE, "switchyard", "farm-a-4"],
      [NFT_MSG_NEWRULE, "switchyard", "farm-a-4"],
      [NFT_MSG_NEWRULE, "switchyard", "farm-a-4"],
    ]);
  });

  it("is empty for no ops", () => {
    expect(planRefill([])).toEqual([]);
  });

  it.each<[string, NftOp[]]>([
    ["another verb", [flush("farm-a-4"), { op: "delete chain", ...at, chain: "farm-a-4" }]],
    ["an element change", [{ op: "add element", ...at, map: "svc4-ports", elements: [["tcp . 10.0.0.1 . 80", "goto farm-a-4"]] }]],
    ["another family", [{ op: "flush chain", family: "netdev", table: "switchyard", chain: "farm-a-4" }]],
    ["a rule of another shape", [flush("farm-a-4"), add("farm-a-4", "ct mark set numgen inc mod 2"), add("farm-a-4", "counter drop")]],
    ["a counter added with the refill (nft creates counter objects)", [{ op: "add counter", family: "inet", table: "switchyard", counter: "c/a/b1" }, flush("farm-a-4")]],
    ["a counter deleted after the refill", [flush("farm-a-4"), { op: "delete counter", family: "inet", table: "switchyard", counter: "c/a/b1" }]],
    ["a name nft would need quoted", [flush("farm a-4")]],
    ["a table name nft would need quoted", [{ op: "flush chain", family: "inet", table: "sw;x", chain: "c" }]],
  ])("refuses the whole list for %s", (_, ops) => {
    expect(planRefill(ops)).toBeNull();
  });

  it("accepts every NAT farm chain rule core renders for these farms", () => {
    let n = 0;
    const farm = (name: string, over: Record<string, unknown>) => ({
      name,
      family: "ipv4",
      "virtual-addr": `10.0.0.${++n}`,
      "virtual-ports": "80",
      protocol: "tcp",
      mode: "snat",
      scheduler: "rr",
      backends: [
        { name: "a", "ip-addr": "192.168.0.1", port: 8080, weight: 2 },
        { name: "b", "ip-addr": "192.168.0.2", port: 8080, weight: 1 },
      ],
      ...over,
    });
    const config = parseConfig({
      farms: [
        farm("rr", {}),
        farm("weight", { scheduler: "weight", protocol: "udp" }),
        farm("symhash", { scheduler: "symhash", mode: "dnat" }),
        farm("hash", { scheduler: "hash", "sched-param": "srcip srcport" }),
        farm("all", { protocol: "all", "virtual-ports": "", backends: [{ name: "a", "ip-addr": "192.168.0.1", port: "" }] }),
      ],
    });
    const ir = buildRuleset(config);
    const ops = planDelta({ tables: [] }, ir, "switchyard").filter((op) => op.op === "add rule" && op.chain.startsWith("farm-"));
    expect(ops.length).toBeGreaterThan(5);
    expect(planRefill(ops)).not.toBeNull();
  });
});
