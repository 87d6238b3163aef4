import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crossFarmIssues, type Config } from "../model/farm.ts";
import { crossFarmIssuesAfter } from "../model/farm-index.ts";
import { parseConfig } from "../nftlb/codec.ts";
import { buildRuleset } from "./build.ts";
import { planDelta } from "./delta.ts";
import { planFarmChange } from "./farm-delta.ts";
import { applyLaneStep, laneConfig, laneFarmSpec, laneStep } from "./farm-gen.ts";
import { fakeApply, normalizeIr, TEST_FACTS } from "./fake-nft.ts";
import { patchIr } from "./ir-patch.ts";
import type { IrRuleset } from "./ir.ts";

const T = "switchyard";
const options = { table: T, facts: TEST_FACTS };
const build = (config: Config) => buildRuleset(config, options);

/** Checks one lane result against the full path; returns whether the lane was taken. */
function check(prevIr: IrRuleset, prev: Config, next: Config, changed: string[]): { taken: boolean; ir: IrRuleset; reason?: string } {
  const full = build(next);
  const lane = planFarmChange(prevIr, prev, next, changed, options);
  if (!lane.ok) return { taken: false, ir: full, reason: lane.reason };
  // The IR, byte for byte (key order and element order included).
  expect(JSON.stringify(lane.ir)).toBe(JSON.stringify(full));
  // The ops: planDelta's, and they take the fake kernel to the IR.
  expect(lane.ops).toEqual(planDelta(prevIr, full, T));
  expect(fakeApply(prevIr, lane.ops)).toEqual(normalizeIr(full));
  // The journal patch rebuilds the IR, order included.
  expect(JSON.stringify(patchIr(prevIr, lane.patch))).toBe(JSON.stringify(full));
  return { taken: true, ir: lane.ir };
}

describe("planFarmChange: the lane for a change of a few farms", () => {
  it("equals the full build, planDelta and a patch that rebuilds it, over random configs and sequences of changes", { timeout: 120_000 }, () => {
    let taken = 0;
    let steps = 0;
    const reasons = new Map<string, number>();
    fc.assert(
      fc.property(fc.array(laneFarmSpec, { maxLength: 12 }), fc.array(laneStep, { minLength: 1, maxLength: 8 }), (specs, plan) => {
        let config = laneConfig(specs);
        if (crossFarmIssues(config).length > 0) config = { farms: config.farms.filter((_, i) => i === 0) };
        let ir = build(config);
        for (const step of plan) {
          const change = applyLaneStep(config, step);
          if (change === undefined) continue;
          // As the agent does: the cross-farm check through the index, then the lane.
          const issues = change.removed ? crossFarmIssues(change.next) : crossFarmIssuesAfter(config, change.next, change.touched);
          expect(issues).toEqual(crossFarmIssues(change.next));
          if (issues.length > 0) continue;
          steps++;
          const result = check(ir, config, change.next, change.changed);
          if (result.taken) taken++;
          else reasons.set(result.reason ?? "", (reasons.get(result.reason ?? "") ?? 0) + 1);
          config = change.next;
          ir = result.ir;
        }
      }),
      { numRuns: Number(process.env.LANE_RUNS ?? 400) },
    );
    if (process.env.LANE_STATS) console.log({ taken, steps, reasons });
    // Most changes take the lane: all but those that touch an up dsr farm.
    expect(taken).toBeGreaterThan(steps / 2);
    for (const reason of reasons.keys()) expect(reason).toMatch(/dsr farm/);
  });

  it("patches one farm's chain among 1,000 and plans only its refill", () => {
    const farms = Array.from({ length: 1000 }, (_, i) => ({
      name: `svc${i}`,
      "virtual-addr": `198.18.${128 + (i >> 8)}.${i & 255}`,
      "virtual-ports": "80",
      scheduler: "weight",
      backends: [1, 2, 3, 4].map((b) => ({ name: `b${b}`, "ip-addr": `198.18.2.1${b}`, port: 80 })),
    }));
    const prev = parseConfig({ farms });
    const prevIr = build(prev);
    const farm = prev.farms[500]!;
    const next: Config = { farms: prev.farms.map((f) => (f === farm ? { ...f, backends: f.backends.map((b, j) => (j === 0 ? { ...b, state: "down" as const } : b)) } : f)) };
    const lane = planFarmChange(prevIr, prev, next, ["svc500"], options);
    expect(lane.ok).toBe(true);
    if (!lane.ok) return;
    // The farm's scheduler chain only, refilled with one draw over b2..b4 (next to each other).
    expect(lane.ops.map((op) => [op.op, "chain" in op ? op.chain : ""])).toEqual([
      ["flush chain", "sched-svc500-4"],
      ["add rule", "sched-svc500-4"],
    ]);
    expect(lane.ir).toEqual(build(next));
    // Unchanged maps keep their element lists (nothing to compare next time).
    const inet = (ir: IrRuleset) => ir.tables.find((t) => t.family === "inet")!;
    expect(inet(lane.ir).maps.every((m, i) => m === inet(prevIr).maps[i])).toBe(true);
    // A state change: the scheduler chain alone (found by name: the traffic chain comes before the farms').
    expect(lane.patch.tables).toEqual([{ family: "inet", chains: { put: [inet(lane.ir).chains.find((c) => c.name === "sched-svc500-4")] } }]);
  });

  it("takes a farm whose placement (x-placement) alone changed as no change of rules: nothing to do", () => {
    const web = { name: "web", "virtual-addr": "198.18.1.100", "virtual-ports": "80", backends: [{ name: "b1", "ip-addr": "198.18.2.11" }] };
    const dns = { name: "dns", "virtual-addr": "198.18.1.100", "virtual-ports": "53", protocol: "udp", backends: [{ name: "b1", "ip-addr": "198.18.2.12" }] };
    const prev = parseConfig({ farms: [web, dns] });
    const next = parseConfig({ farms: [{ ...web, "x-placement": "role=edge" }, dns] });
    const result = check(build(prev), prev, next, ["web"]);
    expect(result.taken).toBe(true);
    expect(planFarmChange(build(prev), prev, next, ["web"], options)).toMatchObject({ ok: true, ops: [] });
  });

  it("plans from an IR again after a change from it was not taken up, and after it was carried to another config", () => {
    const farm = (name: string, i: number, state = "up") => ({
      name,
      "virtual-addr": `198.18.1.${i}`,
      "virtual-ports": "80",
      state,
      backends: [1, 2].map((b) => ({ name: `b${b}`, "ip-addr": `198.18.2.${10 * i + b}` })),
    });
    // b is down: it has no items, so removing it leaves every list as it was (the same arrays),
    // while the farms after it move up one position.
    const prev = parseConfig({ farms: [farm("a", 1), farm("b", 2, "down"), farm("c", 3)] });
    const prevIr = build(prev);
    const removed: Config = { farms: [prev.farms[0]!, prev.farms[2]!] };
    expect(check(prevIr, prev, removed, ["b"]).taken).toBe(true);
    // The removal was refused (not applied): the next change starts from prev and its IR again.
    const c = prev.farms[2]!;
    const toggled: Config = { farms: prev.farms.map((f) => (f === c ? { ...c, backends: c.backends.map((b, j) => (j === 0 ? { ...b, state: "down" as const } : b)) } : f)) };
    expect(check(prevIr, prev, toggled, ["c"]).taken).toBe(true);
  });

  it("puts a farm's first items of a list between those of the farms around it", () => {
    const farm = (name: string, i: number, ports: string) => ({
      name,
      "virtual-addr": `198.18.1.${i}`,
      "virtual-ports": ports,
      backends: [{ name: "b1", "ip-addr": `198.18.2.${i}` }],
    });
    // b moves from a port to a range: its first elements of the range maps, where a's and c's are.
    const prev = parseConfig({ farms: [farm("a", 1, "1000-2000"), farm("b", 2, "80"), farm("c", 3, "3000-4000")] });
    const next = parseConfig({ farms: [farm("a", 1, "1000-2000"), farm("b", 2, "5000-6000"), farm("c", 3, "3000-4000")] });
    const moved: Config = { farms: [prev.farms[0]!, next.farms[1]!, prev.farms[2]!] };
    const result = check(build(prev), prev, moved, ["b"]);
    expect(result.taken).toBe(true);
    const ranges = result.ir.tables[0]!.maps.find((m) => m.name === "svc4-ranges")!;
    expect(ranges.elements.map(([key]) => key)).toEqual(["tcp . 198.18.1.1 . 1000-2000", "tcp . 198.18.1.2 . 5000-6000", "tcp . 198.18.1.3 . 3000-4000"]);
  });

  it("falls back for a dsr farm and says why", () => {
    const dsr = {
      name: "fast",
      "virtual-addr": "198.18.1.101",
      "virtual-ports": "443",
      mode: "dsr",
      iface: "eth-in",
      backends: [{ name: "a", "ip-addr": "198.18.2.31", "ether-addr": "02:00:00:00:00:31" }],
    };
    const prev = parseConfig({ farms: [dsr] });
    const next = parseConfig({ farms: [{ ...dsr, backends: [{ ...dsr.backends[0], weight: 2 }] }] });
    const lane = planFarmChange(build(prev), prev, next, ["fast"], options);
    expect(lane).toEqual({ ok: false, reason: "farm fast is a dsr farm" });
  });
});
