// bench/probe/memory.ts: where the agent's resident memory goes at N farms × 4 backends.
// Starts the agent (the bundle, with the node flags given) in a namespace of its own, runs the
// same changes as bench/apply/agent.ts, and prints VmRSS split into anonymous memory (the heap,
// malloc) and file-backed pages (node's own code, shared libraries) at each stage: started,
// after the changes, after idle. With --snapshot DIR it also writes a heap snapshot at the end
// (node's --heapsnapshot-signal; a snapshot forces a full GC first, so the live heap is exact).
//
//   node --import tsx bench/probe/memory.ts --farms 10000 --changes 5 [--mode standalone|managed]
//        [--flags "--max-semi-space-size=1"] [--idle 30] [--snapshot DIR] [--drift SECONDS] [--restart] [--tsx | --bin]
// (--bin: bin/switchyard-agent, with the node flags it sets; else node runs the bundle, or
// --bundle FILE, with --flags.)
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { planServices } from "../dataplane/plan.ts";
import { switchyardConfig } from "../dataplane/switchyard.ts";
import { BACKENDS } from "../apply/changes.ts";

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const FARMS = Number(flag("--farms") ?? 10000);
const CHANGES = Number(flag("--changes") ?? 5);
const MODES = (flag("--mode") ?? "standalone,managed").split(",");
const NODE_FLAGS = (flag("--flags") ?? "").split(" ").filter((f) => f !== "");
const IDLE_S = Number(flag("--idle") ?? 30);
const SNAPSHOT = flag("--snapshot");
const RESTART = args.includes("--restart");
/** Seconds between drift checks (the agent's default is 30; 0, the default here, as bench/apply/agent.ts: none). */
const DRIFT = flag("--drift") ?? "0";
const ROOT = resolve(import.meta.dirname, "../..");
const LOADER = `file://${join(ROOT, "node_modules/tsx/dist/loader.mjs")}`;
const entry = args.includes("--bin")
  ? [join(ROOT, "bin/switchyard-agent")]
  : args.includes("--tsx")
    ? ["node", ...NODE_FLAGS, "--import", LOADER, join(ROOT, "packages/agent/src/cli.ts")]
    : ["node", ...NODE_FLAGS, resolve(flag("--bundle") ?? join(ROOT, "packages/agent/dist/switchyard-agent.mjs"))];
const ns = `sy-mem-${randomBytes(3).toString("hex")}`;
const KEY = randomBytes(16).toString("hex");
const TOKEN = randomBytes(24).toString("hex");

function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(argv[0] ?? "", argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("close", (code) => done({ code: code ?? 1, stdout, stderr }));
  });
}

function memory(pid: number): string {
  const roll = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (text: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? Number.NaN);
  const rss = kb(status, "VmRSS");
  const anon = kb(status, "RssAnon");
  const file = kb(status, "RssFile");
  return `rss ${(rss / 1024).toFixed(1)} MB (anon ${(anon / 1024).toFixed(1)}, file ${(file / 1024).toFixed(1)}), peak ${(kb(status, "VmHWM") / 1024).toFixed(1)}, pss ${(kb(roll, "Pss") / 1024).toFixed(1)}`;
}

async function runAgent(mode: string, label: string, agentArgs: string[], dir: string): Promise<void> {
  const child = spawn("ip", ["netns", "exec", ns, ...entry, "-P", "5555", "-l", "warn", "--drift-interval", DRIFT, ...agentArgs], {
    stdio: ["ignore", "ignore", "pipe"],
    cwd: SNAPSHOT ?? dir,
  });
  let log = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => (log += d));
  // -l warn: "listening" is not logged; the API answering is the sign.
  const started = performance.now();
  for (;;) {
    const probe = await run(["ip", "netns", "exec", ns, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:5555/farms"]);
    if (probe.stdout !== "000" && probe.stdout !== "") break;
    if (child.exitCode !== null) throw new Error(`agent exited: ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // ip netns exec and bin/switchyard-agent exec: the child's pid is the agent's.
  const pid = child.pid as number;
  console.log(`${label}: started in ${((performance.now() - started) / 1000).toFixed(2)} s; ${memory(pid)}`);
  const client = await run(["ip", "netns", "exec", ns, "node", "--import", LOADER, join(ROOT, "bench/apply/api-client.ts"), mode, "5555", String(FARMS), String(CHANGES), mode === "standalone" ? KEY : TOKEN]);
  if (client.code !== 0) throw new Error(client.stderr);
  const times = (JSON.parse(client.stdout) as { times: number[]; first: number | null });
  const sorted = [...times.times].sort((a, b) => a - b);
  console.log(`${label}: ${CHANGES} changes, median ${(sorted[sorted.length >> 1] ?? Number.NaN).toFixed(1)} ms (${sorted.map((t) => t.toFixed(1)).join(" ")})${times.first !== null ? `, first ${times.first.toFixed(0)} ms` : ""}; ${memory(pid)}`);
  for (let waited = 0; waited < IDLE_S; waited += 10) {
    await new Promise((r) => setTimeout(r, Math.min(10, IDLE_S - waited) * 1000));
    console.log(`${label}: idle ${Math.min(waited + 10, IDLE_S)} s; ${memory(pid)}`);
  }
  if (SNAPSHOT !== undefined) {
    const before = new Set(readdirSync(SNAPSHOT));
    process.kill(pid, "SIGUSR2");
    for (let i = 0; i < 600; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const added = readdirSync(SNAPSHOT).filter((f) => !before.has(f) && f.endsWith(".heapsnapshot"));
      if (added.length > 0 && (await run(["fuser", join(SNAPSHOT, added[0] as string)])).stdout.trim() === "") {
        console.log(`${label}: snapshot ${join(SNAPSHOT, added[0] as string)}; after it (full GC) ${memory(pid)}`);
        break;
      }
    }
  }
  process.kill(pid, "SIGTERM");
  await new Promise((r) => child.once("exit", r));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-mem-"));
  const configFile = join(dir, "farms.json");
  writeFileSync(configFile, JSON.stringify(switchyardConfig(planServices(FARMS, BACKENDS), "weight")));
  writeFileSync(join(dir, "token"), TOKEN, { mode: 0o600 });
  await run(["ip", "netns", "add", ns]);
  try {
    await run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
    for (const mode of MODES) {
      const agentArgs =
        mode === "standalone"
          ? ["-c", configFile, "-k", KEY, "--state-dir", join(dir, `state-${mode}`)]
          : ["--managed", "--token-file", join(dir, "token"), "--state-dir", join(dir, `state-${mode}`)];
      await runAgent(mode, mode, agentArgs, dir);
      // The same agent started again on its state dir (the restart path: no -c, the saved state re-applied).
      // (Standalone only: the managed client starts again at revision 1, which the agent refuses as older.)
      if (RESTART && mode === "standalone") await runAgent(mode, `${mode} (restarted)`, agentArgs, dir);
      await run(["ip", "netns", "exec", ns, "nft", "delete", "table", "inet", "switchyard"]);
    }
  } finally {
    await run(["ip", "netns", "del", ns]);
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    spawn("ip", ["netns", "del", ns], { stdio: "ignore" }).on("close", () => process.exit(130));
  });
}
await main();
