// bench/probe/heap-steps.ts: the standalone agent's live heap at N farms, step by step, in one
// process with forced GCs (no kernel: a runner that accepts every nft command), so that each
// structure's cost is the difference it makes: the parsed config, the farm index, the IR and
// the builder's memos, the lane's position indexes, a few changes through the real code.
//   node --expose-gc --import tsx bench/probe/heap-steps.ts [--farms 10000] [--changes 5] [--snapshot FILE]
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeHeapSnapshot } from "node:v8";
import { parseNftlbJson } from "@switchyard/core";
import { Applier, NftDriver, StandaloneFarms, StateDir, type NftRunner } from "@switchyard/agent";
import { planServices } from "../dataplane/plan.ts";
import { switchyardConfig } from "../dataplane/switchyard.ts";
import { BACKENDS, TABLE } from "../apply/changes.ts";

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const FARMS = Number(flag("--farms") ?? 10000);
const CHANGES = Number(flag("--changes") ?? 5);
const SNAPSHOT = flag("--snapshot");

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc");
const heap = () => {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
};
let last = heap();
const start = last;
const step = (what: string) => {
  const now = heap();
  console.log(`${what.padEnd(44)} +${((now - last) / 1048576).toFixed(2).padStart(6)} MB  (live ${((now - start) / 1048576).toFixed(2)} MB above the start)`);
  last = now;
};

const silent = { run: async (argv: readonly string[]) => ({ code: 0, stdout: argv[0] === "--version" ? "nftables v1.0.6" : "", stderr: "" }) } satisfies NftRunner;
const noop = () => {};
const log = { info: noop, warn: noop, error: noop, debug: noop, fatal: noop, trace: noop, child: () => log } as never;
const dir = mkdtempSync(join(tmpdir(), "heap-steps-"));
const stateDir = new StateDir(dir);
await stateDir.open();
const applier = new Applier({ driver: new NftDriver(silent), table: TABLE, log });
const farms = new StandaloneFarms({ applier, stateDir, resolveFacts: async () => ({ interfaces: {}, neighbours: {} }), log });
step("modules loaded, state dir open");

let text: string | null = JSON.stringify(switchyardConfig(planServices(FARMS, BACKENDS), "weight"));
const config = parseNftlbJson(text);
text = null;
step(`config parsed (${FARMS} farms)`);
await farms.install(config);
step("installed (index, IR, memos, save, prepare)");
const names = config.farms.map((f) => f.name);
for (let c = 0; c < CHANGES; c++) {
  const name = names[(c * 7919) % FARMS] as string;
  const current = farms.store.farm(name);
  const state = current?.backends[0]?.state === "up" ? "down" : "up";
  const outcome = await farms.merge({ farms: [{ name, backends: [{ name: "b1", state }] }] });
  if (!outcome.ok) throw new Error(outcome.message);
}
step(`${CHANGES} changes (lane: ${JSON.stringify(farms.lastPlan)})`);
await stateDir.close();
const lines = readFileSync(join(dir, "journal.ndjson"), "utf8").split("\n").length - 1;
console.log(`journal: ${lines} lines`);
if (SNAPSHOT !== undefined) console.log(`snapshot: ${writeHeapSnapshot(SNAPSHOT)}`);
rmSync(dir, { recursive: true, force: true });
