// bench/apply: what it costs to put a ruleset in the kernel, at 100, 1,000 and 10,000 farms
// x 4 backends — a cold full apply, a full re-apply over the same ruleset, and one backend
// state change as core's delta planner plans it (for a backend state change: a refill of
// the farm's chain, what the agent's Applier commits) — next to
// iptables-restore of kube-proxy-style rules of the same size, measured in the same run.
// Everything happens in one network namespace the benchmark creates and deletes.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { buildRuleset, parseConfig, planDelta, renderOps, renderReplaceScript, type Config } from "@switchyard/core";
import { renderKubeProxyRules, KUBE_PROXY_FLUSH } from "../dataplane/kube-proxy.ts";
import { planServices } from "../dataplane/plan.ts";
import { switchyardConfig, switchyardDeleteScript } from "../dataplane/switchyard.ts";
import { seconds, summarize, table, type Summary } from "../dataplane/stats.ts";
import { fileURLToPath } from "node:url";
import { BATCH_CHILD, type ChildTimes } from "./batch-child.ts";
import { BACKENDS, TABLE, toggled } from "./changes.ts";

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const SIZES = (flag("--farms") ?? (args.includes("--quick") ? "100,1000" : "100,1000,10000")).split(",").map(Number);
const ROUNDS = Number(flag("--rounds") ?? (args.includes("--quick") ? 3 : 5));
const CHANGES = Number(flag("--changes") ?? 20);
const ns = `sy-apply-${randomBytes(3).toString("hex")}`;

interface Run {
  code: number;
  stderr: string;
  ms: number;
}

function run(argv: string[], input = ""): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(argv[0] ?? "", argv.slice(1), { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stderr, ms: performance.now() - started });
    });
    child.stdin.on("error", () => {});
    child.stdin.end(input);
  });
}

async function inNs(argv: string[], input = ""): Promise<number> {
  const r = await run(["ip", "netns", "exec", ns, ...argv], input);
  if (r.code !== 0) throw new Error(`${argv.join(" ")} failed: ${r.stderr.trim().slice(0, 500)}`);
  return r.ms;
}

const REPO = fileURLToPath(new URL("../../", import.meta.url));

/** The agent's full replace as its netlink batch, in the namespace (a process of its own there: the socket is the namespace's). */
function batchInNs(farms: number): ChildTimes {
  const out = execFileSync("ip", ["netns", "exec", ns, process.execPath, "--import", "tsx", BATCH_CHILD, String(farms)], { cwd: REPO, encoding: "utf8", maxBuffer: 1 << 26 });
  return JSON.parse(out) as ChildTimes;
}

interface Row {
  farms: number;
  render: Summary;
  batchCold: Summary;
  batchReapply: Summary;
  cold: Summary;
  reapply: Summary;
  change: Summary;
  changePlan: Summary;
  iptCold: Summary;
  iptReload: Summary;
}

async function measure(farms: number): Promise<Row> {
  const services = planServices(farms, BACKENDS);
  const raw = switchyardConfig(services, "weight");
  const renderTimes: number[] = [];
  let config!: Config;
  let script = "";
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    config = parseConfig(raw);
    script = renderReplaceScript(buildRuleset(config, { table: TABLE }), TABLE);
    renderTimes.push(performance.now() - t);
  }
  const kube = renderKubeProxyRules(services, { clusterCidr: "198.19.0.0/16" }).text;
  const cold: number[] = [];
  const reapply: number[] = [];
  const iptCold: number[] = [];
  const iptReload: number[] = [];
  const batchCold: number[] = [];
  const batchReapply: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Interleave nft and iptables so that a busy moment of the machine hits both.
    await inNs(["nft", "-f", "-"], switchyardDeleteScript(TABLE));
    cold.push(await inNs(["nft", "-f", "-"], script));
    reapply.push(await inNs(["nft", "-f", "-"], script));
    await inNs(["nft", "-f", "-"], switchyardDeleteScript(TABLE));
    // Encode (the process's first, as the agent's first replace) + send + commit; then again over the loaded table.
    const batch = batchInNs(farms);
    batchCold.push(batch.encodeMs + batch.sendMs);
    batchReapply.push(batch.reapplyMs);
    await inNs(["iptables-legacy-restore"], KUBE_PROXY_FLUSH);
    iptCold.push(await inNs(["iptables-legacy-restore"], kube));
    // kube-proxy rewrites the whole nat table for any change (its sync loop).
    iptReload.push(await inNs(["iptables-legacy-restore"], kube));
  }
  // One backend state change at a time: render the whole config again, plan the delta, apply it.
  let applied = buildRuleset(config, { table: TABLE });
  let current = config;
  const change: number[] = [];
  const changePlan: number[] = [];
  for (let c = 0; c < CHANGES; c++) {
    const t = performance.now();
    current = toggled(current, (c * 7919) % farms);
    const next = buildRuleset(current, { table: TABLE });
    const delta = renderOps(planDelta(applied, next, TABLE));
    changePlan.push(performance.now() - t);
    change.push(await inNs(["nft", "-f", "-"], delta));
    applied = next;
  }
  return {
    farms,
    render: summarize(renderTimes),
    batchCold: summarize(batchCold),
    batchReapply: summarize(batchReapply),
    cold: summarize(cold),
    reapply: summarize(reapply),
    change: summarize(change),
    changePlan: summarize(changePlan),
    iptCold: summarize(iptCold),
    iptReload: summarize(iptReload),
  };
}

const cell = (s: Summary) => `${seconds(s.median)} (${seconds(s.min)}–${seconds(s.max)})`;
const ratio = (a: Summary, b: Summary) => `${(a.median / b.median).toFixed(2)}×`;

async function main(): Promise<void> {
  const load = readFileSync("/proc/loadavg", "utf8").trim();
  process.stderr.write(`bench/apply: namespace ${ns}, farms ${SIZES.join(", ")} × 4 backends, ${ROUNDS} rounds, ${CHANGES} changes; load ${load}\n`);
  await run(["ip", "netns", "add", ns]).then((r) => {
    if (r.code !== 0) throw new Error(`ip netns add: ${r.stderr}`);
  });
  const rows: Row[] = [];
  try {
    for (const farms of SIZES) {
      process.stderr.write(`  ${farms} farms…\n`);
      rows.push(await measure(farms));
    }
  } finally {
    await run(["ip", "netns", "del", ns]);
  }
  console.log(`\nbench/apply — median (min–max); nft ${"1.0.6"}; iptables baseline: iptables-legacy-restore of kube-proxy-style rules`);
  console.log(`load before: ${load}; after: ${readFileSync("/proc/loadavg", "utf8").trim()}\n`);
  console.log(
    table(
      ["farms", "render (node)", "nft cold full", "nft full re-apply", "agent's batch cold full", "agent's batch re-apply", "one change: render+plan", "one change: nft -f delta", "iptables-restore cold", "iptables-restore reload", "nft cold / batch cold", "re-apply / change", "ipt reload / change"],
      rows.map((r) => [
        r.farms.toLocaleString("en"),
        cell(r.render),
        cell(r.cold),
        cell(r.reapply),
        cell(r.batchCold),
        cell(r.batchReapply),
        cell(r.changePlan),
        cell(r.change),
        cell(r.iptCold),
        cell(r.iptReload),
        ratio(r.cold, r.batchCold),
        ratio(r.reapply, r.change),
        ratio(r.iptReload, r.change),
      ]),
      [true, true, true, true, true, true, true, true, true, true, true, true, true],
    ),
  );
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    spawn("ip", ["netns", "del", ns], { stdio: "ignore" }).on("close", () => process.exit(130));
  });
}
await main();
