import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { buildRuleset, parseConfig, type IrRuleset } from "@switchyard/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { everySchedulerFarms, farm, v4, v6 } from "../../testing/farm-shapes.ts";

// The refiller against a real kernel, differentially: every farm chain of config A is
// refilled with the rules of config B through the netlink batch, and through `nft -f`; the
// listings must be byte-identical. Everything kernel-side runs in refill.child.ts inside a
// fresh network namespace: this process stays in the host's and never touches its ruleset.

const TABLE = "switchyard";
const CHILD = fileURLToPath(new URL("./refill.child.ts", import.meta.url));
const REPO = fileURLToPath(new URL("../../../../../", import.meta.url));

/** Config A and config B: the same farms, every farm chain's rules different. Together they cover every supported shape. */
const CONFIG_A = { farms: everySchedulerFarms() };
const CONFIG_B = {
  farms: [
    farm("rr4", "198.18.1.1", {}, [v4(1), v4(3)]),
    farm("weight4", "198.18.1.2", { scheduler: "weight", protocol: "udp", mode: "dnat", "virtual-ports": "53" }, [v4(1, 53, { weight: 3 }), v4(2, 53), v4(4, 53, { weight: 5 })]),
    farm("sym4", "198.18.1.3", { scheduler: "symhash", protocol: "sctp" }, [v4(1, 3868), v4(2, 3868), v4(4, 3868)]),
    farm("hash4", "198.18.1.4", { scheduler: "hash", mode: "dnat", "sched-param": "srcip srcport" }, [v4(1, 9090), v4(2, 9090), v4(3, 9090)]),
    farm("hash4all", "198.18.1.5", { scheduler: "hash", "sched-param": "srcip dstip srcport dstport" }, [v4(1), v4(2), v4(3)]),
    farm("all4", "198.18.1.6", { protocol: "all", "virtual-ports": "" }, [v4(1, "", { state: "down" }), v4(2, "", { state: "down" })]),
    farm("rr6", "2001:db8:1::1", { mode: "dnat" }, [v6(1, 8443), v6(2, 8443), v6(3, 8443)]),
    farm("hash6", "2001:db8:1::2", { scheduler: "hash", protocol: "udp", mode: "dnat", "sched-param": "srcip dstport" }, [v6(1, 53), v6(2, 53), v6(3, 53), v6(4, 53)]),
    farm("hash6def", "2001:db8:1::3", { scheduler: "hash" }, [v6(1, 8080, { weight: 3 }), v6(2)]),
    farm("one4", "198.18.1.7", {}, [v4(1, 8080), v4(2, 8081), v4(3, 8082)]),
    farm("one6", "2001:db8:1::4", { protocol: "all", "virtual-ports": "", mode: "dnat" }, [v6(9, "")]),
    farm("down4", "198.18.1.8", {}, [v4(1), v4(2, 8080, { state: "down" })]),
    farm("dual", "198.18.1.9", { family: "dual", "virtual-addr6": "2001:db8:1::5", scheduler: "weight" }, [v4(5), v4(6, 8080, { weight: 4 }), v6(3), v6(4, 8080, { weight: 2 })]),
    farm("sym6", "2001:db8:1::6", { scheduler: "symhash", mode: "dnat" }, [v6(1)]),
  ],
};

interface Outcome {
  result?: string;
  error?: { name: string; message: string; errno?: number; opIndex?: number };
}
interface Report {
  loaded: boolean;
  chains: { chain: string; rules: string[]; before: string; result: string; fast: string; slow: string; fastDebug: string; slowDebug: string }[];
  wholeResult: string;
  wholeFast: string;
  wholeSlow: string;
  plannedOps: number;
  encodings: { rule: string; ours: string | null; nft: string | null }[];
  unsupported: { outcome: Outcome; same: boolean };
  refusedMissingChain: { outcome: Outcome; opIndex: number; before: string; after: string };
  refusedValue: { outcome: Outcome; before: string; after: string };
}

const ns = `sy-nl-${randomBytes(4).toString("hex")}`;
let report: Report;
let irA: IrRuleset;
let irB: IrRuleset;

/**
 * Both IRs with the union of their counters and B's maps: B names counters of backends A does
 * not have, and its traffic maps key other backends; adding (or deleting) counter objects and
 * map elements is nft's job, not the refiller's (planRefill says "unsupported"). With the same
 * counters and maps on both sides, A -> B is refills only.
 */
function withCounters(ir: IrRuleset, counters: string[], maps: IrRuleset["tables"][number]["maps"]): IrRuleset {
  return { tables: ir.tables.map((t) => (t.family === "inet" ? { ...t, counters, maps } : t)) };
}

beforeAll(() => {
  const a = buildRuleset(parseConfig(CONFIG_A), { table: TABLE });
  const b = buildRuleset(parseConfig(CONFIG_B), { table: TABLE });
  const counters = [...new Set([...(a.tables[0]?.counters ?? []), ...(b.tables[0]?.counters ?? [])])];
  const maps = b.tables[0]?.maps ?? [];
  irA = withCounters(a, counters, maps);
  irB = withCounters(b, counters, maps);
  execFileSync("ip", ["netns", "add", ns]);
  try {
    const out = execFileSync("ip", ["netns", "exec", ns, process.execPath, "--import", "tsx", CHILD, ns], {
      cwd: REPO,
      input: JSON.stringify({ table: TABLE, a: irA, b: irB }),
      encoding: "utf8",
      maxBuffer: 64 << 20,
    });
    report = JSON.parse(out) as Report;
  } finally {
    // The namespace goes with its ruleset whatever happened in it.
    execFileSync("ip", ["netns", "delete", ns]);
  }
});

afterAll(() => {
  try {
    execFileSync("ip", ["netns", "delete", ns], { stdio: "ignore" });
  } catch {
    // already gone
  }
});

const rulesOf = (ir: IrRuleset) => ir.tables.flatMap((t) => t.chains.filter((c) => c.name.startsWith("farm-") || c.name.startsWith("sched-")).flatMap((c) => c.rules));

describe("netlink chain refiller against the kernel (in a scratch network namespace)", () => {
  it("loads koffi, libnftnl and libmnl, and the configs cover every supported shape", () => {
    expect(report.loaded).toBe(true);
    const rules = rulesOf(irB).concat(rulesOf(irA));
    const shapes = [
      // farm chains: the jump, a dnat per backend by id, the last drop
      /^drop$/,
      /^jump sched-\S+$/,
      /^ct mark 0xc000000\d meta l4proto tcp counter name c\/\S+ dnat ip to [\d.]+:\d+$/,
      /^ct mark 0x4000000\d meta l4proto udp counter name c\/\S+ dnat ip to [\d.]+:53$/,
      /^ct mark 0x[0-9a-f]{8} counter name c\/\S+ dnat ip to [\d.]+$/,
      /^ct mark 0x[0-9a-f]{8} counter name c\/\S+ dnat ip6 to [0-9a-f:]+$/,
      /^ct mark 0x[0-9a-f]{8} meta l4proto (tcp|udp) counter name c\/\S+ dnat ip6 to \[[0-9a-f:]+\]:\d+$/,
      /^ct mark 0x[0-9a-f]{8} meta l4proto sctp counter name c\/\S+ dnat ip to [\d.]+:3868$/,
      // scheduler chains: a draw of the ids themselves, or of draws turned into ids
      /^ct mark set numgen inc mod \d+ offset 0xc0000000$/,
      /^ct mark set numgen inc mod \d+ offset 0x40000000$/,
      /^ct mark set numgen random mod 1 offset 0x[c4]000000[0-9a-f]$/,
      /^ct mark set numgen random mod \d+ offset 0x80000000$/,
      /^ct mark set numgen random mod \d+$/,
      /^ct mark set symhash mod \d+ offset 0xc0000000$/,
      /^ct mark set symhash mod \d+ offset 0x40000000$/,
      /^ct mark set jhash ip saddr \. th sport mod \d+ seed 0x[0-9a-f]{8} offset 0x40000000$/,
      /^ct mark set jhash ip saddr \. ip daddr \. th sport \. th dport mod \d+ seed 0x[0-9a-f]{8} offset 0xc0000000$/,
      /^ct mark set jhash ip6 saddr \. th dport mod \d+ seed 0x[0-9a-f]{8} offset 0x40000000$/,
      /^ct mark set jhash ip6 saddr mod \d+ seed 0x[0-9a-f]{8} offset 0x80000000$/,
      /^ct mark 0x8000000\d ct mark set numgen random mod 1 offset 0xc000000\d$/,
      /^ct mark 0x8000000\d-0x8000000\d ct mark set numgen random mod 1 offset 0xc000000\d$/,
      /^ct mark 0x0000000\d ct mark set numgen random mod 1 offset 0x4000000\d$/,
      /^ct mark 0x00000000-0x0000000\d ct mark set numgen random mod 1 offset 0x40000000$/,
    ];
    for (const shape of shapes) expect(rules.some((r) => shape.test(r)), String(shape)).toBe(true);
  });

  it("refills every farm and scheduler chain to exactly what nft -f makes of the same ops (listing and kernel expressions)", () => {
    expect(report.chains.length).toBeGreaterThanOrEqual(15);
    for (const c of report.chains) {
      expect(c.result, c.chain).toBe("applied");
      expect(c.fast, `${c.chain}: the chain changed`).not.toBe(c.before);
      expect(c.fast, c.chain).toBe(c.slow);
      expect(c.fastDebug, c.chain).toBe(c.slowDebug);
    }
  });

  it("applies core's whole A -> B delta as one batch, to the same table nft -f makes of it", () => {
    expect(report.plannedOps).toBeGreaterThan(report.chains.length);
    expect(report.wholeResult).toBe("applied");
    expect(report.wholeFast).toBe(report.wholeSlow);
  });

  it("sends for each rule the expressions nft sends (libnftnl's text of both)", () => {
    expect(report.encodings.length).toBeGreaterThan(20);
    for (const e of report.encodings) {
      expect(e.nft, e.rule).not.toBeNull();
      expect(e.ours, e.rule).toBe(e.nft);
    }
  });

  it("sends nothing when one rule is not a supported shape", () => {
    expect(report.unsupported.outcome).toEqual({ result: "unsupported" });
    expect(report.unsupported.same).toBe(true);
  });

  it("throws with the errno and the op when the kernel refuses a later op, and changes nothing", () => {
    const { outcome, opIndex, before, after } = report.refusedMissingChain;
    expect(outcome.error?.name).toBe("RefillError");
    expect(outcome.error?.errno).toBe(2);
    expect(outcome.error?.opIndex).toBe(opIndex);
    expect(outcome.error?.message).toContain("flush chain inet switchyard farm-no-such-chain-4");
    expect(outcome.error?.message).toContain("ENOENT");
    expect(after).toBe(before);
  });

  it("changes nothing when the kernel refuses a rule's values (numgen offset + modulus beyond 32 bits)", () => {
    const { outcome, before, after } = report.refusedValue;
    expect(outcome.error?.name).toBe("RefillError");
    expect(outcome.error?.errno).toBe(75); // EOVERFLOW
    expect(outcome.error?.opIndex).toBe(1);
    expect(after).toBe(before);
  });
});
