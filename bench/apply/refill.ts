// bench/apply/refill.ts: one backend change at 10,000 farms × 4 backends (weight, snat), as
// core's planDelta plans it (a refill of that farm's chain), applied three ways in the same
// run: (a) `nft -f -` as a child process, (b) libnftables with one long-lived nft_ctx (koffi),
// (c) the agent's netlink chain refiller (libnftnl + libmnl, koffi). Each change is applied
// (measured) and reverted (not measured) by the same way, the three ways interleaved per
// change, so that every way pays for the generation the kernel moved to at its own last
// commit. Runs in a network namespace it creates and deletes:
//   node --import tsx bench/apply/refill.ts [--farms 10000] [--changes 20]
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildRuleset, parseConfig, planDelta, renderOps, renderReplaceScript, type Config, type IrRuleset, type NftOp } from "@switchyard/core";
import { loadLibs } from "../../packages/agent/src/nft/netlink/ffi.ts";
import { openChainRefiller } from "../../packages/agent/src/nft/netlink/refill.ts";
import { planServices } from "../dataplane/plan.ts";
import { summarize, table, type Summary } from "../dataplane/stats.ts";
import { switchyardConfig } from "../dataplane/switchyard.ts";

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const FARMS = Number(flag("--farms") ?? 10_000);
const CHANGES = Number(flag("--changes") ?? 20);
const INSIDE = flag("--inside");
const BACKENDS = ["198.18.2.11", "198.18.2.12", "198.18.2.13", "198.18.2.14"];
const TABLE = "switchyard";

/** The same config with backend b1 of farm #k set down (or up again when it was down). */
function toggled(config: Config, k: number): Config {
  return {
    farms: config.farms.map((f, i) =>
      i !== k ? f : { ...f, backends: f.backends.map((b, j) => (j === 0 ? { ...b, state: b.state === "up" ? ("down" as const) : ("up" as const) } : b)) },
    ),
  };
}

interface Way {
  name: string;
  apply(ops: NftOp[]): void;
}

function inside(ns: string): void {
  const here = execFileSync("ip", ["netns", "identify", String(process.pid)], { encoding: "utf8" }).trim();
  if (here !== ns) throw new Error(`refusing to run outside network namespace ${ns} (in ${JSON.stringify(here)})`);
  const libs = loadLibs();
  const refiller = openChainRefiller();
  if (libs === null || refiller === null) throw new Error("koffi, libnftnl or libmnl did not load");

  const lib = libs.koffi.load("libnftables.so.1");
  const nftCtxNew = lib.func("void *nft_ctx_new(uint32_t flags)");
  const nftCtxBufferOutput = lib.func("int nft_ctx_buffer_output(void *ctx)");
  const nftCtxBufferError = lib.func("int nft_ctx_buffer_error(void *ctx)");
  const nftCtxGetErrorBuffer = lib.func("const char *nft_ctx_get_error_buffer(void *ctx)");
  const nftRunCmdFromBuffer = lib.func("int nft_run_cmd_from_buffer(void *ctx, const char *buf)");
  const ctx: object = nftCtxNew(0);
  nftCtxBufferOutput(ctx);
  nftCtxBufferError(ctx);

  const ways: Way[] = [
    {
      name: "(a) nft -f - (child process)",
      apply(ops) {
        const r = spawnSync("nft", ["-f", "-"], { input: renderOps(ops), encoding: "utf8" });
        if (r.status !== 0) throw new Error(`nft -f: ${r.stderr}`);
      },
    },
    {
      name: "(b) libnftables, long-lived ctx",
      apply(ops) {
        if (nftRunCmdFromBuffer(ctx, renderOps(ops)) !== 0) throw new Error(`libnftables: ${String(nftCtxGetErrorBuffer(ctx))}`);
      },
    },
    {
      name: "(c) netlink refiller",
      apply(ops) {
        if (refiller.apply(ops) !== "applied") throw new Error("refiller: unsupported ops");
      },
    },
  ];

  const services = planServices(FARMS, BACKENDS);
  const base = parseConfig(switchyardConfig(services, "weight"));
  const baseIr = buildRuleset(base, { table: TABLE });
  let t = performance.now();
  execFileSync("nft", ["-f", "-"], { input: renderReplaceScript(baseIr, TABLE) });
  const coldMs = performance.now() - t;
  const rules = baseIr.tables.flatMap((x) => x.chains).reduce((n, c) => n + c.rules.length, 0);

  const times = ways.map(() => [] as number[]);
  let opsPerChange = 0;
  let example = "";
  let current: { config: Config; ir: IrRuleset } = { config: base, ir: baseIr };
  for (let c = 0; c < CHANGES; c++) {
    const config = toggled(current.config, (c * 7919 + 37) % FARMS);
    const ir = buildRuleset(config, { table: TABLE });
    const forward = planDelta(current.ir, ir, TABLE);
    const back = planDelta(ir, current.ir, TABLE);
    opsPerChange = forward.length;
    if (c === 0) example = renderOps(forward);
    ways.forEach((way, i) => {
      t = performance.now();
      way.apply(forward);
      (times[i] as number[]).push(performance.now() - t);
      way.apply(back);
    });
    // Keep the last change applied, so that successive changes build on each other.
    ways[2]?.apply(forward);
    current = { config, ir };
  }
  refiller.close();
  // The kernel holds what nft -f would have made of the last change.
  const chain = `farm-${base.farms[(((CHANGES - 1) * 7919 + 37) % FARMS)]?.name}-4`;
  const listed = execFileSync("nft", ["list", "chain", "inet", TABLE, chain], { encoding: "utf8" });

  const s = times.map((x) => summarize(x));
  const ms = (n: number) => `${n.toFixed(2)} ms`;
  const cell = (x: Summary) => `${ms(x.median)} (${ms(x.min)}–${ms(x.max)})`;
  const c = s[2] as Summary;
  console.log(`bench/apply/refill: ${FARMS.toLocaleString("en")} farms × 4 backends (weight, snat), ${rules.toLocaleString("en")} rules; cold full apply ${(coldMs / 1000).toFixed(2)} s`);
  console.log(`${CHANGES} one-backend changes, ${opsPerChange} ops each (flush chain + add rule), e.g.:\n${example}`);
  console.log(
    table(
      ["way", "median (min–max)", "median / refiller"],
      ways.map((w, i) => [w.name, cell(s[i] as Summary), `${((s[i] as Summary).median / c.median).toFixed(1)}×`]),
      [false, true, true],
    ),
  );
  console.log(`\nlast changed chain after the run:\n${listed}`);
}

function outside(): void {
  const ns = `sy-nl-${randomBytes(3).toString("hex")}`;
  const load = readFileSync("/proc/loadavg", "utf8").trim();
  process.stderr.write(`bench/apply/refill: namespace ${ns}; load ${load}\n`);
  execFileSync("ip", ["netns", "add", ns]);
  const cleanup = () => spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      cleanup();
      process.exit(130);
    });
  }
  try {
    const self = fileURLToPath(import.meta.url);
    const r = spawnSync("ip", ["netns", "exec", ns, process.execPath, "--import", "tsx", self, ...args, "--inside", ns], { stdio: "inherit" });
    if (r.status !== 0) process.exitCode = r.status ?? 1;
  } finally {
    cleanup();
  }
  process.stderr.write(`load after: ${readFileSync("/proc/loadavg", "utf8").trim()}\n`);
}

if (INSIDE === undefined) outside();
else inside(INSIDE);
