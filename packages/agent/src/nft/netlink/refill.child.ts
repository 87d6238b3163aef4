// Run by refill.integration.test.ts as `ip netns exec NS node --import tsx refill.child.ts NS`
// with {table, a, b} (two IRs) on stdin; prints what it saw as JSON on stdout. It refuses to
// run anywhere but in the network namespace named NS: it replaces rulesets.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { planDelta, renderOps, renderReplaceScript, type IrRuleset, type NftOp } from "@switchyard/core";
import { loadLibs, nftnlRuleText } from "./ffi.ts";
import { openChainRefiller, RefillError } from "./refill.ts";
import { ruleExprs } from "./rule.ts";

const ns = process.argv[2] ?? "";
const here = execFileSync("ip", ["netns", "identify", String(process.pid)], { encoding: "utf8" }).trim();
if (ns === "" || here !== ns) {
  process.stderr.write(`refill.child.ts: not in network namespace ${JSON.stringify(ns)} (in ${JSON.stringify(here)}); refusing to touch the ruleset\n`);
  process.exit(2);
}

const { table, a, b } = JSON.parse(readFileSync(0, "utf8")) as { table: string; a: IrRuleset; b: IrRuleset };
const nft = (args: string[], input?: string): string => execFileSync("nft", args, { encoding: "utf8", ...(input === undefined ? {} : { input }) });
const listChain = (chain: string) => nft(["list", "chain", "inet", table, chain]);
/** The kernel's expressions of each rule as nft decodes them, without the rule handles. */
const debugChain = (chain: string) => nft(["--debug=netlink", "list", "chain", "inet", table, chain]).replace(/^(inet \S+ \S+)( \d+)+$/gm, "$1");
const listRuleset = () => nft(["list", "ruleset"]);
const applyA = () => nft(["-f", "-"], renderReplaceScript(a, table));

const inetOf = (ir: IrRuleset) => ir.tables.find((t) => t.family === "inet");
const chainsA = new Map((inetOf(a)?.chains ?? []).map((c) => [c.name, c.rules]));
/** The farms' chains (farm and scheduler) whose rules B changes. */
const farmChains = (inetOf(b)?.chains ?? []).filter(
  (c) => (c.name.startsWith("farm-") || c.name.startsWith("sched-")) && chainsA.has(c.name) && JSON.stringify(chainsA.get(c.name)) !== JSON.stringify(c.rules),
);
const at = { family: "inet" as const, table };
const refillOps = (chain: string, rules: readonly string[]): NftOp[] => [
  { op: "flush chain", ...at, chain },
  ...rules.map((rule): NftOp => ({ op: "add rule", ...at, chain, rule })),
];

const refiller = openChainRefiller();
if (refiller === null) {
  process.stdout.write(JSON.stringify({ loaded: false }));
  process.exit(0);
}

const caught = (fn: () => unknown) => {
  try {
    return { result: fn() };
  } catch (err) {
    return err instanceof RefillError
      ? { error: { name: err.name, message: err.message, errno: err.errno, opIndex: err.opIndex } }
      : { error: { name: "Error", message: String(err) } };
  }
};

applyA();

// 1. Each farm chain refilled with B's rules, by the refiller and then by nft -f.
const chains = farmChains.map((chain) => {
  const ops = refillOps(chain.name, chain.rules);
  const before = listChain(chain.name);
  const result = refiller.apply(ops);
  const fast = listChain(chain.name);
  const fastDebug = debugChain(chain.name);
  nft(["-f", "-"], renderOps(ops));
  const slow = listChain(chain.name);
  const slowDebug = debugChain(chain.name);
  return { chain: chain.name, rules: chain.rules, before, result, fast, slow, fastDebug, slowDebug };
});

// 2. The whole change A -> B as core's planner writes it: one batch here, one nft -f there.
applyA();
const planned = planDelta(a, b, table);
const wholeResult = refiller.apply(planned);
const wholeFast = nft(["list", "table", "inet", table]);
applyA();
nft(["-f", "-"], renderOps(planned));
const wholeSlow = nft(["list", "table", "inet", table]);

// 3. What the refiller sends for each rule, against what nft sends (both as libnftnl prints them).
const rules = [...new Set(farmChains.flatMap((c) => c.rules))];
// The rules name counters and jump to scheduler chains: the scratch table gets them too.
const counters = (inetOf(b)?.counters ?? []).map((c) => `add counter inet sy_enc ${c}\n`).join("");
const targets = rules.flatMap((r) => (r.startsWith("jump ") ? [`add chain inet sy_enc ${r.slice("jump ".length)}\n`] : [])).join("");
nft(["-f", "-"], `add table inet sy_enc\nadd chain inet sy_enc c\n${counters}${targets}`);
const nftBlocks = nft(["--debug=netlink", "-f", "-"], rules.map((r) => `add rule inet sy_enc c ${r}\n`).join(""))
  .split(/\n\s*\n/)
  .map((s) => s.trim())
  .filter((s) => s.startsWith("inet sy_enc c"));
nft(["delete", "table", "inet", "sy_enc"]);
const libs = loadLibs();
const encodings = rules.map((rule, i) => {
  const exprs = ruleExprs(rule);
  return { rule, ours: libs === null || exprs === null ? null : nftnlRuleText(libs, "sy_enc", "c", exprs).trim(), nft: nftBlocks[i] ?? null };
});

// 4. Refused before sending: nothing changes.
applyA();
const first = farmChains[0];
const unsupported = (() => {
  const before = listRuleset();
  const ops = [...refillOps(first?.name ?? "", first?.rules ?? []), { op: "add rule", ...at, chain: first?.name ?? "", rule: "ct mark set 0x00000001 counter accept" } as NftOp];
  const outcome = caught(() => refiller.apply(ops));
  return { outcome, same: listRuleset() === before };
})();

// 5. Refused by the kernel: the first ops are fine, a later one is not; nothing changes.
const refusedMissingChain = (() => {
  const before = listRuleset();
  const ops = [...refillOps(first?.name ?? "", first?.rules ?? []), ...refillOps("farm-no-such-chain-4", ["drop"])];
  const outcome = caught(() => refiller.apply(ops));
  return { outcome, opIndex: ops.length - 2, before, after: listRuleset() };
})();
const refusedValue = (() => {
  const before = listRuleset();
  const ops = refillOps(first?.name ?? "", ["ct mark set numgen inc mod 4294967295 offset 0x80000000"]);
  const outcome = caught(() => refiller.apply(ops));
  return { outcome, before, after: listRuleset() };
})();

refiller.close();
process.stdout.write(JSON.stringify({ loaded: true, chains, wholeResult, wholeFast, wholeSlow, plannedOps: planned.length, encodings, unsupported, refusedMissingChain, refusedValue }));
