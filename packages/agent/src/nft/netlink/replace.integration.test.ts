import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { buildRuleset, parseConfig, renderReplaceScript, type IrRuleset } from "@switchyard/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planServices } from "../../../../../bench/dataplane/plan.ts";
import { switchyardConfig } from "../../../../../bench/dataplane/switchyard.ts";
import { batchDifferences, nftBatch, parseMnlDebug, splitMessages } from "./mnl-debug.ts";
import type { ChildCase, ChildRefusal } from "./replace.child.ts";
import { everySchedulerFarms, farm, v4, v6 } from "../../testing/farm-shapes.ts";

// The full replace's batch against nft, differentially: every case is loaded in one scratch
// namespace through encodeReplace + the sender (replace.child.ts), and in another through
// `nft --debug=mnl -f renderReplaceScript(...)`. The tables must list the same, and the
// batch must be the one nft sent, byte for byte (sequence numbers and flags aside). Both
// namespaces start every case from the same rules: a foreign `table inet filter` that must
// stay as it is, and for some cases a table of ours already there with other content.

const TABLE = "switchyard";
const CHILD = fileURLToPath(new URL("./replace.child.ts", import.meta.url));
const REPO = fileURLToPath(new URL("../../../../../", import.meta.url));

/** Every scheduler, both NAT modes, IPv4, IPv6 and dual, one backend, none up (off backends: in PORTS). */
const SCHEDULERS = { farms: everySchedulerFarms() };

/** Ports: several, ranges, every port, every protocol; backends with and without a port, down and off, by priority. */
const PORTS = {
  farms: [
    farm("many4", "198.18.3.1", { "virtual-ports": "80,443,8000-8100" }, [v4(1), v4(2, ""), v4(3, 9000, { state: "off" })]),
    farm("range4", "198.18.3.2", { protocol: "udp", mode: "dnat", "virtual-ports": "1000-2000", scheduler: "weight" }, [v4(1, "", { weight: 5 }), v4(2, "")]),
    farm("every4", "198.18.3.3", { "virtual-ports": "" }, [v4(1), v4(2, "")]),
    farm("every4sctp", "198.18.3.4", { "virtual-ports": "", protocol: "sctp", scheduler: "symhash" }, [v4(1, 3868)]),
    farm("all4", "198.18.3.5", { protocol: "all", "virtual-ports": "", scheduler: "hash", "sched-param": "srcip dstip" }, [v4(1, ""), v4(2, ""), v4(3, "")]),
    farm("many6", "2001:db8:3::1", { "virtual-ports": "80,443,8000-8100", mode: "dnat", scheduler: "hash" }, [v6(1, 443), v6(2, "")]),
    farm("every6", "2001:db8:3::2", { "virtual-ports": "", protocol: "udp" }, [v6(1, ""), v6(2, 53, { state: "down" })]),
    farm("all6", "2001:db8:3::3", { protocol: "all", "virtual-ports": "" }, [v6(1, "")]),
    farm("dualports", "198.18.3.6", { family: "dual", "virtual-addr6": "2001:db8:3::4", "virtual-ports": "53,5353-5360", protocol: "udp" }, [v4(4, 53), v6(4, 53)]),
    farm("prio", "198.18.3.7", { scheduler: "weight" }, [v4(1, 8080, { priority: 2 }), v4(2, 8080, { priority: 1 }), v4(3, 8080, { priority: 1, weight: 4 })]),
    farm("nobody", "198.18.3.8", {}, [v4(1, 8080, { state: "down" })]),
  ],
};

const FOREIGN = `table inet filter {
\tchain input {
\t\ttype filter hook input priority 0; policy accept;
\t\ttcp dport 22 counter accept
\t}
}
`;
/** A table of ours from before, with what the new IR does not have (a set, a chain, a counter) and a netdev table. */
const STALE = `table inet ${TABLE} {
\tcounter c/gone/b1 {
\t\tpackets 3 bytes 300
\t}
\tset stale {
\t\ttype ipv4_addr
\t\telements = { 10.0.0.1 }
\t}
\tchain extra {
\t\ttype filter hook output priority 0; policy accept;
\t\tip daddr @stale counter drop
\t}
}
table netdev ${TABLE} {
}
`;

const ir = (config: unknown) => buildRuleset(parseConfig(config), { table: TABLE });
const irSchedulers = ir(SCHEDULERS);
const irPorts = ir(PORTS);
const irEmpty = ir({ farms: [] });
/** 600 farms of bench/apply's config: set element lists past 64 KiB, split over several messages. */
const irBench = ir(switchyardConfig(planServices(600, ["198.18.2.11", "198.18.2.12", "198.18.2.13", "198.18.2.14"]), "weight"));

/** Counts for some named counters and traffic elements (one not a value nft takes: starts from zero). */
const COUNTERS = {
  "c/many4/b1": { packets: 10, bytes: 1000 },
  "c/all6/b1-v6": { packets: 2 ** 40, bytes: 2 ** 50 },
  "t/many4/b1": { packets: 7, bytes: 900 },
  "t/every6/b1-v6": { packets: 1, bytes: 60 },
  "t/all4/b2": { packets: -1, bytes: 5 },
};

const CASES: ChildCase[] = [
  { name: "schedulers", ir: irSchedulers, setup: FOREIGN },
  { name: "ports", ir: irPorts, setup: FOREIGN },
  { name: "ports, seeded counters", ir: irPorts, counters: COUNTERS, setup: FOREIGN },
  { name: "schedulers over a table of ours with other content", ir: irSchedulers, setup: FOREIGN + STALE },
  { name: "no farms", ir: irEmpty, setup: FOREIGN + STALE },
  { name: "600 farms", ir: irBench, setup: FOREIGN },
];

/** The IR with one rule of one farm chain replaced. */
function withRule(base: IrRuleset, chainPrefix: string, index: number, rule: string): IrRuleset {
  let done = false;
  const tables = base.tables.map((t) => ({
    ...t,
    chains: t.chains.map((c) => {
      if (done || !c.name.startsWith(chainPrefix)) return c;
      done = true;
      return { ...c, rules: c.rules.map((r, i) => (i === index ? rule : r)) };
    }),
  }));
  return { tables };
}

const REFUSALS: ChildRefusal[] = [
  // A jump to a chain that does not exist: the kernel refuses the rule (ENOENT), late in the batch.
  { name: "jump to a missing chain", before: "schedulers", ir: withRule(irPorts, "farm-", 0, "jump sched-no-such-chain") },
  // A numgen whose offset + modulus passes 32 bits: refused by the expression's init (EOVERFLOW).
  { name: "numgen past 32 bits", before: "ports", ir: withRule(irSchedulers, "sched-", 0, "ct mark set numgen inc mod 4294967295 offset 0x80000000") },
];

interface CaseResult {
  name: string;
  batch: string;
  ms: number;
  /** How often a 1 ms interval fired while the batch was sent and committed. */
  loopTicks: number;
  json: string;
  text: string;
  filter: string;
  ruleset: string;
}
interface ChildReport {
  loaded: boolean;
  results: CaseResult[];
  refused: { name: string; error: { name: string; message: string; errno?: number; messageIndex?: number; unknownOutcome?: boolean } | null; same: boolean }[];
}
interface NftResult {
  mnl: string;
  json: string;
  text: string;
  filter: string;
}

const nsA = `sy-rpa-${randomBytes(4).toString("hex")}`;
const nsB = `sy-rpb-${randomBytes(4).toString("hex")}`;
let report: ChildReport;
const viaNft = new Map<string, NftResult>();

const inB = (args: string[], input?: string) => execFileSync("ip", ["netns", "exec", nsB, "nft", ...args], { encoding: "utf8", maxBuffer: 1 << 30, ...(input === undefined ? {} : { input }) });

const deleteNamespaces = () => {
  for (const ns of [nsA, nsB]) {
    try {
      execFileSync("ip", ["netns", "delete", ns], { stdio: "ignore" });
    } catch {
      // not there (never made, or already gone)
    }
  }
};

beforeAll(() => {
  execFileSync("ip", ["netns", "add", nsA]);
  execFileSync("ip", ["netns", "add", nsB]);
  try {
    for (const c of CASES) {
      inB(["flush", "ruleset"]);
      inB(["-f", "-"], c.setup);
      const counters = c.counters === undefined ? undefined : new Map(Object.entries(c.counters));
      const mnl = inB(["--debug=mnl", "-f", "-"], renderReplaceScript(c.ir, TABLE, counters));
      viaNft.set(c.name, { mnl, json: inB(["-j", "list", "table", "inet", TABLE]), text: inB(["list", "table", "inet", TABLE]), filter: inB(["list", "table", "inet", "filter"]) });
    }
    const out = execFileSync("ip", ["netns", "exec", nsA, process.execPath, "--import", "tsx", CHILD, nsA], {
      cwd: REPO,
      input: JSON.stringify({ table: TABLE, cases: CASES, refusals: REFUSALS }),
      encoding: "utf8",
      maxBuffer: 1 << 30,
    });
    report = JSON.parse(out) as ChildReport;
  } finally {
    // The namespaces go with their rulesets whatever happened in them.
    deleteNamespaces();
  }
}, 120_000);

afterAll(deleteNamespaces);

/**
 * `nft -j list table` with each set's elements sorted. A hash set lists its elements in the
 * order of its hash table, whose seed is random per set: the same elements list in another
 * order in another namespace (or another load). Everything else is compared as listed.
 */
function normalized(json: string): unknown {
  const doc = JSON.parse(json) as { nftables: Record<string, { elem?: unknown[] }>[] };
  return doc.nftables.map((item) => {
    for (const kind of ["set", "map"]) {
      const s = item[kind];
      if (s?.elem !== undefined) s.elem = [...s.elem].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    }
    return item;
  });
}

describe("full replace as one netlink batch, against nft -f (in scratch network namespaces)", () => {
  it("loads koffi and libmnl in the namespace", () => {
    expect(report.loaded).toBe(true);
    expect(report.results.map((r) => r.name)).toEqual(CASES.map((c) => c.name));
  });

  it("sends and commits off the event loop: timers fire while the kernel commits 600 farms", () => {
    const ours = report.results.find((r) => r.name === "600 farms") as CaseResult;
    expect(ours.loopTicks, `${ours.ms.toFixed(1)} ms in the send`).toBeGreaterThan(0);
  });

  it.each(CASES.map((c) => c.name))("%s: the batch is nft's, byte for byte", (name) => {
    const ours = report.results.find((r) => r.name === name) as CaseResult;
    const theirs = nftBatch(parseMnlDebug((viaNft.get(name) as NftResult).mnl)).map((m) => m.bytes);
    expect(batchDifferences(splitMessages(Buffer.from(ours.batch, "hex")), theirs)).toEqual([]);
  });

  it.each(CASES.map((c) => c.name))("%s: the table lists as nft's (set elements sorted), the foreign table untouched", (name) => {
    const ours = report.results.find((r) => r.name === name) as CaseResult;
    const theirs = viaNft.get(name) as NftResult;
    expect(normalized(ours.json)).toEqual(normalized(theirs.json));
    expect(ours.filter).toBe(theirs.filter);
    expect(ours.filter).toContain("tcp dport 22 counter packets 0 bytes 0 accept");
    // The replace deletes every owned table first: nothing of the stale one is left.
    expect(ours.ruleset).not.toContain("stale");
    expect(ours.ruleset).not.toContain("table netdev");
  });

  it("seeds named counters and the first traffic element of each backend", () => {
    const ours = report.results.find((r) => r.name === "ports, seeded counters") as CaseResult;
    expect(ours.text).toMatch(/counter c\/many4\/b1 \{\n\s+packets 10 bytes 1000\n/);
    expect(ours.text).toMatch(/counter c\/all6\/b1-v6 \{\n\s+packets 1099511627776 bytes 1125899906842624\n/);
    expect(ours.text).toContain("counter packets 7 bytes 900");
    expect(ours.text).toContain("counter packets 1 bytes 60");
  });

  it("a batch the kernel refuses changes nothing and says which message it was", () => {
    const [missing, overflow] = report.refused;
    expect(missing?.error?.name).toBe("ReplaceError");
    expect(missing?.error?.errno).toBe(2); // ENOENT
    expect(missing?.error?.message).toMatch(/add rule \(rule 1 of chain farm-\S+\)/);
    expect(missing?.error?.unknownOutcome).toBe(false);
    expect(missing?.same).toBe(true);
    expect(overflow?.error?.errno).toBe(75); // EOVERFLOW
    expect(overflow?.error?.message).toMatch(/add rule \(rule 1 of chain sched-\S+\)/);
    expect(overflow?.same).toBe(true);
  });
});
