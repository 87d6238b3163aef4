import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildRuleset, NO_FACTS, parseConfig, planDelta } from "@switchyard/core";
import { Applier, ConfigStore, execRunner, NftDriver, StateDir } from "@switchyard/agent";
import { openChainRefiller } from "../../packages/agent/src/nft/netlink/refill.ts";
import { planServices } from "../dataplane/plan.ts";
import { switchyardConfig } from "../dataplane/switchyard.ts";
import { BACKENDS, TABLE } from "../apply/changes.ts";
const N = 10000;
const config = parseConfig(switchyardConfig(planServices(N, BACKENDS), "weight"));
const applier = new Applier({ driver: new NftDriver(execRunner()), table: TABLE, fastPath: openChainRefiller()! });
const sd = new StateDir(mkdtempSync(join(tmpdir(), "probe-"))); await sd.open();
const store = new ConfigStore(config);
let ir = buildRuleset(config, { table: TABLE });
await applier.apply(ir); await sd.save({ config, ir, appliedAt: "x" });
const acc: Record<string, number[]> = {};
const time = async <T>(k: string, f: () => T | Promise<T>): Promise<T> => { const s = performance.now(); const r = await f(); (acc[k] ??= []).push(performance.now() - s); return r; };
for (let c = 0; c < 20; c++) {
  const name = config.farms[(c * 7919) % N]!.name;
  const ch = await time("merge", () => store.merge({ farms: [{ name, backends: [{ name: "b1", state: c % 2 ? "up" : "down" }] }] }));
  if (!ch.ok) throw new Error(ch.message);
  const next = await time("build", () => buildRuleset(ch.config, { table: TABLE, facts: NO_FACTS }));
  await time("plan(only)", () => planDelta(ir, next, TABLE));
  await time("apply", () => applier.apply(next));
  await time("save", () => sd.save({ config: ch.config, ir: next, appliedAt: "y" }));
  store.commit(ch.config); ir = next;
}
for (const [k, v] of Object.entries(acc)) { v.sort((a, b) => a - b); console.log(k.padEnd(12), v[10]!.toFixed(1)); }
