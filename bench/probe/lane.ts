// bench/probe/lane.ts: the stages of one standalone change at N farms through the lane for a
// few farms (store merge with the indexed cross-farm check, planFarmChange, applyPlanned with
// the netlink fast path, a hinted journal line), beside the full path's stages (buildRuleset,
// planDelta, diffing save). Root, inside a scratch namespace:
//   ip netns add sy-fl-x && ip netns exec sy-fl-x node --import tsx bench/probe/lane.ts [N]; ip netns del sy-fl-x
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildRuleset, NO_FACTS, parseConfig, planDelta, planFarmChange } from "@switchyard/core";
import { Applier, ConfigStore, execRunner, NftDriver, StateDir } from "@switchyard/agent";
import { openChainRefiller } from "../../packages/agent/src/nft/netlink/refill.ts";
import { planServices } from "../dataplane/plan.ts";
import { switchyardConfig } from "../dataplane/switchyard.ts";
import { BACKENDS, TABLE } from "../apply/changes.ts";

const N = Number(process.argv[2] ?? 10000);
const CHANGES = 40;
const config = parseConfig(switchyardConfig(planServices(N, BACKENDS), "weight"));
const refiller = openChainRefiller();
const applier = new Applier({ driver: new NftDriver(execRunner()), table: TABLE, ...(refiller ? { fastPath: refiller } : {}) });
const dir = mkdtempSync(join(tmpdir(), "probe-lane-"));
const sd = new StateDir(dir);
await sd.open();
const store = new ConfigStore(config);
let ir = buildRuleset(config, { table: TABLE });
await applier.apply(ir);
await sd.save({ config, ir, appliedAt: "x" });
const acc: Record<string, number[]> = {};
const time = async <T>(k: string, f: () => T | Promise<T>): Promise<T> => {
  const s = performance.now();
  const r = await f();
  (acc[k] ??= []).push(performance.now() - s);
  return r;
};
for (let c = 0; c < CHANGES; c++) {
  // Backend b1 of one farm down, or up again (as bench/apply toggles it).
  const farm = store.config.farms[(c * 7919) % N]!;
  const state = farm.backends[0]!.state === "up" ? "down" : "up";
  const started = performance.now();
  const ch = await time("merge", () => store.merge({ farms: [{ name: farm.name, backends: [{ name: "b1", state }] }] }));
  if (!ch.ok) throw new Error(ch.message);
  const lane = await time("lane", () => planFarmChange(ir, store.config, ch.config, ch.changed, { table: TABLE, facts: NO_FACTS }));
  if (!lane.ok) throw new Error(lane.reason);
  await time("applyPlanned", () => applier.applyPlanned(lane.ir, { from: ir, ops: lane.ops }));
  await time("save(hint)", () => sd.save({ config: ch.config, ir: lane.ir, appliedAt: "y" }, { from: { config: store.config, ir }, changed: ch.changed, ir: lane.patch }));
  (acc["total (user+kernel)"] ??= []).push(performance.now() - started);
  // The full path's user-space stages on the same change, for comparison (not applied).
  const full = await time("full: build", () => buildRuleset(ch.config, { table: TABLE, facts: NO_FACTS }));
  await time("full: planDelta", () => planDelta(ir, full, TABLE));
  store.commit(ch.config);
  ir = lane.ir;
}
refiller?.close();
await sd.close();
rmSync(dir, { recursive: true, force: true });
console.log(`probe lane: ${N} farms, ${CHANGES} changes, median (min-max) ms; the first change builds the indexes`);
for (const [k, v] of Object.entries(acc)) {
  const first = v[0]!;
  const s = v.slice(1).sort((a, b) => a - b);
  console.log(`${k.padEnd(22)} ${s[s.length >> 1]!.toFixed(2).padStart(7)} (${s[0]!.toFixed(2)}-${s.at(-1)!.toFixed(2)})  first ${first.toFixed(2)}`);
}
