// bench/probe/cold-replace.ts: the agent's cold full replace at N farms × 4 backends
// (bench/apply's config) through the netlink batch encoded in JS (packages/agent/src/nft/
// netlink/replace.ts: encode + send + commit), next to `nft -f` of renderReplaceScript, in the
// same run, each round in fresh network namespaces, the two interleaved. Also the encode
// alone (first call in a process, then warm), and the same batch again over the loaded table
// (a full re-apply). Root:
//   node --import tsx bench/probe/cold-replace.ts [N=10000] [ROUNDS=5]
// The batch side runs bench/apply/batch-child.ts inside each namespace.
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { buildRuleset, parseConfig, renderReplaceScript } from "@switchyard/core";
import { BATCH_CHILD, batchChild, type ChildTimes } from "../apply/batch-child.ts";
import { BACKENDS, TABLE } from "../apply/changes.ts";
import { planServices } from "../dataplane/plan.ts";
import { seconds, summarize, table, type Summary } from "../dataplane/stats.ts";
import { switchyardConfig } from "../dataplane/switchyard.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

const irAt = (n: number) => buildRuleset(parseConfig(switchyardConfig(planServices(n, BACKENDS), "weight")), { table: TABLE });

function withNamespace<T>(fn: (ns: string) => T): T {
  const ns = `sy-cr-${randomBytes(4).toString("hex")}`;
  execFileSync("ip", ["netns", "add", ns]);
  try {
    return fn(ns);
  } finally {
    execFileSync("ip", ["netns", "delete", ns]);
  }
}

/** `nft -f` of the script in a fresh namespace: wall time, and nft's user and system time (/usr/bin/time). */
function nftCold(script: string): { ms: number; user: number; sys: number } {
  return withNamespace((ns) => {
    const t = performance.now();
    const r = spawnSync("ip", ["netns", "exec", ns, "/usr/bin/time", "-f", "%U %S", "nft", "-f", "-"], { input: script, encoding: "utf8", maxBuffer: 1 << 26 });
    const ms = performance.now() - t;
    if (r.status !== 0) throw new Error(`nft -f failed: ${r.stderr.slice(0, 500)}`);
    const [user, sys] = (r.stderr.trim().split("\n").at(-1) ?? "").split(" ").map((s) => Number(s) * 1000);
    return { ms, user: user ?? NaN, sys: sys ?? NaN };
  });
}

function batchCold(n: number): ChildTimes {
  return withNamespace((ns) => {
    const out = execFileSync("ip", ["netns", "exec", ns, process.execPath, "--import", "tsx", BATCH_CHILD, String(n)], { cwd: REPO, encoding: "utf8", maxBuffer: 1 << 26 });
    return JSON.parse(out) as ChildTimes;
  });
}

function parent(n: number, rounds: number): void {
  const script = renderReplaceScript(irAt(n), TABLE);
  process.stderr.write(`cold-replace: ${n} farms × 4 backends, ${rounds} rounds, script ${(script.length / 1e6).toFixed(1)} MB; load ${execFileSync("cat", ["/proc/loadavg"], { encoding: "utf8" }).trim()}\n`);
  const nft: ReturnType<typeof nftCold>[] = [];
  const ours: ChildTimes[] = [];
  for (let r = 0; r < rounds; r++) {
    // Interleaved, so that a busy moment of the machine hits both.
    nft.push(nftCold(script));
    ours.push(batchCold(n));
    process.stderr.write(`  round ${r + 1}: nft -f ${seconds(nft[r]!.ms)}; batch encode ${seconds(ours[r]!.encodeMs)} + send/commit ${seconds(ours[r]!.sendMs)}\n`);
  }
  const cell = (s: Summary) => `${seconds(s.median)} (${seconds(s.min)}–${seconds(s.max)})`;
  const rows: string[][] = [
    ["nft -f renderReplaceScript (process wall)", cell(summarize(nft.map((x) => x.ms)))],
    ["  of which nft user", cell(summarize(nft.map((x) => x.user)))],
    ["  of which nft sys (kernel)", cell(summarize(nft.map((x) => x.sys)))],
    ["netlink batch: encode + send + commit", cell(summarize(ours.map((x) => x.encodeMs + x.sendMs)))],
    ["  encode (first call of the process)", cell(summarize(ours.map((x) => x.encodeMs)))],
    ["  send + commit (sendmsg: the kernel)", cell(summarize(ours.map((x) => x.sendMs)))],
    ["encode alone, warm", cell(summarize(ours.map((x) => x.warmEncodeMs)))],
    ["netlink batch: full re-apply over the loaded table", cell(summarize(ours.map((x) => x.reapplyMs)))],
  ];
  console.log(table([`${n} farms × 4 backends, ${rounds} rounds, fresh namespaces`, "median (min–max)"], rows, [false, true]));
  console.log(`batch: ${(ours[0]!.bytes / 1e6).toFixed(1)} MB in one sendmsg; tables after: ${ours[0]!.tables}`);
}

const args = process.argv.slice(2);
parent(Number(args[0] ?? 10000), Number(args[1] ?? 5));
