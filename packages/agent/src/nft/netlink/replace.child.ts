// Run by replace.integration.test.ts as `ip netns exec NS node --import tsx replace.child.ts NS`
// with {table, cases, refusals} on stdin; prints what it saw as JSON on stdout. It refuses to
// run anywhere but in the network namespace named NS: it flushes and replaces rulesets.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { CounterValue, IrRuleset } from "@switchyard/core";
import { encodeReplace } from "./replace.ts";
import { openReplaceSender, ReplaceError } from "./replace-send.ts";

const ns = process.argv[2] ?? "";
const here = execFileSync("ip", ["netns", "identify", String(process.pid)], { encoding: "utf8" }).trim();
if (ns === "" || here !== ns) {
  process.stderr.write(`replace.child.ts: not in network namespace ${JSON.stringify(ns)} (in ${JSON.stringify(here)}); refusing to touch the ruleset\n`);
  process.exit(2);
}

export interface ChildCase {
  name: string;
  ir: IrRuleset;
  counters?: Record<string, CounterValue>;
  /** nft script run after `flush ruleset`, before the replace. */
  setup: string;
}
export interface ChildRefusal {
  name: string;
  /** The case loaded first (by nft -f of its setup and the batch). */
  before: string;
  ir: IrRuleset;
}

const { table, cases, refusals } = JSON.parse(readFileSync(0, "utf8")) as { table: string; cases: ChildCase[]; refusals: ChildRefusal[] };
const nft = (args: string[], input?: string): string => execFileSync("nft", args, { encoding: "utf8", maxBuffer: 1 << 30, ...(input === undefined ? {} : { input }) });

const sender = openReplaceSender();
if (sender === null) {
  process.stdout.write(JSON.stringify({ loaded: false }));
  process.exit(0);
}

const countersOf = (c: ChildCase) => (c.counters === undefined ? undefined : new Map(Object.entries(c.counters)));
const load = async (c: ChildCase) => {
  nft(["flush", "ruleset"]);
  nft(["-f", "-"], c.setup);
  const batch = encodeReplace(c.ir, table, countersOf(c));
  if (batch === null) throw new Error(`${c.name}: encodeReplace gave null`);
  const hex = batch.toString("hex");
  const t = performance.now();
  // How often the event loop turned while the kernel committed: the send runs on a worker thread.
  let loopTicks = 0;
  const tick = setInterval(() => loopTicks++, 1);
  try {
    await sender.send(batch);
  } finally {
    clearInterval(tick);
  }
  return { hex, ms: performance.now() - t, loopTicks };
};

const results = [];
for (const c of cases) {
  const { hex, ms, loopTicks } = await load(c);
  results.push({ name: c.name, batch: hex, ms, loopTicks, json: nft(["-j", "list", "table", "inet", table]), text: nft(["list", "table", "inet", table]), filter: nft(["list", "table", "inet", "filter"]), ruleset: nft(["list", "ruleset"]) });
}

const refused = [];
for (const r of refusals) {
  const base = cases.find((c) => c.name === r.before);
  if (base === undefined) throw new Error(`${r.name}: no case ${r.before}`);
  await load(base);
  const before = nft(["list", "ruleset"]);
  const batch = encodeReplace(r.ir, table);
  let error: { name: string; message: string; errno?: number; messageIndex?: number; unknownOutcome?: boolean } | null = null;
  try {
    if (batch === null) throw new Error("encodeReplace gave null");
    await sender.send(batch);
  } catch (err) {
    error = err instanceof ReplaceError ? { name: err.name, message: err.message, errno: err.errno, messageIndex: err.messageIndex, unknownOutcome: err.unknownOutcome } : { name: "Error", message: String(err) };
  }
  refused.push({ name: r.name, error, same: nft(["list", "ruleset"]) === before });
}

sender.close();
process.stdout.write(JSON.stringify({ loaded: true, results, refused }));
