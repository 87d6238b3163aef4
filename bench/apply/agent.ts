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
// Another agent to run beside this checkout's, interleaved: a bundle (bench/apply/bundle-at.sh
// makes one of any revision), run as `node BUNDLE` as bin/switchyard-agent ran bundles before,
// or a whole command ("node --some-flag packages/agent/dist/switchyard-agent.mjs").
const BASELINE = flag("--baseline");
const BASELINE_COMMAND = BASELINE === undefined ? [] : BASELINE.includes(" ") ? BASELINE.split(" ").filter((w) => w !== "") : ["node", BASELINE];
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

/** How bin/switchyard-agent ran the agent in each mode: from its bundle or from source through tsx, and node's flags. */
const runtimes = new Map<string, string>();

function describeRuntime(pid: number): string {
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  // node's own flags: those before the script (the bundle, or the CLI through tsx's loader).
  const script = cmdline.findIndex((arg, i) => i > 0 && /\.(mjs|ts)$/.test(arg) && cmdline[i - 1] !== "--import");
  const flags = cmdline.slice(1, script).filter((arg, i, all) => arg !== "--import" && all[i - 1] !== "--import").join(" ");
  const how = cmdline.some((arg) => arg.endsWith("switchyard-agent.mjs")) ? "bundled (packages/agent/dist)" : "TypeScript through tsx (plus its esbuild process, not counted)";
  return `${how}${flags !== "" ? `, node ${flags}` : ""}`;
}

/** Starts the agent in the namespace and resolves once it listens (its start includes a cold apply of -c or the state). */
function startAgent(agentArgs: string[], command: string[] = [AGENT]): Promise<Started> {
  const started = performance.now();
  const child = spawn("ip", ["netns", "exec", ns, ...command, "-P", "5555", "-l", "info", "--drift-interval", "0", ...agentArgs], { stdio: ["ignore", "ignore", "pipe"] });
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

/**
 * Resident and peak resident memory of a process, in MB, and the anonymous part of the
 * resident memory (the heap; the rest is file-backed: node's own code, shared libraries).
 */
interface Memory {
  rss: number;
  peak: number;
  anon: number;
}

function memory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024, anon: kb("RssAnon") / 1024 };
}

async function settled(pid: number): Promise<Memory | null> {
  if (SETTLE_S <= 0) return null;
  await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
  return memory(pid);
}

async function client(mode: "standalone" | "managed", farms: number, secret: string): Promise<{ times: number[]; first: number | null; patchTimes: number[] }> {
  const r = await run(["ip", "netns", "exec", ns, "node", "--import", LOADER, join(import.meta.dirname, "api-client.ts"), mode, "5555", String(farms), String(CHANGES), secret]);
  if (r.code !== 0) throw new Error(`api client (${mode}) failed: ${r.stderr.slice(0, 1000)}`);
  return JSON.parse(r.stdout) as { times: number[]; first: number | null; patchTimes: number[] };
}

/** One agent's figures at one size, both modes. */
interface Run {
  standaloneStart: number;
  standalone: Summary;
  standaloneMem: Memory;
  standaloneSettled: Memory | null;
  managedFirst: number;
  managed: Summary;
  managedPatch: Summary;
  managedMem: Memory;
  managedSettled: Memory | null;
}

interface Row {
  farms: number;
  /** This checkout's agent (bin/switchyard-agent). */
  agent: Run;
  /** --baseline's, measured beside it. */
  baseline: Run | null;
  reapply: Summary;
}

async function measureMode(
  mode: "standalone" | "managed",
  farms: number,
  dir: string,
  command: string[],
  label: string,
): Promise<{ start: number; times: number[]; first: number | null; patchTimes: number[]; mem: Memory; settled: Memory | null }> {
  const stateDir = join(dir, `${mode}-${farms}-${label}`);
  const args =
    mode === "standalone"
      ? ["-c", join(dir, `farms-${farms}.json`), "-k", KEY, "--state-dir", stateDir]
      : ["--managed", "--token-file", join(dir, "token"), "--state-dir", stateDir];
  const agent = await startAgent(args, command);
  if (command[0] === AGENT) runtimes.set(mode, describeRuntime(agent.pid));
  try {
    const result = await client(mode, farms, mode === "standalone" ? KEY : TOKEN);
    const mem = memory(agent.pid);
    return { start: agent.startMs, ...result, mem, settled: await settled(agent.pid) };
  } finally {
    await stopAgent(agent);
    // Created if missing, so that a run that failed before its apply reports its own error.
    await inNs(["nft", "-f", "-"], `table inet ${TABLE}\ndelete table inet ${TABLE}\n`);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

async function measure(farms: number, dir: string): Promise<Row> {
  const raw = switchyardConfig(planServices(farms, BACKENDS), "weight");
  writeFileSync(join(dir, `farms-${farms}.json`), JSON.stringify(raw));
  writeFileSync(join(dir, "token"), TOKEN, { mode: 0o600 });
  const script = renderReplaceScript(buildRuleset(parseConfig(raw), { table: TABLE }), TABLE);

  // With a baseline, each mode runs the baseline's agent and then this one, back to back.
  const agents: { label: string; command: string[] }[] = [
    ...(BASELINE !== undefined ? [{ label: "baseline", command: BASELINE_COMMAND }] : []),
    { label: "agent", command: [AGENT] },
  ];
  const runs = new Map<string, Partial<Run>>(agents.map((a) => [a.label, {}]));
  for (const mode of ["standalone", "managed"] as const) {
    for (const { label, command } of agents) {
      const m = await measureMode(mode, farms, dir, command, label);
      const out = runs.get(label) as Partial<Run>;
      if (mode === "standalone") Object.assign(out, { standaloneStart: m.start, standalone: summarize(m.times), standaloneMem: m.mem, standaloneSettled: m.settled });
      else Object.assign(out, { managedFirst: m.first ?? Number.NaN, managed: summarize(m.times), managedPatch: summarize(m.patchTimes), managedMem: m.mem, managedSettled: m.settled });
    }
  }

  // Over the same ruleset: the first apply (not timed) puts it there.
  await inNs(["nft", "-f", "-"], script);
  const reapply: number[] = [];
  for (let r = 0; r < 3; r++) reapply.push(await inNs(["nft", "-f", "-"], script));
  await inNs(["nft", "delete", "table", "inet", TABLE]);
  return { farms, agent: runs.get("agent") as Run, baseline: (runs.get("baseline") as Run | undefined) ?? null, reapply: summarize(reapply) };
}

const ms = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`);
const cell = (s: Summary) => `${ms(s.median)} (${ms(s.min)}–${ms(s.max)})`;
const mb = (m: Memory, later: Memory | null) =>
  `${m.rss.toFixed(0)} MB${later !== null ? ` → ${later.rss.toFixed(0)} MB` : ""} (peak ${m.peak.toFixed(0)})`;
const anon = (m: Memory, later: Memory | null) => `${m.anon.toFixed(0)} MB${later !== null ? ` → ${later.anon.toFixed(0)} MB` : ""}`;

async function main(): Promise<void> {
  const load = readFileSync("/proc/loadavg", "utf8").trim();
  process.stderr.write(`bench/apply agent: namespace ${ns}, farms ${SIZES.join(", ")} × 4 backends, ${CHANGES} changes each${BASELINE !== undefined ? `, beside ${BASELINE}` : ""}; load ${load}\n`);
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
  const idle = SETTLE_S > 0 ? ` (→ ${SETTLE_S} s idle)` : "";
  console.log(`\nbench/apply agent — one backend state change through the agent's API, request → answer (rules live, state saved); median (min–max) of ${CHANGES}`);
  console.log(`load before: ${load}; after: ${readFileSync("/proc/loadavg", "utf8").trim()}; the agent ran ${[...runtimes].map(([mode, how]) => `${mode}: ${how}`).join("; ")}\n`);
  console.log(
    table(
      ["farms", "standalone: start (cold apply)", "standalone: one change", "managed: first PUT (cold)", "managed: one change (whole IR)", "managed: one change (patch)", "nft -f full re-apply", "re-apply / standalone change", "re-apply / managed change", "re-apply / managed patch", `RSS standalone${idle}`, `RSS managed${idle}`],
      rows.map(({ farms, agent: r, reapply }) => [
        farms.toLocaleString("en"),
        ms(r.standaloneStart),
        cell(r.standalone),
        ms(r.managedFirst),
        cell(r.managed),
        cell(r.managedPatch),
        cell(reapply),
        `${(reapply.median / r.standalone.median).toFixed(1)}×`,
        `${(reapply.median / r.managed.median).toFixed(1)}×`,
        `${(reapply.median / r.managedPatch.median).toFixed(1)}×`,
        mb(r.standaloneMem, r.standaloneSettled),
        mb(r.managedMem, r.managedSettled),
      ]),
      [true, true, true, true, true, true, true, true, true, true, true, true],
    ),
  );
  if (BASELINE === undefined) return;
  // Back to back in this run: each mode ran the baseline's agent, then this checkout's.
  console.log(`\nbeside the baseline (${BASELINE_COMMAND.join(" ")}), each mode back to back; anonymous RSS is the heap's part (the rest is node's own code and libraries)\n`);
  console.log(
    table(
      ["farms", "agent", "standalone: start", "standalone: one change", `RSS standalone${idle}`, "anon", "managed: first PUT", "managed: one change", "managed: patch", `RSS managed${idle}`, "anon"],
      rows.flatMap(({ farms, agent, baseline }) =>
        [
          ["baseline", baseline as Run],
          ["this checkout", agent],
        ].map(([label, r]) => {
          const x = r as Run;
          return [
            farms.toLocaleString("en"),
            label as string,
            ms(x.standaloneStart),
            cell(x.standalone),
            mb(x.standaloneMem, x.standaloneSettled),
            anon(x.standaloneMem, x.standaloneSettled),
            ms(x.managedFirst),
            cell(x.managed),
            cell(x.managedPatch),
            mb(x.managedMem, x.managedSettled),
            anon(x.managedMem, x.managedSettled),
          ];
        }),
      ),
      [true, false, true, true, true, true, true, true, true, true, true],
    ),
  );
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    spawn("ip", ["netns", "del", ns], { stdio: "ignore" }).on("close", () => process.exit(130));
  });
}
await main();
