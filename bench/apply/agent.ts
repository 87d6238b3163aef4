// bench/apply/agent.ts: a backend change through the agent's API at 100, 1,000 and 10,000
// farms × 4 backends, request sent → answer received (the agent answers once nft committed and
// the state dir has it), in both modes: standalone (nftlb's POST /farms with one backend's
// state) and managed (PUT /v1/ruleset with the whole IR, then PATCH /v1/ruleset with the patch
// of the applied IR, as the control plane sends them without and with a base it knows). Next
// to it, in the same run: a full re-apply with `nft -f` of the same ruleset, and the agent's
// resident memory. Everything runs in a network namespace the benchmark creates and deletes.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildRuleset, parseConfig, renderReplaceScript } from "@switchyard/core";
import { planServices } from "../dataplane/plan.ts";
import { switchyardConfig } from "../dataplane/switchyard.ts";
import { summarize, table, type Summary } from "../dataplane/stats.ts";
import { BACKENDS, TABLE } from "./changes.ts";

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const SIZES = (flag("--farms") ?? (args.includes("--quick") ? "100,1000" : "100,1000,10000")).split(",").map(Number);
const CHANGES = Number(flag("--changes") ?? 20);
// V8 gives memory back some seconds after a burst of work (its memory reducer runs when the
// process is idle): resident memory is read right after the changes and again after this wait.
const SETTLE_S = Number(flag("--settle") ?? 30);
const ROOT = resolve(import.meta.dirname, "../..");
const AGENT = join(ROOT, "bin/switchyard-agent");
const LOADER = `file://${join(ROOT, "node_modules/tsx/dist/loader.mjs")}`;
const KEY = randomBytes(16).toString("hex");
const TOKEN = randomBytes(24).toString("hex");
const ns = `sy-apply-${randomBytes(3).toString("hex")}`;

function run(argv: string[], input = ""): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn(argv[0] ?? "", argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 600_000);
    child.on("error", fail);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code: code ?? 1, stdout, stderr, ms: performance.now() - started });
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

interface Started {
  child: ChildProcess;
  pid: number;
  startMs: number;
  log: () => string;
}

/** How bin/switchyard-agent ran the agent: from its bundle, or from source through tsx. */
let runtime: string | undefined;

/** Starts the agent in the namespace and resolves once it listens (its start includes a cold apply of -c or the state). */
function startAgent(agentArgs: string[]): Promise<Started> {
  const started = performance.now();
  const child = spawn("ip", ["netns", "exec", ns, AGENT, "-P", "5555", "-l", "info", "--drift-interval", "0", ...agentArgs], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(new Error(`the agent did not start:\n${log}`));
    }, 300_000);
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      log += d;
      if (log.includes('"msg":"listening"') && child.pid !== undefined) {
        clearTimeout(timer);
        runtime ??= readFileSync(`/proc/${child.pid}/cmdline`, "utf8").includes("switchyard-agent.mjs") ? "bundled (packages/agent/dist)" : "TypeScript through tsx (plus its esbuild process, not counted)";
        done({ child, pid: child.pid, startMs: performance.now() - started, log: () => log });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`the agent exited (${code}):\n${log}`));
    });
  });
}

async function stopAgent(agent: Started): Promise<void> {
  agent.child.removeAllListeners("exit");
  const exited = new Promise((done) => agent.child.once("exit", done));
  process.kill(agent.pid, "SIGTERM");
  await exited;
}

/** Resident and peak resident memory of a process, in MB. */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

async function settled(pid: number): Promise<{ rss: number; peak: number } | null> {
  if (SETTLE_S <= 0) return null;
  await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
  return memory(pid);
}

async function client(mode: "standalone" | "managed", farms: number, secret: string): Promise<{ times: number[]; first: number | null; patchTimes: number[] }> {
  const r = await run(["ip", "netns", "exec", ns, "node", "--import", LOADER, join(import.meta.dirname, "api-client.ts"), mode, "5555", String(farms), String(CHANGES), secret]);
  if (r.code !== 0) throw new Error(`api client (${mode}) failed: ${r.stderr.slice(0, 1000)}`);
  return JSON.parse(r.stdout) as { times: number[]; first: number | null; patchTimes: number[] };
}

interface Row {
  farms: number;
  standaloneStart: number;
  standalone: Summary;
  standaloneMem: { rss: number; peak: number };
  standaloneSettled: { rss: number; peak: number } | null;
  managedFirst: number;
  managed: Summary;
  managedPatch: Summary;
  managedMem: { rss: number; peak: number };
  managedSettled: { rss: number; peak: number } | null;
  reapply: Summary;
}

async function measure(farms: number, dir: string): Promise<Row> {
  const raw = switchyardConfig(planServices(farms, BACKENDS), "weight");
  const configFile = join(dir, `farms-${farms}.json`);
  writeFileSync(configFile, JSON.stringify(raw));
  const tokenFile = join(dir, "token");
  writeFileSync(tokenFile, TOKEN, { mode: 0o600 });
  const script = renderReplaceScript(buildRuleset(parseConfig(raw), { table: TABLE }), TABLE);

  const standaloneAgent = await startAgent(["-c", configFile, "-k", KEY, "--state-dir", join(dir, `standalone-${farms}`)]);
  let standalone: { times: number[] };
  let standaloneMem;
  let standaloneSettled;
  try {
    standalone = await client("standalone", farms, KEY);
    standaloneMem = memory(standaloneAgent.pid);
    standaloneSettled = await settled(standaloneAgent.pid);
  } finally {
    await stopAgent(standaloneAgent);
  }
  await inNs(["nft", "delete", "table", "inet", TABLE]);

  const managedAgent = await startAgent(["--managed", "--token-file", tokenFile, "--state-dir", join(dir, `managed-${farms}`)]);
  let managed: { times: number[]; first: number | null; patchTimes: number[] };
  let managedMem;
  let managedSettled;
  try {
    managed = await client("managed", farms, TOKEN);
    managedMem = memory(managedAgent.pid);
    managedSettled = await settled(managedAgent.pid);
  } finally {
    await stopAgent(managedAgent);
  }

  const reapply: number[] = [];
  for (let r = 0; r < 3; r++) reapply.push(await inNs(["nft", "-f", "-"], script));
  await inNs(["nft", "delete", "table", "inet", TABLE]);
  return {
    farms,
    standaloneStart: standaloneAgent.startMs,
    standalone: summarize(standalone.times),
    standaloneMem,
    standaloneSettled,
    managedFirst: managed.first ?? Number.NaN,
    managed: summarize(managed.times),
    managedPatch: summarize(managed.patchTimes),
    managedMem,
    managedSettled,
    reapply: summarize(reapply),
  };
}

const ms = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`);
const cell = (s: Summary) => `${ms(s.median)} (${ms(s.min)}–${ms(s.max)})`;
const mb = (m: { rss: number; peak: number }, later: { rss: number } | null) =>
  `${m.rss.toFixed(0)} MB${later !== null ? ` → ${later.rss.toFixed(0)} MB` : ""} (peak ${m.peak.toFixed(0)})`;

async function main(): Promise<void> {
  const load = readFileSync("/proc/loadavg", "utf8").trim();
  process.stderr.write(`bench/apply agent: namespace ${ns}, farms ${SIZES.join(", ")} × 4 backends, ${CHANGES} changes each; load ${load}\n`);
  const dir = mkdtempSync(join(tmpdir(), "switchyard-bench-agent-"));
  const created = await run(["ip", "netns", "add", ns]);
  if (created.code !== 0) throw new Error(`ip netns add: ${created.stderr}`);
  const rows: Row[] = [];
  try {
    await inNs(["ip", "link", "set", "lo", "up"]);
    for (const farms of SIZES) {
      process.stderr.write(`  ${farms} farms…\n`);
      rows.push(await measure(farms, dir));
    }
  } finally {
    await run(["ip", "netns", "del", ns]);
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nbench/apply agent — one backend state change through the agent's API, request → answer (rules live, state saved); median (min–max) of ${CHANGES}`);
  console.log(`load before: ${load}; after: ${readFileSync("/proc/loadavg", "utf8").trim()}; the agent ran ${runtime ?? "?"}\n`);
  console.log(
    table(
      ["farms", "standalone: start (cold apply)", "standalone: one change", "managed: first PUT (cold)", "managed: one change (whole IR)", "managed: one change (patch)", "nft -f full re-apply", "re-apply / standalone change", "re-apply / managed change", "re-apply / managed patch", `RSS standalone${SETTLE_S > 0 ? ` (→ ${SETTLE_S} s idle)` : ""}`, `RSS managed${SETTLE_S > 0 ? ` (→ ${SETTLE_S} s idle)` : ""}`],
      rows.map((r) => [
        r.farms.toLocaleString("en"),
        ms(r.standaloneStart),
        cell(r.standalone),
        ms(r.managedFirst),
        cell(r.managed),
        cell(r.managedPatch),
        cell(r.reapply),
        `${(r.reapply.median / r.standalone.median).toFixed(1)}×`,
        `${(r.reapply.median / r.managed.median).toFixed(1)}×`,
        `${(r.reapply.median / r.managedPatch.median).toFixed(1)}×`,
        mb(r.standaloneMem, r.standaloneSettled),
        mb(r.managedMem, r.managedSettled),
      ]),
      [true, true, true, true, true, true, true, true, true, true, true, true],
    ),
  );
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    spawn("ip", ["netns", "del", ns], { stdio: "ignore" }).on("close", () => process.exit(130));
  });
}
await main();
