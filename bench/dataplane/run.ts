// bench/dataplane: short TCP connections per second through four data paths, interleaved.
// `pnpm bench:dataplane [--quick]` as root. See README.md in this directory.

import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createLab, type Lab } from "@switchyard/netlab";
import { parseConntrackStat, parseLoadAvg, type LoadAvg } from "./kernel.ts";
import { KUBE_PROXY_FLUSH, renderKubeProxyRules } from "./kube-proxy.ts";
import { parseOptions, trafficSeconds, UsageError, USAGE, type Options } from "./options.ts";
import { ANYCAST_ADDR, MEASURED_VIP, planServices, SERVICE_PORT } from "./plan.ts";
import { findExecutable, startHttpServers, type ServerKind, type ServerSet } from "./server.ts";
import { pairedRatios, rate, rateCell, ratioCell, seconds, summarize, table } from "./stats.ts";
import { conntrackOnlyScript, countersScript, switchyardDeleteScript, switchyardRuleset } from "./switchyard.ts";
import { errorCount, runWrk, type WrkResult } from "./wrk.ts";

const VARIANTS = ["a", "b", "c", "d"] as const;
type Variant = (typeof VARIANTS)[number];
/**
 * DATAPLANE_D_COUNTERS replaces (d) with a variant of Switchyard's own ruleset, to price its
 * counters in pairs with (c): "connections" (without the forward chain that counts every packet
 * and byte per backend), "none" (without any per-backend counter). c/d is then the paired ratio.
 */
const D_COUNTERS = ((v) => (v === "none" || v === "connections" ? v : undefined))(process.env.DATAPLANE_D_COUNTERS);
const TITLE: Record<Variant, string> = {
  a: "(a) plain routing",
  b: "(b) conntrack+NAT hooks",
  c: "(c) Switchyard",
  d: D_COUNTERS === undefined ? "(d) kube-proxy iptables" : `(d) Switchyard, counters: ${D_COUNTERS}`,
};
/** The backends' "pod network", for kube-proxy's `! -s CIDR -j KUBE-MARK-MASQ`. */
const CLUSTER_CIDR = "198.18.2.0/24";

const started = Date.now();
const say = (text: string) => process.stderr.write(`[${String(Math.round((Date.now() - started) / 1000)).padStart(4)}s] ${text}\n`);
const fmt = (n: number) => n.toLocaleString("en-US");

let interrupted: NodeJS.Signals | undefined;

/**
 * A helper in its own session that deletes this run's namespaces and files if the run dies
 * without doing so (see reaper.mjs). It learns each lab's prefix as soon as the lab exists.
 */
class Reaper {
  readonly #child: ChildProcess;

  constructor() {
    this.#child = spawn(process.execPath, [resolve(import.meta.dirname, "reaper.mjs")], { detached: true, stdio: ["pipe", "ignore", "inherit"] });
    this.#child.on("error", (e) => say(`reaper: ${e.message}`));
    this.#child.stdin?.on("error", () => {});
    this.#child.unref();
    (this.#child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  }

  tell(line: string): void {
    this.#child.stdin?.write(`${line}\n`);
  }

  /** The run cleaned up after itself: the reaper checks, finds nothing, exits. */
  finish(): void {
    this.#child.stdin?.end("done\n");
  }
}

interface ConfigResult {
  services: number;
  backends: number;
  runs: Record<Variant, WrkResult[]>;
  load: { cMs: number; dMs: number; cRenderMs: number; dRenderMs: number; c: string; d: string };
  spread: Partial<Record<Variant, Record<string, number>>>;
}

function readLoad(): LoadAvg {
  return parseLoadAvg(readFileSync("/proc/loadavg", "utf8"));
}

function version(argv: string[]): string {
  try {
    const out = execFileSync(argv[0] as string, argv.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 5000 });
    return out.trim().split("\n")[0] ?? "";
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return `${err.stdout ?? ""}${err.stderr ?? ""}`.trim().split("\n")[0] ?? "?";
  }
}

async function must(lab: Lab, ns: string, argv: string[], input?: string, timeoutMs = 120_000): Promise<{ ms: number; stdout: string }> {
  const t = performance.now();
  const r = await lab.exec(ns, argv, { ...(input === undefined ? {} : { input }), timeoutMs });
  const ms = performance.now() - t;
  if (r.code !== 0) throw new Error(`${argv.join(" ")} in ${ns} exited ${r.code}: ${r.stderr.trim().slice(0, 2000)}`);
  return { ms, stdout: r.stdout };
}

/** Which iptables-restore loads (d): legacy (what kube-proxy's iptables mode costs) when it works in a namespace. */
async function chooseIptables(lab: Lab, wanted: Options["iptables"]): Promise<{ restore: string; label: string; note?: string }> {
  const legacy = findExecutable("iptables-legacy-restore");
  const nft = findExecutable("iptables-nft-restore") ?? findExecutable("iptables-restore");
  if (wanted !== "nft" && legacy) {
    const r = await lab.exec(lab.balancer.ns, [legacy], { input: KUBE_PROXY_FLUSH, timeoutMs: 30_000 });
    if (r.code === 0) return { restore: legacy, label: "iptables-legacy-restore" };
    if (wanted === "legacy") throw new Error(`iptables-legacy-restore does not work in a namespace here: ${r.stderr.trim()}`);
    if (nft) return { restore: nft, label: "iptables-nft-restore", note: `iptables-legacy-restore failed (${r.stderr.trim()}), so (d) uses the nft backend` };
  }
  if (wanted === "legacy") throw new Error("iptables-legacy-restore is not installed");
  if (!nft) throw new Error("neither iptables-legacy-restore nor iptables-restore is installed (Debian package iptables)");
  return { restore: nft, label: "iptables-nft-restore", ...(wanted === "auto" ? { note: "iptables-legacy-restore is not installed, so (d) uses the nft backend" } : {}) };
}

function chooseServer(o: Options): { kind: ServerKind; nginx?: string; note?: string } {
  if (o.server === "node") return { kind: "node", note: "--server node: Node's server costs about twice nginx's CPU per connection; ratios are compressed towards 1" };
  const nginx = o.nginx ?? findExecutable("nginx");
  if (nginx) return { kind: "nginx", nginx };
  if (o.server === "nginx") throw new Error("nginx not found (Debian package nginx, or --nginx PATH)");
  return {
    kind: "node",
    note: "nginx is not installed (Debian package nginx): using the Node fallback server, which is the bottleneck on a small machine and compresses every ratio towards 1",
  };
}

async function conntrackState(lab: Lab): Promise<{ count: number; drops: number }> {
  const count = await lab.exec(lab.balancer.ns, ["cat", "/proc/sys/net/netfilter/nf_conntrack_count"], { timeoutMs: 5000 });
  const stat = await lab.exec(lab.balancer.ns, ["cat", "/proc/net/stat/nf_conntrack"], { timeoutMs: 5000 });
  const sums = stat.code === 0 ? parseConntrackStat(stat.stdout) : {};
  return { count: Number(count.stdout.trim()) || 0, drops: (sums.drop ?? 0) + (sums.early_drop ?? 0) + (sums.insert_failed ?? 0) };
}

function spreadText(counts: Record<string, number> | undefined, backends: number): string {
  if (!counts) return "-";
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  if (total === 0) return "no answers";
  const names = Array.from({ length: backends }, (_, i) => `b${i + 1}`);
  const extra = Object.keys(counts).filter((k) => !names.includes(k));
  return [...names, ...extra].map((n) => `${n} ${Math.round(((counts[n] ?? 0) / total) * 100)}%`).join(" ");
}

function spreadOk(counts: Record<string, number> | undefined, backends: number): boolean {
  if (!counts) return true;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return total > 0 && Array.from({ length: backends }, (_, i) => counts[`b${i + 1}`] ?? 0).every((n) => n >= (0.5 * total) / backends);
}

async function main(): Promise<number> {
  let o: Options | null;
  try {
    o = parseOptions(process.argv.slice(2), process.env, cpus().length);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`bench:dataplane: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (o === null) {
    process.stdout.write(USAGE);
    return 0;
  }
  const opts = o;
  if (process.getuid?.() !== 0) {
    process.stderr.write("bench:dataplane: needs root (it builds network namespaces and loads rules in them)\n");
    return 2;
  }
  for (const tool of ["wrk", "nft", "ip", "ss"]) {
    if (!findExecutable(tool)) {
      process.stderr.write(`bench:dataplane: ${tool} is not installed (scripts/install.sh installs it)\n`);
      return 2;
    }
  }
  const server = chooseServer(opts);
  const cores = cpus().length;
  const loadBefore = readLoad();
  const maxBackends = Math.max(...opts.backends);
  const traffic = trafficSeconds(opts);
  const heavy = opts.services.filter((n) => n >= 1000).length * opts.backends.length;
  const estimate = traffic + 10 + opts.services.length * opts.backends.length * opts.rounds * 4 * 0.15 + heavy * 6;
  // Everything the run starts is bounded by this, even if nobody stops it.
  const lifetimeMs = Math.round((estimate * 3 + 300) * 1000);
  say(
    `${opts.quick ? "quick run" : "run"}: services ${opts.services.map(fmt).join(", ")} × backends ${opts.backends.join(", ")}, ` +
      `${opts.rounds} round(s) of a,b,c,d × ${opts.duration} s; about ${Math.ceil(estimate / 10) * 10} s`,
  );
  if (loadBefore.one > 0.5 * cores) say(`WARNING: the machine is busy before the run (load ${loadBefore.one} on ${cores} cores): figures will be noisy`);

  const watchdog = setTimeout(() => {
    say(`the run exceeds ${Math.round(lifetimeMs / 1000)} s: stopping`);
    process.kill(process.pid, "SIGTERM");
  }, lifetimeMs);
  watchdog.unref();

  const reaper = new Reaper();
  const runDir = mkdtempSync(join(tmpdir(), "sybench-"));
  reaper.tell(`dir ${runDir}`);
  const labs = new Map<Variant, Lab>();
  const servers: ServerSet[] = [];
  const results: ConfigResult[] = [];
  const plainSpread = new Map<number, Record<string, number>>();
  let iptables: Awaited<ReturnType<typeof chooseIptables>> | undefined;
  const notes: string[] = [];
  if (server.note) notes.push(server.note);
  const checks: string[] = [];
  try {
    // One lab per variant: each keeps its ruleset for a whole configuration, so interleaving the
    // variants reloads nothing, and iptables-legacy's nat table (which stays registered in a
    // namespace once created) never sits in the path of (a)-(c).
    for (const v of VARIANTS) {
      if (interrupted) throw new Error(`interrupted (${interrupted})`);
      const lab = await createLab({ backends: maxBackends });
      reaper.tell(`prefix ${lab.prefix}`);
      labs.set(v, lab);
      servers.push(await startHttpServers(lab, lab.backends, SERVICE_PORT, server, opts.serverProcs, lifetimeMs, runDir));
    }
    const lab = (v: Variant) => labs.get(v) as Lab;
    const procs = server.kind === "nginx" ? opts.serverProcs : 1;
    say(`labs ${[...labs.values()].map((l) => l.prefix).join(", ")} up, ${procs} ${server.kind} process(es) in each of ${maxBackends} backend(s)`);
    const aRules = await must(lab("a"), lab("a").balancer.ns, ["nft", "list", "ruleset"]);
    if (aRules.stdout.trim() !== "") checks.push(`WARNING: the balancer of (a) has an nft ruleset of its own:\n${aRules.stdout}`);
    // (a), (b): the backends share ANYCAST_ADDR, the balancer spreads it over them by ECMP on the 4-tuple.
    for (const v of ["a", "b"] as const) {
      for (const b of lab(v).backends) await lab(v).addAddress(b, ANYCAST_ADDR, "lo");
      await must(lab(v), lab(v).balancer.ns, ["sysctl", "-q", "-w", "net.ipv4.fib_multipath_hash_policy=1"]);
    }
    await must(lab("b"), lab("b").balancer.ns, ["nft", "-f", "-"], conntrackOnlyScript());
    const dCounters = D_COUNTERS;
    iptables = dCounters ? { restore: "nft", label: `nft -f (counters ${dCounters})` } : await chooseIptables(lab("d"), opts.iptables);
    if (iptables.note) notes.push(iptables.note);

    const backendAddrs = (n: number) => lab("a").backends.slice(0, n).map((b) => b.ipv4[0] as string);
    const target = (v: Variant) => (v === "a" || v === "b" ? ANYCAST_ADDR : MEASURED_VIP);
    const wrk = (v: Variant, secs: number, countBackends = false) =>
      runWrk(lab(v), {
        hosts: [target(v)],
        port: SERVICE_PORT,
        threads: opts.threads,
        connections: opts.connections,
        seconds: secs,
        countBackends,
        baseDir: runDir,
      });

    for (const nBackends of opts.backends) {
      const nexthops = backendAddrs(nBackends).flatMap((addr) => ["nexthop", "via", addr]);
      for (const v of ["a", "b"] as const) await must(lab(v), lab(v).balancer.ns, ["ip", "route", "replace", `${ANYCAST_ADDR}/32`, ...nexthops]);
      // Check (and warm up) the plain path: does it answer, from every backend?
      if (opts.check > 0) {
        for (const v of ["a", "b"] as const) {
          const r = await wrk(v, opts.check, true);
          if (r.requests === 0) throw new Error(`${TITLE[v]}: no connection to ${ANYCAST_ADDR}:${SERVICE_PORT} succeeded`);
          if (v === "a") plainSpread.set(nBackends, r.backends);
          if (!spreadOk(r.backends, nBackends)) checks.push(`WARNING ${nBackends} backend(s): ${TITLE[v]} spread is uneven: ${spreadText(r.backends, nBackends)}`);
        }
      }
      for (const nServices of opts.services) {
        if (interrupted) throw new Error(`interrupted (${interrupted})`);
        const label = `${nBackends} backend(s), ${fmt(nServices)} service(s)`;
        const services = planServices(nServices, backendAddrs(nBackends));

        let t = performance.now();
        const sy = switchyardRuleset(services, undefined, opts.scheduler);
        const cRenderMs = performance.now() - t;
        t = performance.now();
        const kp = renderKubeProxyRules(services, { clusterCidr: CLUSTER_CIDR });
        const dRenderMs = performance.now() - t;

        const lbC = lab("c").balancer.ns;
        const lbD = lab("d").balancer.ns;
        await must(lab("c"), lbC, ["nft", "-f", "-"], switchyardDeleteScript());
        const cLoad = await must(lab("c"), lbC, ["nft", "-f", "-"], sy.script);
        const dLoad = dCounters
          ? (await must(lab("d"), lbD, ["nft", "-f", "-"], switchyardDeleteScript()), await must(lab("d"), lbD, ["nft", "-f", "-"], countersScript(sy.script, dCounters)))
          : (await must(lab("d"), lbD, [iptables.restore], KUBE_PROXY_FLUSH), await must(lab("d"), lbD, [iptables.restore], kp.text));
        say(`${label}: loaded (c) nft -f in ${seconds(cLoad.ms)}, (d) ${iptables.label} in ${seconds(dLoad.ms)}`);

        const result: ConfigResult = {
          services: nServices,
          backends: nBackends,
          runs: { a: [], b: [], c: [], d: [] },
          load: {
            cMs: cLoad.ms,
            dMs: dLoad.ms,
            cRenderMs,
            dRenderMs,
            c: `${fmt(sy.chains)} chains, ${fmt(sy.rules)} rules, ${fmt(sy.mapElements)} map elements`,
            d: `${fmt(kp.chains)} chains, ${fmt(kp.rules)} rules`,
          },
          spread: {},
        };
        results.push(result);

        // Check run: does the VIP answer, from every backend? (Counting bodies slows wrk: not measured.)
        if (opts.check > 0) {
          for (const v of ["c", "d"] as const) {
            const r = await wrk(v, opts.check, true);
            result.spread[v] = r.backends;
            if (r.requests === 0) throw new Error(`${TITLE[v]}: no connection to ${MEASURED_VIP}:${SERVICE_PORT} succeeded (${label})`);
            if (!spreadOk(r.backends, nBackends)) checks.push(`WARNING ${label}: ${TITLE[v]} spread is uneven: ${spreadText(r.backends, nBackends)}`);
          }
        }

        for (let round = 1; round <= opts.rounds; round++) {
          const line: string[] = [];
          for (const v of VARIANTS) {
            if (interrupted) throw new Error(`interrupted (${interrupted})`);
            const r = await wrk(v, opts.duration);
            result.runs[v].push(r);
            line.push(`${v} ${rate(r.perSecond)}${errorCount(r.errors) > 0 ? "!" : ""}`);
          }
          say(`${label}: round ${round}/${opts.rounds}: ${line.join("  ")}`);
        }
        const failed = servers.flatMap((s) => s.failures());
        if (failed.length > 0) throw new Error(`a backend server stopped:\n${failed.join("\n")}`);
      }
    }

    // Conntrack must not run in (a), must run in (b)-(d), and must not have dropped anything.
    const counts: string[] = [];
    for (const v of VARIANTS) {
      const ct = await conntrackState(lab(v));
      counts.push(`(${v}) ${fmt(ct.count)}`);
      if (v === "a" && ct.count > 0) checks.push(`WARNING: conntrack ran in (a) (${ct.count} entries): the ceiling is not a plain path`);
      if (v !== "a" && ct.count === 0) checks.push(`WARNING: no conntrack entries in ${TITLE[v]}: conntrack did not run?`);
      if (ct.drops > 0) {
        // A few insert clashes (two new connections racing for one NAT tuple) are normal; many skew the figures.
        const connections = results.reduce((n, c) => n + c.runs[v].reduce((m, x) => m + x.requests, 0), 0);
        const many = ct.drops > 0.001 * connections;
        checks.push(`${many ? "WARNING: " : ""}conntrack dropped or failed to insert ${fmt(ct.drops)} of about ${fmt(connections)} connections in ${TITLE[v]}`);
      }
    }
    checks.push(`conntrack entries in the balancers at the end: ${counts.join(", ")} (none expected in (a))`);
  } finally {
    clearTimeout(watchdog);
    for (const l of labs.values()) await l.destroy().catch((e: Error) => say(`could not destroy lab ${l.prefix}: ${e.message}`));
    for (const s of servers) s.cleanup();
    rmSync(runDir, { recursive: true, force: true });
    reaper.finish();
  }
  const loadAfter = readLoad();
  report({ opts, results, plainSpread, notes, checks, server: server.kind, iptablesLabel: iptables?.label ?? "?", loadBefore, loadAfter, cores });
  return 0;
}

interface ReportInput {
  opts: Options;
  results: ConfigResult[];
  plainSpread: Map<number, Record<string, number>>;
  notes: string[];
  checks: string[];
  server: ServerKind;
  iptablesLabel: string;
  loadBefore: LoadAvg;
  loadAfter: LoadAvg;
  cores: number;
}

function report(r: ReportInput): void {
  const { opts } = r;
  const out: string[] = [];
  const errorsOf = (runs: WrkResult[]) => runs.reduce((n, x) => n + errorCount(x.errors), 0);
  out.push("");
  out.push("Switchyard data path: short TCP connections per second (one HTTP request per connection)");
  out.push(
    `wrk ${opts.threads} threads, ${opts.connections} connections, "Connection: close", ${opts.duration} s per run, ` +
      `${opts.rounds} round(s) of a,b,c,d interleaved; backends: ${r.server === "nginx" ? `${opts.serverProcs} nginx processes each` : "Node fallback server"}; measured service last`,
  );
  out.push(
    `(a) routed to the backends (ECMP on the 4-tuple, no conntrack)   (b) the same + nft nat hooks and ct, no translation\n` +
      `(c) Switchyard ${opts.scheduler} snat farms, nft -f   (d) kube-proxy-style rules, ${r.iptablesLabel}`,
  );
  out.push(`kernel ${version(["uname", "-r"])}, ${version(["nft", "--version"])}, ${version(["wrk", "-v"]).replace(/\s+Copyright.*$/, "")}, ${r.cores} cores`);
  out.push("");
  out.push("connections/s: median (min–max)");
  const rows = r.results.map((c) => {
    const cells = VARIANTS.map((v) => {
      const runs = c.runs[v];
      if (runs.length === 0) return "-";
      return `${rateCell(summarize(runs.map((x) => x.perSecond)))}${errorsOf(runs) > 0 ? " !" : ""}`;
    });
    return [fmt(c.services), String(c.backends), ...cells];
  });
  out.push(table(["services", "backends", ...VARIANTS.map((v) => TITLE[v])], rows, [true, true]));
  out.push("");
  out.push("paired ratios, per round: median (min–max)");
  const ratio = (c: ConfigResult, num: Variant, den: Variant) => {
    const n = c.runs[num].map((x) => x.perSecond);
    const d = c.runs[den].map((x) => x.perSecond);
    return n.length === 0 || n.length !== d.length ? "-" : ratioCell(summarize(pairedRatios(n, d)));
  };
  out.push(
    table(
      ["services", "backends", "c/b Switchyard vs limit", "c/d Switchyard vs kube-proxy", "b/a conntrack tax", "d/a kube-proxy vs ceiling"],
      r.results.map((c) => [fmt(c.services), String(c.backends), ratio(c, "c", "b"), ratio(c, "c", "d"), ratio(c, "b", "a"), ratio(c, "d", "a")]),
      [true, true],
    ),
  );
  out.push("");
  out.push("loading the rules (cold, into an empty table; side figure)");
  out.push(
    table(
      ["services", "backends", "(c) nft -f", "(c) render", "(c) ruleset", `(d) ${r.iptablesLabel}`, "(d) render", "(d) ruleset"],
      r.results.map((c) => [
        fmt(c.services),
        String(c.backends),
        seconds(c.load.cMs),
        seconds(c.load.cRenderMs),
        c.load.c,
        seconds(c.load.dMs),
        seconds(c.load.dRenderMs),
        c.load.d,
      ]),
      [true, true, true, true, false, true, true],
    ),
  );
  const spreads = r.results.filter((c) => c.backends > 1 && (c.spread.c || c.spread.d));
  if (spreads.length > 0) {
    out.push("");
    out.push("spread over backends in the check run (not measured)");
    out.push(
      table(
        ["services", "backends", "(a) ECMP", "(c) Switchyard", "(d) kube-proxy"],
        spreads.map((c) => [
          fmt(c.services),
          String(c.backends),
          spreadText(r.plainSpread.get(c.backends), c.backends),
          spreadText(c.spread.c, c.backends),
          spreadText(c.spread.d, c.backends),
        ]),
        [true, true],
      ),
    );
  }
  const errors = r.results.flatMap((c) =>
    VARIANTS.flatMap((v) => {
      const e = c.runs[v].reduce(
        (acc, x) => ({ connect: acc.connect + x.errors.connect, read: acc.read + x.errors.read, write: acc.write + x.errors.write, status: acc.status + x.errors.status, timeout: acc.timeout + x.errors.timeout }),
        { connect: 0, read: 0, write: 0, status: 0, timeout: 0 },
      );
      const total = errorCount(e);
      return total === 0 ? [] : [`! ${fmt(c.services)} services, ${c.backends} backend(s), ${TITLE[v]}: wrk errors connect ${e.connect}, read ${e.read}, write ${e.write}, status ${e.status}, timeout ${e.timeout}`];
    }),
  );
  out.push("");
  out.push(...errors, ...r.checks, ...r.notes.map((n) => `note: ${n}`));
  const busy = r.loadBefore.one > 0.5 * r.cores;
  out.push(
    `load average before ${r.loadBefore.one.toFixed(2)} ${r.loadBefore.five.toFixed(2)} ${r.loadBefore.fifteen.toFixed(2)}, ` +
      `after ${r.loadAfter.one.toFixed(2)} ${r.loadAfter.five.toFixed(2)} ${r.loadAfter.fifteen.toFixed(2)} ("after" includes this run's own load), ${r.cores} cores` +
      (busy ? `\nWARNING: the machine was busy before the run (load ${r.loadBefore.one.toFixed(2)} > ${(0.5 * r.cores).toFixed(1)}): other work shares the CPUs, figures are noisy` : ""),
  );
  out.push(`took ${Math.round((Date.now() - started) / 1000)} s`);
  process.stdout.write(`${out.join("\n")}\n`);
}

// netlab's own handlers (registered with the first lab) kill the lab's processes and delete its
// namespaces at once; this one stops the run between steps. A repeated signal changes nothing
// (tsx relays Ctrl-C to its child a second time): the run stops by itself within seconds, and
// the reaper finishes the cleanup if this process is killed outright.
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = sig;
    say(`${sig}: stopping and deleting the namespaces`);
  });
}

try {
  process.exitCode = await main();
} catch (e) {
  say(`failed: ${(e as Error).message}`);
  process.exitCode = interrupted ? 130 : 1;
}
