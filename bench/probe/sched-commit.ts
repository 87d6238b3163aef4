// bench/probe/sched-commit.ts: what the kernel's commit of one chain refill costs at N farms,
// by the shape of the rules refilled, through the agent's netlink refiller. The kernel
// validates the whole table at commit when the batch adds a rule holding an expression with a
// `validate` hook; this shows which of the scheduler chain's candidate shapes do. Each refill
// is applied (measured) and reverted (not measured), shapes interleaved. Root, inside a
// scratch namespace:
//   ip netns add sy-sc-x && ip netns exec sy-sc-x node --import tsx bench/probe/sched-commit.ts [N]; ip netns del sy-sc-x
import { execFileSync } from "node:child_process";
import { buildRuleset, parseConfig, renderReplaceScript, type NftOp } from "@switchyard/core";
import { openChainRefiller } from "../../packages/agent/src/nft/netlink/refill.ts";
import { planServices } from "../dataplane/plan.ts";
import { switchyardConfig } from "../dataplane/switchyard.ts";
import { BACKENDS, TABLE } from "../apply/changes.ts";

const N = Number(process.argv[2] ?? 10000);
const ROUNDS = 30;
const config = parseConfig(switchyardConfig(planServices(N, BACKENDS), "weight"));
const ir = buildRuleset(config, { table: TABLE });
let t = performance.now();
execFileSync("nft", ["-f", "-"], { input: renderReplaceScript(ir, TABLE) });
console.log(`cold apply of ${N} farms: ${((performance.now() - t) / 1000).toFixed(2)} s`);
const refiller = openChainRefiller();
if (refiller === null) throw new Error("the netlink refiller did not load");

const chains = new Map(ir.tables[0]!.chains.map((c) => [c.name, c.rules]));
const refill = (chain: string, rules: readonly string[]): NftOp[] => [
  { op: "flush chain", family: "inet", table: TABLE, chain },
  ...rules.map((rule): NftOp => ({ op: "add rule", family: "inet", table: TABLE, chain, rule })),
];
const ID = 0xc000_0000;
const hex = (n: number) => `0x${n.toString(16).padStart(8, "0")}`;
/** Backend b1 down: three backends left, their draw ranges turned into their ids. */
const shapes: Record<string, (farm: string) => readonly string[]> = {
  "draw + ranges -> id (numgen mod 1)": () => [
    "ct mark set numgen random mod 3 offset 0x80000000",
    ...[1, 2, 3].map((i) => `ct mark ${hex(0x8000_0000 + i - 1)} ct mark set numgen random mod 1 offset ${hex(ID + i)}`),
  ],
  "draw + ranges -> id (immediate)": () => [
    "ct mark set numgen random mod 3 offset 0x80000000",
    ...[1, 2, 3].map((i) => `ct mark ${hex(0x8000_0000 + i - 1)} ct mark set ${hex(ID + i)}`),
  ],
  "draw alone (all up)": () => [`ct mark set numgen random mod 4 offset ${hex(ID)}`],
  "drop (no backend up)": () => ["drop"],
  "farm chain (jump, dnat x4, drop)": (farm) => chains.get(`farm-${farm}-4`) ?? [],
};
const times: Record<string, number[]> = {};
for (let r = 0; r < ROUNDS; r++) {
  const farm = config.farms[(r * 7919) % N]!.name;
  for (const [name, rules] of Object.entries(shapes)) {
    const chain = name.startsWith("farm chain") ? `farm-${farm}-4` : `sched-${farm}-4`;
    t = performance.now();
    if (refiller.apply(refill(chain, rules(farm))) !== "applied") throw new Error(`${name}: not a shape the refiller sends`);
    (times[name] ??= []).push(performance.now() - t);
    refiller.apply(refill(chain, chains.get(chain) ?? []));
  }
}
refiller.close();
console.log(`one chain refilled at ${N} farms, ${ROUNDS} rounds: median (min-max) ms`);
for (const [name, v] of Object.entries(times)) {
  const s = v.sort((a, b) => a - b);
  console.log(`${name.padEnd(38)} ${s[s.length >> 1]!.toFixed(2).padStart(6)} (${s[0]!.toFixed(2)}-${s.at(-1)!.toFixed(2)})`);
}
