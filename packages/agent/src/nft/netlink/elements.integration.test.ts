import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChildInput, ChildReport, Send } from "./elements.child.ts";
import { elementKey } from "./set-key.ts";

// The element counter dumper against a real kernel: sets of every key shape the agent's
// traffic sets use (IPv4 and IPv6; hash, concatenated interval, two addresses), plus a set of
// two expressions per element, a non-concatenated interval set and 40,000 seeded elements,
// loaded by nft in a fresh network namespace. Loopback packets matched by an output chain's
// lookups bump chosen elements; the dump must give each element nft lists, under the key
// elementKey computes from its text, with nft's packets and bytes. Everything kernel-side runs
// in elements.child.ts inside the namespace: this process never touches the host's ruleset.

const TABLE = "sy-el";
const CHILD = fileURLToPath(new URL("./elements.child.ts", import.meta.url));
const REPO = fileURLToPath(new URL("../../../../../", import.meta.url));

const PORTS4 = "ipv4_addr . inet_proto . inet_service . ipv4_addr . inet_service";
const PORTS6 = "ipv6_addr . inet_proto . inet_service . ipv6_addr . inet_service";
/** Each set: its key type, whether it is an interval set, its declaration's statements, its elements as nft takes them. */
const SETS: Record<string, { type: string; interval: boolean; stmts: string; elements: string[] }> = {
  "traffic4-ports": {
    type: PORTS4,
    interval: false,
    stmts: "counter",
    elements: ["127.0.0.1 . udp . 5001 . 127.0.0.1 . 5001", "127.0.0.1 . tcp . 5002 . 127.0.0.2 . 5002", "198.18.128.1 . tcp . 80 . 198.18.2.11 . 80 counter packets 5 bytes 100"],
  },
  "traffic4-ranges": {
    type: PORTS4,
    interval: true,
    stmts: "counter",
    elements: ["127.0.0.1 . udp . 6000-6999 . 127.0.0.1 . 6000-6999", "127.0.0.1 . tcp . 0-65535 . 127.0.0.2 . 7000", "198.18.1.6 . udp . 0-65535 . 198.18.2.12 . 8080"],
  },
  "traffic4-addr": { type: "ipv4_addr . ipv4_addr", interval: false, stmts: "counter", elements: ["127.0.0.3 . 127.0.0.1", "198.18.1.7 . 198.18.2.11"] },
  "traffic6-ports": {
    type: PORTS6,
    interval: false,
    stmts: "counter",
    elements: ["2001:db8::1 . udp . 5001 . 2001:db8::2 . 5001", "0:0:0:0:0:0:0:1 . tcp . 5002 . ::1 . 5002", "2001:db8:1::1 . sctp . 3868 . 2001:db8:2::5 . 3868"],
  },
  "traffic6-ranges": {
    type: PORTS6,
    interval: true,
    stmts: "counter",
    elements: ["2001:db8::1 . udp . 6000-6999 . 2001:db8::2 . 6000-6999", "2001:db8:1::1 . sctp . 1-65535 . 2001:db8:2::5 . 38"],
  },
  "traffic6-addr": { type: "ipv6_addr . ipv6_addr", interval: false, stmts: "counter", elements: ["2001:0db8:0000:0000:0000:0000:0000:0003 . 0:0:0:0:0:0:0:1", "2001:db8:1::1 . 2001:db8:2::5"] },
  // Two expressions per element: the kernel lists them in NFTA_SET_ELEM_EXPRESSIONS, the counter second.
  multi: { type: "ipv4_addr . inet_service", interval: false, stmts: "quota 100 mbytes; counter", elements: ["127.0.0.1 . 5003"] },
  // Not concatenated: the kernel keeps each interval as a start and an end element.
  svc: { type: "inet_service", interval: true, stmts: "counter", elements: ["9000-9099", "9200"] },
};
const RULES = [
  "ip daddr . meta l4proto . th dport . ip saddr . th dport @traffic4-ports",
  "ip daddr . meta l4proto . th dport . ip saddr . th dport @traffic4-ranges",
  "ip daddr . ip saddr @traffic4-addr",
  "ip6 daddr . meta l4proto . th dport . ip6 saddr . th dport @traffic6-ports",
  "ip6 daddr . meta l4proto . th dport . ip6 saddr . th dport @traffic6-ranges",
  "ip6 daddr . ip6 saddr @traffic6-addr",
  "ip daddr . udp dport @multi",
  "udp dport @svc",
];

const BIG = "big";
const BIG_SIZE = 40_000;
/** Elements each commit adds or deletes while the big set is read (many, so that a read that does not check misses some). */
const CHURN = 200;
const bigElement = (i: number) => `198.18.${i >> 8}.${i & 255} . tcp . ${1024 + i} . 198.19.${i >> 8}.${i & 255} . 8080`;

/** What is sent, and which element of which set it must count in (UDP payloads are 3 bytes). */
const TRAFFIC: (Send & { set: string; element: string })[] = [
  { proto: "udp", from: "127.0.0.1", to: "127.0.0.1", port: 5001, count: 3, set: "traffic4-ports", element: "127.0.0.1 . udp . 5001 . 127.0.0.1 . 5001" },
  { proto: "tcp", from: "127.0.0.2", to: "127.0.0.1", port: 5002, count: 2, set: "traffic4-ports", element: "127.0.0.1 . tcp . 5002 . 127.0.0.2 . 5002" },
  { proto: "udp", from: "127.0.0.1", to: "127.0.0.1", port: 6500, count: 4, set: "traffic4-ranges", element: "127.0.0.1 . udp . 6000-6999 . 127.0.0.1 . 6000-6999" },
  { proto: "tcp", from: "127.0.0.2", to: "127.0.0.1", port: 7000, count: 1, set: "traffic4-ranges", element: "127.0.0.1 . tcp . 0-65535 . 127.0.0.2 . 7000" },
  { proto: "udp", from: "127.0.0.1", to: "127.0.0.3", port: 5555, count: 2, set: "traffic4-addr", element: "127.0.0.3 . 127.0.0.1" },
  { proto: "udp", from: "2001:db8::2", to: "2001:db8::1", port: 5001, count: 3, set: "traffic6-ports", element: "2001:db8::1 . udp . 5001 . 2001:db8::2 . 5001" },
  { proto: "tcp", from: "::1", to: "::1", port: 5002, count: 2, set: "traffic6-ports", element: "::1 . tcp . 5002 . ::1 . 5002" },
  { proto: "udp", from: "2001:db8::2", to: "2001:db8::1", port: 6100, count: 2, set: "traffic6-ranges", element: "2001:db8::1 . udp . 6000-6999 . 2001:db8::2 . 6000-6999" },
  { proto: "udp", from: "::1", to: "2001:db8::3", port: 5555, count: 1, set: "traffic6-addr", element: "2001:db8::3 . ::1" },
  { proto: "udp", from: "127.0.0.1", to: "127.0.0.1", port: 5003, count: 2, set: "multi", element: "127.0.0.1 . 5003" },
  { proto: "udp", from: "127.0.0.1", to: "127.0.0.1", port: 9050, count: 3, set: "svc", element: "9000-9099" },
  { proto: "udp", from: "::1", to: "::1", port: 9200, count: 1, set: "svc", element: "9200" },
];

function script(): string {
  const sets = Object.entries(SETS).map(
    ([name, s]) => `  set ${name} { type ${s.type}; ${s.interval ? "flags interval; " : ""}${s.stmts}; elements = { ${s.elements.join(", ")} } }\n`,
  );
  const big = Array.from({ length: BIG_SIZE }, (_, i) => `${bigElement(i)} counter packets ${i} bytes ${i * 64}`);
  return (
    `table inet ${TABLE} {\n${sets.join("")}` +
    `  set ${BIG} { type ${PORTS4}; counter; elements = { ${big.join(",\n")} } }\n` +
    `  chain o {\n    type filter hook output priority 0; policy accept;\n${RULES.map((r) => `    ${r}\n`).join("")}  }\n}\n`
  );
}

/** The elements of `nft list set` as [key text, packets, bytes]. */
function listed(listing: string): [string, number, number][] {
  const body = /elements = \{([^}]*)\}/.exec(listing)?.[1] ?? "";
  return body
    .replace(/\s+/g, " ")
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "")
    .map((e) => {
      const text = /^(.+?) (?:counter|quota|limit)\b/.exec(e)?.[1] ?? e;
      const counter = / counter packets (\d+) bytes (\d+)/.exec(e);
      return [text, Number(counter?.[1] ?? Number.NaN), Number(counter?.[2] ?? Number.NaN)];
    });
}

const ns = `sy-el-${randomBytes(4).toString("hex")}`;
let report: ChildReport;

beforeAll(() => {
  const input: ChildInput = {
    table: TABLE,
    addresses: ["2001:db8::1", "2001:db8::2", "2001:db8::3"],
    script: script(),
    traffic: TRAFFIC.map(({ proto, from, to, port, count }) => ({ proto, from, to, port, count })),
    sets: Object.keys(SETS),
    big: BIG,
    churn: CHURN,
  };
  execFileSync("ip", ["netns", "add", ns]);
  try {
    const out = execFileSync("ip", ["netns", "exec", ns, process.execPath, "--import", "tsx", CHILD, ns], {
      cwd: REPO,
      input: JSON.stringify(input),
      encoding: "utf8",
      maxBuffer: 64 << 20,
    });
    report = JSON.parse(out) as ChildReport;
  } finally {
    // The namespace goes with its ruleset and addresses whatever happened in it.
    execFileSync("ip", ["netns", "delete", ns]);
  }
}, 180_000);

afterAll(() => {
  try {
    execFileSync("ip", ["netns", "delete", ns], { stdio: "ignore" });
  } catch {
    // already gone
  }
});

const keyOf = (set: string, text: string) => {
  const s = SETS[set] ?? { type: PORTS4, interval: false };
  return elementKey(s.type, s.interval, text);
};
const dumped = (set: string) => new Map((report.dumps[set] ?? []).map(([k, packets, bytes]) => [k, { packets, bytes }]));

describe("set element counters read over netlink (in a scratch network namespace)", () => {
  it("loads koffi, libnftnl and libmnl", () => {
    expect(report.loaded).toBe(true);
  });

  it("gives every element nft lists, under the key elementKey computes from nft's text, with nft's packets and bytes", () => {
    for (const set of Object.keys(SETS)) {
      const fromNft = listed(report.listings[set] ?? "");
      expect(fromNft.length, set).toBe(SETS[set]?.elements.length);
      const expected = new Map(fromNft.map(([text, packets, bytes]) => [keyOf(set, text), { packets, bytes }]));
      expect(expected.has(null), `${set}: elementKey refused one of nft's texts`).toBe(false);
      expect(dumped(set), set).toEqual(expected);
    }
  });

  it("counts exactly the packets sent to each element (keys from the texts the sets were written with)", () => {
    for (const t of TRAFFIC) {
      const key = keyOf(t.set, t.element);
      expect(key, t.element).not.toBeNull();
      const value = dumped(t.set).get(key as string);
      expect(value?.packets, `${t.set}: ${t.element}`).toBe(t.count);
      // IP length: 20 or 40 bytes of IP header, 8 of UDP, "hi\n".
      if (t.proto === "udp") expect(value?.bytes, `${t.set}: ${t.element}`).toBe(t.count * (t.to.includes(":") ? 51 : 31));
    }
    const untouched = Object.keys(SETS).flatMap((set) => [...dumped(set)].filter(([, v]) => v.packets === 0).map(([k]) => `${set} ${k}`));
    expect(untouched.length).toBe(Object.values(SETS).reduce((n, s) => n + s.elements.length, 0) - TRAFFIC.length - 1);
  });

  it("reads back a seeded counter", () => {
    expect(dumped("traffic4-ports").get(keyOf("traffic4-ports", "198.18.128.1 . tcp . 80 . 198.18.2.11 . 80") as string)).toEqual({ packets: 5, bytes: 100 });
  });

  it(`reads a set of ${BIG_SIZE} elements completely, each with its own counter`, () => {
    expect(report.big.length).toBe(BIG_SIZE);
    const big = new Map(report.big.map(([k, packets, bytes]) => [k, { packets, bytes }]));
    for (let i = 0; i < BIG_SIZE; i++) {
      const value = big.get(keyOf(BIG, bigElement(i)) as string);
      if (value?.packets !== i || value.bytes !== i * 64) expect(value, bigElement(i)).toEqual({ packets: i, bytes: i * 64 });
    }
    const sorted = [...report.bigMs].sort((a, b) => a - b);
    console.log(`one read of ${BIG_SIZE} elements: median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)} ms of ${report.bigMs.length}`);
  });

  it("never returns a read that a commit landed in: complete, or an error saying the ruleset kept changing", () => {
    expect(report.churned.length).toBeGreaterThan(5);
    for (const outcome of report.churned) {
      if (typeof outcome === "number") expect([BIG_SIZE, BIG_SIZE + CHURN]).toContain(outcome);
      else expect(outcome).toContain("the ruleset changed during each of 3 reads");
    }
    console.log(`reads during churn: ${report.churned.filter((o) => typeof o === "number").length} complete, ${report.churned.filter((o) => typeof o === "string").length} gave up`);
  });

  it("reads a set or a table that does not exist as empty, and names the set when the kernel refuses", () => {
    expect(report.missing.set).toEqual({ "no-such-set": 0, "traffic4-ports": 3 });
    expect(report.missing.table).toEqual({ "traffic4-ports": 0, "traffic4-ranges": 0 });
    expect(report.refused).toContain(`element dump of set inet ${TABLE} xxx`);
    expect(report.refused).toContain("ERANGE");
  });
});
