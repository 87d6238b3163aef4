import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Config } from "../model/farm.ts";
import { parseConfig } from "../nftlb/codec.ts";
import { buildRuleset } from "./build.ts";
import { planDelta, renderOps, type NftOp } from "./delta.ts";
import { configPairs, fakeApply, FakeNftError, TEST_FACTS } from "./fake-nft.ts";
import { checkIr } from "./guard.ts";
import type { IrChain, IrMap, IrRuleset, IrTable } from "./ir.ts";
import { renderReplaceScript } from "./render.ts";

// The delta planner on the real kernel. Two network namespaces made here (and deleted in
// afterAll), each with the veth pair eth-in/eth-out that dsr farms name:
//  - "delta" gets full A, then the delta A -> B as one `nft -f -` transaction;
//  - "ref" gets full B where the agent's tables were deleted first (nothing else is in that
//    namespace, so its nft state is that of a fresh one; cheaper than a namespace per pair).
// Their tables must then list the same. nft lists chains, maps and elements in the order
// they were created, which differs between the two paths, so the listings are compared as
// sorted blocks (one per map or chain) with each map's elements sorted; the rules of a chain
// are compared in order. A foreign table in "delta" must come through every apply untouched.

const SUFFIX = randomBytes(3).toString("hex");
const NS = { delta: `sy-delta-${SUFFIX}`, ref: `sy-delta-${SUFFIX}-ref` } as const;
const T = "switchyard";

const FOREIGN = `table inet filter {
	set blocklist {
		type ipv4_addr
		elements = { 198.18.9.9 }
	}

	chain input {
		type filter hook input priority filter; policy accept;
		ip saddr @blocklist drop
	}
}
`;

interface Run {
  ok: boolean;
  stdout: string;
  stderr: string;
}

function run(ns: string, args: string[], input?: string): Run {
  // A listing of 1,000 farms (two chains each, traffic elements and counters) passes spawnSync's 1 MB default.
  const result = spawnSync("ip", ["netns", "exec", ns, ...args], { input: input ?? "", encoding: "utf8", timeout: 30_000, maxBuffer: 64 << 20 });
  if (result.error) throw new Error(`cannot run ip netns exec ${ns} ${args.join(" ")}: ${result.error.message}`);
  return { ok: result.status === 0, stdout: result.stdout, stderr: result.stderr };
}

function sh(args: string[]): void {
  const result = spawnSync(args[0] as string, args.slice(1), { encoding: "utf8", timeout: 30_000 });
  if (result.error || result.status !== 0) throw new Error(`${args.join(" ")} failed: ${result.error?.message ?? result.stderr}`);
}

const numbered = (script: string) =>
  script
    .split("\n")
    .map((line, i) => `${String(i + 1).padStart(4)}  ${line.length > 200 ? `${line.slice(0, 200)}...` : line}`)
    .join("\n");

/** One `nft -f -` transaction from stdin (no shell); throws with nft's message and the numbered script. */
function nftApply(ns: string, script: string): void {
  const r = run(ns, ["nft", "-f", "-"], script);
  if (!r.ok) throw new Error(`nft -f - refused the script in ${ns}:\n${r.stderr}\n--- script ---\n${numbered(script)}`);
}

/** Sorts the blocks of `nft list table` output and the elements inside each map; rules keep their order. */
function normalizeListing(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (!/^table \S+ \S+ \{$/.test(line)) throw new Error(`unexpected line in nft's listing: ${line}`);
    out.push(line);
    i++;
    const blocks: string[] = [];
    while (i < lines.length && lines[i] !== "}") {
      const header = lines[i] as string;
      const body: string[] = [];
      let depth = 1;
      i++;
      while (i < lines.length && depth > 0) {
        const l = lines[i] as string;
        depth += (l.match(/\{/g) ?? []).length - (l.match(/\}/g) ?? []).length;
        if (depth > 0) body.push(l);
        i++;
      }
      if (header.startsWith("map ") || header.startsWith("set ")) {
        const joined = body.join(" ");
        const at = joined.indexOf("elements = {");
        const head = at < 0 ? joined : joined.slice(0, at).trim();
        const elements =
          at < 0
            ? []
            : joined
                .slice(at + "elements = {".length, joined.lastIndexOf("}"))
                .split(",")
                .map((e) => e.trim())
                .filter((e) => e !== "")
                .sort();
        blocks.push([header, head, ...elements.map((e) => `  ${e}`)].join("\n"));
      } else blocks.push([header, ...body].join("\n"));
    }
    i++; // the table's closing brace
    out.push(...blocks.sort());
  }
  return out.join("\n");
}

function listTable(ns: string, family: string, name = T): string {
  const r = run(ns, ["nft", "list", "table", family, name]);
  if (!r.ok) {
    if (/No such file or directory/.test(r.stderr)) return "";
    throw new Error(`nft list table ${family} ${name} failed in ${ns}: ${r.stderr}`);
  }
  return r.stdout;
}

/** What the agent's tables hold, normalized (see the top of the file). */
const ours = (ns: string) => `${normalizeListing(listTable(ns, "inet"))}\n--- netdev ---\n${normalizeListing(listTable(ns, "netdev"))}`;

const irOf = (config: Config): IrRuleset => {
  const ir = buildRuleset(config, { table: T, facts: TEST_FACTS });
  checkIr(ir, T);
  return ir;
};

let transactions = 0;

/** Empties "ref" of the agent's tables and applies full `ir` there, as on a fresh host. */
function applyFresh(ir: IrRuleset): void {
  run(NS.ref, ["nft", "delete", "table", "inet", T]);
  run(NS.ref, ["nft", "delete", "table", "netdev", T]);
  expect(ours(NS.ref)).toBe("\n--- netdev ---\n");
  nftApply(NS.ref, renderReplaceScript(ir, T));
}

/** Full A in "delta"; full B in an empty "ref"; the delta A -> B in "delta"; then both must list the same. */
function proveIrPair(A: IrRuleset, B: IrRuleset): void {
  checkIr(A, T);
  checkIr(B, T);
  nftApply(NS.delta, renderReplaceScript(A, T));
  applyFresh(B);
  const plan = planDelta(A, B, T);
  if (plan.length > 0) {
    nftApply(NS.delta, renderOps(plan));
    transactions++;
  }
  expect(ours(NS.delta)).toBe(ours(NS.ref));
  expect(listTable(NS.delta, "inet", "filter")).toBe(FOREIGN);
}

const provePair = (a: Config, b: Config) => proveIrPair(irOf(a), irOf(b));

beforeAll(() => {
  const probe = spawnSync("nft", ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) throw new Error(`this test needs nft (nftables): ${probe.error?.message ?? probe.stderr}`);
  for (const ns of Object.values(NS)) {
    sh(["ip", "netns", "add", ns]);
    sh(["ip", "-n", ns, "link", "add", "eth-in", "type", "veth", "peer", "name", "eth-out"]);
  }
  nftApply(NS.delta, FOREIGN);
});

afterAll(() => {
  for (const ns of Object.values(NS)) spawnSync("ip", ["netns", "del", ns], { timeout: 30_000 });
});

// --- hand-written changes ---------------------------------------------------------------------

type Raw = Record<string, unknown>;
const bk = (name: string, ip: string, extra: Raw = {}): Raw => ({ name, "ip-addr": ip, ...extra });
const web = (extra: Raw = {}): Raw => ({
  name: "web",
  "virtual-addr": "198.18.1.100",
  "virtual-ports": "80",
  scheduler: "weight",
  backends: [bk("a", "198.18.2.11", { port: 8080, weight: 2 }), bk("b", "198.18.2.12", { port: 8080 })],
  ...extra,
});
const dns = (extra: Raw = {}): Raw => ({
  name: "dns",
  family: "dual",
  "virtual-addr": "198.18.1.53",
  "virtual-addr6": "2001:db8:1::53",
  "virtual-ports": "53",
  protocol: "udp",
  scheduler: "hash",
  backends: [bk("a", "198.18.2.21"), bk("b", "2001:db8:2::22"), bk("c", "198.18.2.23")],
  ...extra,
});
const fast = (extra: Raw = {}): Raw => ({
  name: "fast",
  "virtual-addr": "198.18.1.101",
  "virtual-ports": "443,8000-8100",
  mode: "dsr",
  iface: "eth-in",
  oface: "eth-out",
  backends: [bk("a", "198.18.2.31", { "ether-addr": "02:00:00:00:00:31" }), bk("b", "198.18.2.32", { "ether-addr": "02:00:00:00:00:32", weight: 3 })],
  ...extra,
});
const config = (...farms: Raw[]) => parseConfig({ farms });
const START = config(web(), dns(), fast());

const handWritten: [string, Config, Config][] = [
  ["add a farm", START, config(web(), dns(), fast(), web({ name: "api", "virtual-addr": "198.18.1.102", "virtual-ports": "8443" }))],
  ["remove a farm", START, config(web(), fast())],
  ["change weights", START, config(web({ backends: [bk("a", "198.18.2.11", { port: 8080, weight: 9 }), bk("b", "198.18.2.12", { port: 8080, weight: 4 })] }), dns(), fast())],
  ["a backend down", START, config(web({ backends: [bk("a", "198.18.2.11", { port: 8080 }), bk("b", "198.18.2.12", { port: 8080, state: "down" })] }), dns(), fast())],
  ["ports from one to a range", START, config(web({ "virtual-ports": "80-90" }), dns(), fast())],
  ["a range that overlaps the old one", START, config(web(), dns(), fast({ "virtual-ports": "443,8050-8200" }))],
  ["a farm from snat to dsr", START, config(web({ mode: "dsr", iface: "eth-in", backends: [bk("a", "198.18.2.11", { "ether-addr": "02:00:00:00:00:11" })] }), dns(), fast())],
  ["a farm from dsr back to snat", config(web({ mode: "dsr", iface: "eth-in", backends: [bk("a", "198.18.2.11", { "ether-addr": "02:00:00:00:00:11" })] }), dns(), fast()), START],
  ["remove every dsr farm", START, config(web(), dns())],
  ["the first dsr farm", config(web(), dns()), START],
  ["a service passes to another farm on the same address", START, config(web({ name: "www" }), dns(), fast())],
  ["a farm down", START, config(web({ state: "down" }), dns(), fast())],
  ["every farm removed", START, config()],
  ["from nothing", config(), START],
  ["no change", START, START],
];

describe("the delta on the real kernel", () => {
  for (const [what, a, b] of handWritten) {
    it(what, () => provePair(a, b));
  }

  it("30 random pairs of valid configs (fast-check)", () => {
    fc.assert(
      fc.property(configPairs, ({ a, b }) => provePair(a, b)),
      { numRuns: 30 },
    );
  });

  it("the full replace from an unknown state (planDelta(null, B)) lists like renderReplaceScript", () => {
    for (const [, a, b] of handWritten.slice(0, 4)) {
      nftApply(NS.delta, renderReplaceScript(irOf(a), T));
      nftApply(NS.delta, renderOps(planDelta(null, irOf(b), T)));
      applyFresh(irOf(b));
      expect(ours(NS.delta)).toBe(ours(NS.ref));
    }
  });

  it("changes the renderer does not make today: a base chain's priority, a map's type, a regular chain made a base chain", () => {
    const A = irOf(START);
    const inet = (ir: IrRuleset) => ir.tables.find((t) => t.family === "inet") as IrTable;
    const netdev = (ir: IrRuleset) => ir.tables.find((t) => t.family === "netdev") as IrTable;

    const priority = structuredClone(A);
    (inet(priority).chains.find((c) => c.name === "prerouting")?.hook as { priority: number }).priority = -150;
    (netdev(priority).chains.find((c) => c.name === "ingress-eth-in")?.hook as { priority: number }).priority = -500;
    proveIrPair(A, priority);

    const mapType = structuredClone(A);
    const addr = inet(mapType).maps.find((m) => m.name === "svc4-addr") as IrMap;
    addr.key = "ipv4_addr . ipv4_addr";
    addr.interval = true;
    addr.elements = [["198.18.3.0-198.18.3.255 . 198.18.1.100", "goto farm-web-4"]];
    const pre = inet(mapType).chains.find((c) => c.name === "prerouting") as IrChain;
    pre.rules = pre.rules.map((r) => (r.endsWith("ip daddr vmap @svc4-addr") ? "ip saddr . ip daddr vmap @svc4-addr" : r));
    (inet(mapType).maps.find((m) => m.name === "svc4-proto") as IrMap).interval = true;
    proveIrPair(A, mapType);
    proveIrPair(mapType, A);

    const rebased = structuredClone(A);
    const web4 = inet(rebased).chains.find((c) => c.name === "farm-web-4") as IrChain;
    web4.hook = { type: "nat", hook: "postrouting", priority: 110 };
    web4.rules = ["ct mark 0x1 masquerade"];
    for (const m of inet(rebased).maps) m.elements = m.elements.filter(([, v]) => v !== "goto farm-web-4");
    proveIrPair(A, rebased);
    proveIrPair(rebased, A);
  });

  it("1,000 farms: all at once (elements in several lines), then one backend's weight, then all gone", () => {
    const farms = (weightOf: (i: number) => number) =>
      config(
        ...Array.from({ length: 1000 }, (_, i) => ({
          name: `f${i}`,
          "virtual-addr": `198.18.${4 + Math.floor(i / 250)}.${(i % 250) + 1}`,
          "virtual-ports": "80,443,8080",
          scheduler: "weight",
          backends: [bk("a", "198.18.2.1", { port: 8080, weight: weightOf(i) }), bk("b", "198.18.2.2", { port: 8080 })],
        })),
      );
    const big = farms(() => 3);
    const lines = renderOps(planDelta(irOf(config()), irOf(big), T)).split("\n");
    expect(lines.filter((l) => l.startsWith("add element inet switchyard svc4-ports ")).length).toBeGreaterThan(1);
    provePair(config(), big);
    const oneChange = farms((i) => (i === 617 ? 8 : 3));
    expect(planDelta(irOf(big), irOf(oneChange), T)).toHaveLength(4);
    provePair(big, oneChange);
    provePair(oneChange, config());
  });

  it("left the foreign table exactly as it was, through every apply", () => {
    expect(transactions).toBeGreaterThan(30);
    expect(listTable(NS.delta, "inet", "filter")).toBe(FOREIGN);
  });
});

describe("a failing delta changes nothing (one nft transaction)", () => {
  const A = irOf(START);
  const B = irOf(config(web({ "virtual-ports": "80-90" }), fast()));
  const whole = () => run(NS.delta, ["nft", "list", "ruleset"]).stdout;

  const failures: [string, NftOp, RegExp][] = [
    // Refused by the kernel after every other command of the batch was sent.
    ["a jump to a base chain", { op: "add rule", family: "inet", table: T, chain: "farm-web-4", rule: "jump prerouting" }, /Operation not supported/],
    ["deleting an element that is not there", { op: "delete element", family: "inet", table: T, map: "svc4-ports", keys: ["tcp . 198.18.1.1 . 1"] }, /No such file or directory/],
    // Refused by nft itself before anything is sent.
    ["a statement nft cannot parse", { op: "add rule", family: "inet", table: T, chain: "farm-web-4", rule: "ct mark set numgen sometimes mod 2" }, /syntax error/],
  ];

  for (const [what, bad, message] of failures) {
    it(`${what}: the ruleset is byte for byte what it was, and the good delta still applies`, () => {
      nftApply(NS.delta, renderReplaceScript(A, T));
      const before = whole();
      const plan = planDelta(A, B, T);
      expect(plan.length).toBeGreaterThan(3);
      const script = renderOps([...plan, bad]);
      const r = run(NS.delta, ["nft", "-f", "-"], script);
      expect(r.ok).toBe(false);
      expect(r.stderr).toMatch(message);
      expect(whole()).toBe(before);

      nftApply(NS.delta, renderOps(plan));
      applyFresh(B);
      expect(ours(NS.delta)).toBe(ours(NS.ref));
    });
  }

  it("a delta planned from the wrong starting point is refused whole, too", () => {
    // The agent believes the kernel holds B, but it holds A: the delta B -> A deletes
    // elements that are not there, and nft refuses all of it.
    nftApply(NS.delta, renderReplaceScript(A, T));
    const before = whole();
    const r = run(NS.delta, ["nft", "-f", "-"], renderOps(planDelta(B, irOf(config(web(), dns())), T)));
    expect(r.ok).toBe(false);
    expect(whole()).toBe(before);
  });
});

describe("the fake (fake-nft.ts) refuses exactly what the kernel refuses", () => {
  const at = { family: "inet", table: T } as const;
  const BASE: IrRuleset = {
    tables: [
      {
        family: "inet",
        name: T,
        maps: [
          { name: "ports", key: "inet_proto . ipv4_addr . inet_service", interval: false, elements: [["tcp . 198.18.1.1 . 80", "goto farm"]] },
          { name: "ranges", key: "inet_proto . ipv4_addr . inet_service", interval: true, elements: [["tcp . 198.18.1.1 . 8000-8100", "goto farm"]] },
        ],
        chains: [
          { name: "pre", hook: { type: "nat", hook: "prerouting", priority: -100 }, rules: ["meta l4proto . ip daddr . th dport vmap @ports"] },
          { name: "farm", rules: ["ct mark set 0x1 dnat ip to 198.18.2.1"] },
          { name: "hop", rules: ["jump farm"] },
        ],
      },
    ],
  };
  const cases: [string, "refused" | "accepted", NftOp[]][] = [
    ["delete a chain a rule jumps to", "refused", [{ op: "delete chain", ...at, chain: "farm" }]],
    ["delete a chain an element jumps to", "refused", [{ op: "flush chain", ...at, chain: "hop" }, { op: "delete chain", ...at, chain: "farm" }]],
    ["delete a map a rule uses", "refused", [{ op: "delete map", ...at, map: "ports" }]],
    ["delete a missing chain", "refused", [{ op: "delete chain", ...at, chain: "nope" }]],
    ["flush a missing chain", "refused", [{ op: "flush chain", ...at, chain: "nope" }]],
    ["a rule that jumps to a base chain", "refused", [{ op: "add rule", ...at, chain: "hop", rule: "goto pre" }]],
    ["a rule that jumps to a missing chain", "refused", [{ op: "add rule", ...at, chain: "hop", rule: "jump nope" }]],
    ["a rule that uses a missing map", "refused", [{ op: "add rule", ...at, chain: "hop", rule: "ip daddr vmap @nope" }]],
    ["an element that jumps to a base chain", "refused", [{ op: "add element", ...at, map: "ports", elements: [["tcp . 198.18.1.2 . 80", "goto pre"]] }]],
    ["an existing key with another value", "refused", [{ op: "add element", ...at, map: "ports", elements: [["tcp . 198.18.1.1 . 80", "drop"]] }]],
    ["an overlapping interval", "refused", [{ op: "add element", ...at, map: "ranges", elements: [["tcp . 198.18.1.1 . 8050-8200", "drop"]] }]],
    ["a range in a map without the interval flag", "refused", [{ op: "add element", ...at, map: "ports", elements: [["tcp . 198.18.1.1 . 90-95", "drop"]] }]],
    ["delete a missing element", "refused", [{ op: "delete element", ...at, map: "ports", keys: ["tcp . 198.18.1.1 . 81"] }]],
    ["delete an element twice", "refused", [{ op: "delete element", ...at, map: "ports", keys: ["tcp . 198.18.1.1 . 80"] }, { op: "delete element", ...at, map: "ports", keys: ["tcp . 198.18.1.1 . 80"] }]],
    ["re-add a chain with another priority", "refused", [{ op: "add chain", ...at, chain: "pre", hook: { type: "nat", hook: "prerouting", priority: -90 } }]],
    ["make a regular chain a base chain with add", "refused", [{ op: "add chain", ...at, chain: "farm", hook: { type: "nat", hook: "postrouting", priority: 100 } }]],
    ["re-add a map with another type", "refused", [{ op: "add map", ...at, map: "ports", key: "ipv4_addr", interval: false }]],
    ["a chain in a missing table", "refused", [{ op: "add chain", family: "netdev", table: T, chain: "c" }]],
    ["add what exists, identically", "accepted", [
      { op: "add table", ...at },
      { op: "add chain", ...at, chain: "pre", hook: { type: "nat", hook: "prerouting", priority: -100 } },
      { op: "add chain", ...at, chain: "pre" },
      { op: "add map", ...at, map: "ports", key: "inet_proto . ipv4_addr . inet_service", interval: false },
      { op: "add element", ...at, map: "ports", elements: [["tcp . 198.18.1.1 . 80", "goto farm"]] },
      { op: "add element", ...at, map: "ranges", elements: [["tcp . 198.18.1.1 . 8000-8100", "goto farm"]] },
    ]],
    ["add then delete a missing table", "accepted", [{ op: "add table", family: "netdev", table: T }, { op: "delete table", family: "netdev", table: T }]],
    ["delete a chain with its rules (no flush)", "accepted", [{ op: "delete chain", ...at, chain: "hop" }]],
    ["flush, delete elements, maps, chains; re-add as a base chain", "accepted", [
      { op: "flush chain", ...at, chain: "pre" },
      { op: "flush chain", ...at, chain: "hop" },
      { op: "delete element", ...at, map: "ports", keys: ["tcp . 198.18.1.1 . 80"] },
      { op: "delete map", ...at, map: "ranges" },
      { op: "delete chain", ...at, chain: "farm" },
      { op: "add chain", ...at, chain: "farm", hook: { type: "nat", hook: "postrouting", priority: 100 } },
    ]],
    ["delete and re-add a key with another value; an interval moved", "accepted", [
      { op: "add chain", ...at, chain: "other" },
      { op: "delete element", ...at, map: "ports", keys: ["tcp . 198.18.1.1 . 80"] },
      { op: "delete element", ...at, map: "ranges", keys: ["tcp . 198.18.1.1 . 8000-8100"] },
      { op: "add element", ...at, map: "ports", elements: [["tcp . 198.18.1.1 . 80", "goto other"]] },
      { op: "add element", ...at, map: "ranges", elements: [["tcp . 198.18.1.1 . 8050-8200", "goto other"]] },
    ]],
  ];

  for (const [what, expected, ops] of cases) {
    it(`${expected}: ${what}`, () => {
      let fake: string | null = null;
      try {
        fakeApply(BASE, ops);
      } catch (error) {
        if (!(error instanceof FakeNftError)) throw error;
        fake = error.message;
      }
      nftApply(NS.ref, renderReplaceScript(BASE, T));
      const kernel = run(NS.ref, ["nft", "-c", "-f", "-"], renderOps(ops));
      const outcome = (refused: boolean) => (refused ? "refused" : "accepted");
      expect({ kernel: outcome(!kernel.ok), fake: outcome(fake !== null) }, `kernel: ${kernel.stderr}\nfake: ${fake}`).toEqual({
        kernel: expected,
        fake: expected,
      });
    });
  }
});

describe("normalizeListing", () => {
  it("sorts blocks and elements, keeps rules in order", () => {
    const listing = `table inet t {
	map b {
		type ipv4_addr : verdict
		elements = { 198.18.1.2 : drop,
			     198.18.1.1 : accept }
	}

	chain z {
		drop
		accept
	}

	chain a {
		type nat hook prerouting priority dstnat; policy accept;
	}
}
`;
    expect(normalizeListing(listing)).toBe(
      [
        "table inet t {",
        "chain a {\ntype nat hook prerouting priority dstnat; policy accept;",
        "chain z {\ndrop\naccept",
        "map b {\ntype ipv4_addr : verdict\n  198.18.1.1 : accept\n  198.18.1.2 : drop",
      ].join("\n"),
    );
  });
});
