// Run by elements.integration.test.ts as `ip netns exec NS node --import tsx elements.child.ts NS`
// with a ChildInput on stdin: loads the nft script, sends the traffic (loopback, from and to
// the given addresses), dumps the sets with the element counter dumper and lists them with
// nft, then reads the big set while another process commits; prints what it saw as JSON on
// stdout. It refuses to run anywhere but in the network namespace named NS: it loads rulesets
// and adds addresses.
import { execFileSync, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import type { CounterValue } from "@switchyard/core";
import * as C from "./constants.ts";
import { openElementCounterDumper } from "./elements.ts";

const ns = process.argv[2] ?? "";
const here = execFileSync("ip", ["netns", "identify", String(process.pid)], { encoding: "utf8" }).trim();
if (ns === "" || here !== ns) {
  process.stderr.write(`elements.child.ts: not in network namespace ${JSON.stringify(ns)} (in ${JSON.stringify(here)}); refusing to touch the ruleset\n`);
  process.exit(2);
}

export interface Send {
  proto: "udp" | "tcp";
  from: string;
  to: string;
  port: number;
  /** UDP: datagrams of the payload "hi\n". TCP: connection attempts to a closed port (one SYN each, answered by a RST). */
  count: number;
}
export interface ChildInput {
  table: string;
  /** Addresses the namespace's lo gets besides 127.0.0.1 and ::1. */
  addresses: string[];
  script: string;
  traffic: Send[];
  /** Sets read with one `read`; the others are read one by one (timed: the 40,000-element one). */
  sets: string[];
  big: string;
  /** Elements each commit of the churn adds or deletes in the big set. */
  churn: number;
}
export interface ChildReport {
  loaded: boolean;
  dumps: Record<string, [string, number, number][]>;
  listings: Record<string, string>;
  big: [string, number, number][];
  bigMs: number[];
  /** Reads of the big set while another process adds and deletes one of its elements: each one's size, or the error it threw. */
  churned: (number | string)[];
  missing: { set: Record<string, number>; table: Record<string, number> };
  refused: string;
}

const input = JSON.parse(readFileSync(0, "utf8")) as ChildInput;
const run = (cmd: string, args: string[], stdin?: string) => execFileSync(cmd, args, { encoding: "utf8", ...(stdin === undefined ? {} : { input: stdin }) });

run("ip", ["link", "set", "lo", "up"]);
for (const address of input.addresses) {
  run("ip", [...(address.includes(":") ? ["-6"] : []), "addr", "add", `${address}/${address.includes(":") ? 128 : 8}`, "dev", "lo", ...(address.includes(":") ? ["nodad"] : [])]);
}
run("nft", ["-f", "-"], input.script);

const sendUdp = (s: Send) =>
  new Promise<void>((resolve, reject) => {
    const socket = createSocket(s.to.includes(":") ? "udp6" : "udp4");
    socket.on("error", reject);
    socket.bind({ address: s.from, port: 0 }, async () => {
      for (let i = 0; i < s.count; i++) {
        await new Promise<void>((sent, failed) => socket.send("hi\n", s.port, s.to, (err) => (err ? failed(err) : sent())));
      }
      socket.close(() => resolve());
    });
  });
/** One SYN out, one RST back (nothing listens): exactly one packet towards the port per attempt. */
const refusedConnect = (s: Send) =>
  new Promise<void>((resolve, reject) => {
    const socket = connect({ host: s.to, port: s.port, localAddress: s.from });
    socket.on("connect", () => reject(new Error(`${s.to} port ${s.port} accepted a connection`)));
    socket.on("error", (err: NodeJS.ErrnoException) => (err.code === "ECONNREFUSED" ? resolve() : reject(err)));
  });
for (const s of input.traffic) {
  if (s.proto === "udp") await sendUdp(s);
  else for (let i = 0; i < s.count; i++) await refusedConnect(s);
}

const dumper = openElementCounterDumper();
if (dumper === null) {
  process.stdout.write(JSON.stringify({ loaded: false }));
  process.exit(0);
}
const entries = (m: Map<string, CounterValue> | undefined): [string, number, number][] => [...(m ?? new Map<string, CounterValue>())].map(([k, v]) => [k, v.packets, v.bytes]);

const read = dumper.read(input.table, input.sets);
const dumps = Object.fromEntries(input.sets.map((set) => [set, entries(read.get(set))]));
const listings = Object.fromEntries(input.sets.map((set) => [set, run("nft", ["list", "set", "inet", input.table, set])]));

const bigMs: number[] = [];
let big: [string, number, number][] = [];
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  const m = dumper.read(input.table, [input.big]).get(input.big);
  bigMs.push(performance.now() - t);
  big = entries(m);
}

// A hash set's dump that a commit lands in can miss elements, unflagged: each read must
// come back complete (40,000, or 40,000 + input.churn with the churned elements) or throw. Commits
// of many elements make a miss likely when the read does not check (one element: rarely).
const churnElements = Array.from({ length: input.churn }, (_, i) => `10.200.${i >> 8}.${i & 255} . tcp . 80 . 10.9.0.1 . 8080`).join(", ");
const churn = spawn(
  "bash",
  ["-c", `while :; do nft add element inet ${input.table} ${input.big} '{ ${churnElements} }'; nft delete element inet ${input.table} ${input.big} '{ ${churnElements} }'; sleep 0.02; done`],
  { stdio: "ignore" },
);
const churned: (number | string)[] = [];
for (const stop = Date.now() + 3000; Date.now() < stop; ) {
  try {
    churned.push(dumper.read(input.table, [input.big]).get(input.big)?.size ?? -1);
  } catch (err) {
    churned.push(String(err));
  }
  await new Promise((resolve) => setTimeout(resolve, 5));
}
churn.kill();
await new Promise((resolve) => churn.once("exit", resolve));

const sizes = (m: Map<string, Map<string, CounterValue>>) => Object.fromEntries([...m].map(([set, elements]) => [set, elements.size]));
const missing = {
  set: sizes(dumper.read(input.table, ["no-such-set", input.sets[0] ?? ""])),
  table: sizes(dumper.read("no-such-table", input.sets.slice(0, 2))),
};
let refused = "";
try {
  // Longer than NFT_NAME_MAXLEN: the kernel's attribute policy refuses it (ERANGE).
  dumper.read(input.table, ["x".repeat(300)], C.NFPROTO_INET);
} catch (err) {
  refused = String(err);
}
dumper.close();

const report: ChildReport = { loaded: true, dumps, listings, big, bigMs, churned, missing, refused };
process.stdout.write(JSON.stringify(report));
