import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../nftlb/codec.ts";
import { buildRuleset } from "./build.ts";
import { isEmptyDelta, MAX_ELEMENT_LINE, planDelta, renderOps, type NftOp } from "./delta.ts";
import { configPairs, fakeApply, normalizeIr, TEST_FACTS } from "./fake-nft.ts";
import type { IrChain, IrMap, IrRuleset, IrTable, TableFamily } from "./ir.ts";

const T = "switchyard";
type Raw = Record<string, unknown>;

const build = (farms: Raw[]): IrRuleset => buildRuleset(parseConfig({ farms }), { facts: TEST_FACTS });
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
  "virtual-addr": "198.18.1.53",
  "virtual-ports": "53",
  protocol: "udp",
  backends: [bk("a", "198.18.2.21"), bk("b", "198.18.2.22")],
  ...extra,
});
const fast = (extra: Raw = {}): Raw => ({
  name: "fast",
  "virtual-addr": "198.18.1.101",
  "virtual-ports": "443",
  mode: "dsr",
  iface: "eth-in",
  oface: "eth-out",
  backends: [bk("a", "198.18.2.31", { "ether-addr": "02:00:00:00:00:31" }), bk("b", "198.18.2.32", { "ether-addr": "02:00:00:00:00:32" })],
  ...extra,
});

const table = (ir: IrRuleset, family: TableFamily = "inet") => ir.tables.find((t) => t.family === family) as IrTable;
const chain = (ir: IrRuleset, name: string, family: TableFamily = "inet") => table(ir, family).chains.find((c) => c.name === name) as IrChain;
const map = (ir: IrRuleset, name: string, family: TableFamily = "inet") => table(ir, family).maps.find((m) => m.name === name) as IrMap;

/** The delta as script lines, after checking that the fake kernel takes A to exactly B with it. */
function delta(a: IrRuleset, b: IrRuleset): string[] {
  const ops = planDelta(a, b, T);
  expect(fakeApply(a, ops)).toEqual(normalizeIr(b));
  return renderOps(ops).split("\n").filter((l) => l !== "");
}

const farmRules = (ir: IrRuleset, name: string, family: TableFamily = "inet") =>
  chain(ir, name, family).rules.map((r) => `add rule ${family} ${T} ${name} ${r}`);

describe("renderOps: one nft command per line", () => {
  const at = { family: "inet", table: T } as const;
  it("writes every kind of operation in nft's syntax", () => {
    const ops: NftOp[] = [
      { op: "add table", ...at },
      { op: "add chain", ...at, chain: "farm-web-4" },
      { op: "add chain", ...at, chain: "prerouting", hook: { type: "nat", hook: "prerouting", priority: -100 } },
      { op: "add chain", family: "netdev", table: T, chain: "ingress-eth0", hook: { type: "filter", hook: "ingress", priority: 101, device: "eth0" } },
      { op: "add map", ...at, map: "svc4-ports", key: "inet_proto . ipv4_addr . inet_service", interval: true },
      { op: "add map", ...at, map: "svc4-addr", key: "ipv4_addr", interval: false },
      { op: "flush chain", ...at, chain: "farm-web-4" },
      { op: "delete element", ...at, map: "svc4-ports", keys: ["tcp . 198.18.1.1 . 80", "tcp . 198.18.1.1 . 443"] },
      { op: "add element", ...at, map: "svc4-ports", elements: [["tcp . 198.18.1.1 . 80", "goto farm-web-4"], ["udp . 198.18.1.1 . 53", "accept"]] },
      { op: "add rule", ...at, chain: "farm-web-4", rule: "ct mark set numgen inc mod 2" },
      { op: "delete map", ...at, map: "svc4-addr" },
      { op: "delete chain", ...at, chain: "farm-old-4" },
      { op: "delete table", family: "netdev", table: T },
    ];
    expect(renderOps(ops)).toBe(
      [
        "add table inet switchyard",
        "add chain inet switchyard farm-web-4",
        "add chain inet switchyard prerouting { type nat hook prerouting priority -100; policy accept; }",
        'add chain netdev switchyard ingress-eth0 { type filter hook ingress device "eth0" priority 101; policy accept; }',
        "add map inet switchyard svc4-ports { type inet_proto . ipv4_addr . inet_service : verdict; flags interval; }",
        "add map inet switchyard svc4-addr { type ipv4_addr : verdict; }",
        "flush chain inet switchyard farm-web-4",
        "delete element inet switchyard svc4-ports { tcp . 198.18.1.1 . 80, tcp . 198.18.1.1 . 443 }",
        "add element inet switchyard svc4-ports { tcp . 198.18.1.1 . 80 : goto farm-web-4, udp . 198.18.1.1 . 53 : accept }",
        "add rule inet switchyard farm-web-4 ct mark set numgen inc mod 2",
        "delete map inet switchyard svc4-addr",
        "delete chain inet switchyard farm-old-4",
        "delete table netdev switchyard",
        "",
      ].join("\n"),
    );
    expect(renderOps([])).toBe("");
  });

  it("batches many elements into few lines, each under 64 KB", () => {
    const elements: [string, string][] = Array.from({ length: 20_000 }, (_, i) => [`tcp . 198.18.${i >> 8}.${i & 255} . ${1 + (i % 60000)}`, `goto farm-f${i}-4`]);
    const lines = renderOps([{ op: "add element", family: "inet", table: T, map: "svc4-ports", elements }]).trimEnd().split("\n");
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.length).toBeLessThan(20);
    for (const line of lines) {
      expect(line.length).toBeLessThanOrEqual(MAX_ELEMENT_LINE);
      expect(line).toMatch(/^add element inet switchyard svc4-ports \{ .* \}$/);
    }
    const items = lines.flatMap((l) => l.slice("add element inet switchyard svc4-ports { ".length, -2).split(", "));
    expect(items).toEqual(elements.map(([k, v]) => `${k} : ${v}`));
  });

  it("refuses to render text that would not stay one command", () => {
    const at2 = { family: "inet", table: T } as const;
    expect(() => renderOps([{ op: "add rule", ...at2, chain: "c", rule: "accept\nflush ruleset" }])).toThrow(/line break/);
    expect(() => renderOps([{ op: "add element", ...at2, map: "m", elements: [["1.2.3.4 }", "accept"]] }])).toThrow(/contains "}"/);
    expect(() => renderOps([{ op: "add chain", ...at2, chain: "c; flush ruleset" }])).toThrow(/not an nft identifier/);
    expect(() => renderOps([{ op: "add chain", ...at2, chain: "c", hook: { type: "filter", hook: "ingress", priority: 0, device: 'x" ;' } }])).toThrow(/interface name/);
    expect(() => renderOps([{ op: "add table", family: "inet", table: "x y" }])).toThrow(/not an nft identifier/);
  });
});

describe("planDelta: hand-written changes", () => {
  const A = build([web(), dns(), fast()]);

  it("identical rulesets, even listed in another order, give no operations", () => {
    expect(planDelta(A, structuredClone(A), T)).toEqual([]);
    const shuffled = structuredClone(A);
    for (const t of shuffled.tables) {
      t.chains.reverse();
      t.maps.reverse();
      for (const m of t.maps) m.elements.reverse();
    }
    shuffled.tables.reverse();
    const ops = planDelta(A, shuffled, T);
    expect(isEmptyDelta(ops)).toBe(true);
    expect(renderOps(ops)).toBe("");
  });

  it("a backend weight: flush the farm's scheduler chain and refill it, nothing else", () => {
    const B = build([web({ backends: [bk("a", "198.18.2.11", { port: 8080, weight: 5 }), bk("b", "198.18.2.12", { port: 8080 })] }), dns(), fast()]);
    expect(delta(A, B)).toEqual(["flush chain inet switchyard sched-web-4", ...farmRules(B, "sched-web-4")]);
  });

  it("a backend down: the farm's scheduler chain only", () => {
    const B = build([web({ backends: [bk("a", "198.18.2.11", { port: 8080, weight: 2 }), bk("b", "198.18.2.12", { port: 8080, state: "down" })] }), dns(), fast()]);
    expect(delta(A, B)).toEqual([
      "flush chain inet switchyard sched-web-4",
      "add rule inet switchyard sched-web-4 ct mark set numgen random mod 1 offset 0xc0000000",
    ]);
  });

  it("add a farm: its chains first (empty), then its element, then their rules", () => {
    const B = build([web(), dns(), fast(), web({ name: "api", "virtual-addr": "198.18.1.102", "virtual-ports": "8443" })]);
    expect(delta(A, B)).toEqual([
      "add counter inet switchyard c/api/a",
      "add counter inet switchyard c/api/b",
      "add chain inet switchyard sched-api-4",
      "add chain inet switchyard farm-api-4",
      "add element inet switchyard svc4-ports { tcp . 198.18.1.102 . 8443 : goto farm-api-4 }",
      "add element inet switchyard traffic4-ports { 198.18.1.102 . tcp . 8443 . 198.18.2.11 . 8080, 198.18.1.102 . tcp . 8443 . 198.18.2.12 . 8080 }",
      ...farmRules(B, "sched-api-4"),
      ...farmRules(B, "farm-api-4"),
    ]);
  });

  it("remove a farm: its element goes before its chains, which are flushed first (the farm chain's jump goes with its rules)", () => {
    const B = build([web(), fast()]);
    expect(delta(A, B)).toEqual([
      "flush chain inet switchyard sched-dns-4",
      "flush chain inet switchyard farm-dns-4",
      "delete element inet switchyard svc4-ports { udp . 198.18.1.53 . 53 }",
      // Before the counters they name: the kernel refuses to delete a counter a map element holds.
      "delete element inet switchyard traffic4-ports { 198.18.1.53 . udp . 53 . 198.18.2.21 . 53, 198.18.1.53 . udp . 53 . 198.18.2.22 . 53 }",
      "delete counter inet switchyard c/dns/a",
      "delete counter inet switchyard c/dns/b",
      "delete chain inet switchyard sched-dns-4",
      "delete chain inet switchyard farm-dns-4",
    ]);
  });

  it("ports from one to a range: the service moves from the ports map to the ranges map", () => {
    const B = build([web({ "virtual-ports": "80-90" }), dns(), fast()]);
    expect(delta(A, B)).toEqual([
      "delete element inet switchyard svc4-ports { tcp . 198.18.1.100 . 80 }",
      "delete element inet switchyard traffic4-ports { 198.18.1.100 . tcp . 80 . 198.18.2.11 . 8080, 198.18.1.100 . tcp . 80 . 198.18.2.12 . 8080 }",
      "add element inet switchyard svc4-ranges { tcp . 198.18.1.100 . 80-90 : goto farm-web-4 }",
      "add element inet switchyard traffic4-ranges { 198.18.1.100 . tcp . 80-90 . 198.18.2.11 . 8080, 198.18.1.100 . tcp . 80-90 . 198.18.2.12 . 8080 }",
    ]);
  });

  it("a range that overlaps the old one: delete before add in one transaction", () => {
    const A2 = build([web({ "virtual-ports": "8000-8100" })]);
    const B2 = build([web({ "virtual-ports": "8050-8200" })]);
    expect(delta(A2, B2)).toEqual([
      "delete element inet switchyard svc4-ranges { tcp . 198.18.1.100 . 8000-8100 }",
      "delete element inet switchyard traffic4-ranges { 198.18.1.100 . tcp . 8000-8100 . 198.18.2.11 . 8080, 198.18.1.100 . tcp . 8000-8100 . 198.18.2.12 . 8080 }",
      "add element inet switchyard svc4-ranges { tcp . 198.18.1.100 . 8050-8200 : goto farm-web-4 }",
      "add element inet switchyard traffic4-ranges { 198.18.1.100 . tcp . 8050-8200 . 198.18.2.11 . 8080, 198.18.1.100 . tcp . 8050-8200 . 198.18.2.12 . 8080 }",
    ]);
  });

  it("a service passes from one farm to another: delete and add the element with its new verdict", () => {
    const A2 = build([web()]);
    const B2 = build([web({ name: "www" })]);
    expect(delta(A2, B2)).toEqual([
      "add counter inet switchyard c/www/a",
      "add counter inet switchyard c/www/b",
      "add chain inet switchyard sched-www-4",
      "add chain inet switchyard farm-www-4",
      "flush chain inet switchyard sched-web-4",
      "flush chain inet switchyard farm-web-4",
      "delete element inet switchyard svc4-ports { tcp . 198.18.1.100 . 80 }",
      // Same key, another counter: deleted and added again, like a verdict that changes.
      "delete element inet switchyard traffic4-ports { 198.18.1.100 . tcp . 80 . 198.18.2.11 . 8080, 198.18.1.100 . tcp . 80 . 198.18.2.12 . 8080 }",
      "delete counter inet switchyard c/web/a",
      "delete counter inet switchyard c/web/b",
      "delete chain inet switchyard sched-web-4",
      "delete chain inet switchyard farm-web-4",
      "add element inet switchyard svc4-ports { tcp . 198.18.1.100 . 80 : goto farm-www-4 }",
      "add element inet switchyard traffic4-ports { 198.18.1.100 . tcp . 80 . 198.18.2.11 . 8080, 198.18.1.100 . tcp . 80 . 198.18.2.12 . 8080 }",
      ...farmRules(B2, "sched-www-4"),
      ...farmRules(B2, "farm-www-4"),
    ]);
  });

  it("snat to dsr and back: the farm moves between the inet and the netdev table", () => {
    const A2 = build([web(), dns()]);
    const B2 = build([web(), fast({ name: "dns", "virtual-addr": "198.18.1.53", "virtual-ports": "53", protocol: "udp" })]);
    const there = delta(A2, B2);
    expect(there.slice(0, 1)).toEqual(["add table netdev switchyard"]);
    expect(there).toContain("flush chain inet switchyard farm-dns-4");
    expect(there).toContain("delete element inet switchyard svc4-ports { udp . 198.18.1.53 . 53 }");
    expect(there).toContain("delete chain inet switchyard farm-dns-4");
    expect(there).toContain('add chain netdev switchyard ingress-eth-in { type filter hook ingress device "eth-in" priority 101; policy accept; }');
    expect(there).toContain("add element netdev switchyard svc4-ports-eth-in { udp . 198.18.1.53 . 53 : goto farm-dns-4 }");
    expect(there.filter((l) => l.includes("farm-web-4"))).toEqual([]);
    const back = delta(B2, A2);
    expect(back.at(-1)).toBe("delete table netdev switchyard");
    expect(back.filter((l) => l.includes("netdev"))).toEqual(["delete table netdev switchyard"]);
  });

  it("remove every dsr farm: delete the netdev table, nothing else", () => {
    expect(delta(A, build([web(), dns()]))).toEqual(["delete table netdev switchyard"]);
  });

  it("remove every farm: empty maps and base chains stay, farm chains go", () => {
    const lines = delta(A, build([]));
    expect(lines.filter((l) => l.startsWith("delete chain"))).toEqual([
      "delete chain inet switchyard sched-web-4",
      "delete chain inet switchyard farm-web-4",
      "delete chain inet switchyard sched-dns-4",
      "delete chain inet switchyard farm-dns-4",
    ]);
    expect(lines.at(-1)).toBe("delete table netdev switchyard");
  });

  it("a map whose key type changes is re-created, and the chains that use it are flushed and refilled", () => {
    const B = structuredClone(A);
    const m = map(B, "svc4-addr");
    m.key = "ipv4_addr . ipv4_addr";
    m.elements = [["198.18.1.1 . 198.18.1.2", "goto farm-web-4"]];
    const pre = chain(B, "prerouting");
    pre.rules = pre.rules.map((r) => r.replace(/ip daddr vmap @svc4-addr$/, "ip saddr . ip daddr vmap @svc4-addr"));
    const lines = delta(A, B);
    expect(lines).toEqual([
      "flush chain inet switchyard prerouting",
      "delete map inet switchyard svc4-addr",
      "add map inet switchyard svc4-addr { type ipv4_addr . ipv4_addr : verdict; }",
      "add element inet switchyard svc4-addr { 198.18.1.1 . 198.18.1.2 : goto farm-web-4 }",
      ...farmRules(B, "prerouting"),
    ]);
  });

  it("a chain that uses a re-created map is refilled even when its own rules are unchanged", () => {
    const B = structuredClone(A);
    map(B, "svc4-proto").interval = true;
    const lines = delta(A, B);
    expect(lines.slice(0, 3)).toEqual([
      "flush chain inet switchyard prerouting",
      "delete map inet switchyard svc4-proto",
      "add map inet switchyard svc4-proto { type inet_proto . ipv4_addr : verdict; flags interval; }",
    ]);
    expect(lines.slice(3)).toEqual([...farmRules(B, "prerouting")]);
  });

  it("a chain whose hook changes is flushed, deleted and re-added with the new hook", () => {
    const B = structuredClone(A);
    (chain(B, "prerouting").hook as { priority: number }).priority = -150;
    expect(delta(A, B)).toEqual([
      "flush chain inet switchyard prerouting",
      "delete chain inet switchyard prerouting",
      "add chain inet switchyard prerouting { type nat hook prerouting priority -150; policy accept; }",
      ...farmRules(B, "prerouting"),
    ]);
  });

  it("a regular chain that becomes a base chain: the elements that jumped to it go first", () => {
    const B = structuredClone(A);
    const web4 = chain(B, "farm-web-4");
    web4.hook = { type: "nat", hook: "postrouting", priority: 110 };
    const ports = map(B, "svc4-ports");
    ports.elements = ports.elements.filter(([, v]) => v !== "goto farm-web-4");
    const lines = delta(A, B);
    expect(lines.indexOf("delete element inet switchyard svc4-ports { tcp . 198.18.1.100 . 80 }")).toBeLessThan(
      lines.indexOf("delete chain inet switchyard farm-web-4"),
    );
    expect(lines).toContain("add chain inet switchyard farm-web-4 { type nat hook postrouting priority 110; policy accept; }");
  });

  it("from an unknown state: reset both owned tables, then everything, like renderReplaceScript", () => {
    const lines = renderOps(planDelta(null, A, T)).split("\n");
    expect(lines.slice(0, 5)).toEqual([
      "add table inet switchyard",
      "delete table inet switchyard",
      "add table netdev switchyard",
      "delete table netdev switchyard",
      "add table inet switchyard",
    ]);
    expect(lines).toContain("add table netdev switchyard");
    // Whatever the kernel held (here: another ruleset of ours), the result is A.
    for (const before of [{ tables: [] }, build([dns({ name: "old" })]), A]) {
      expect(fakeApply(before, planDelta(null, A, T))).toEqual(normalizeIr(A));
    }
    const inetOnly = planDelta(null, build([web()]), T);
    expect(inetOnly.filter((op) => op.family === "netdev")).toEqual([
      { op: "add table", family: "netdev", table: T },
      { op: "delete table", family: "netdev", table: T },
    ]);
  });

  it("refuses rulesets that hold tables of another name", () => {
    const other = structuredClone(A);
    (other.tables[0] as IrTable).name = "filter";
    expect(() => planDelta(A, other, T)).toThrow(/not the agent's table/);
    expect(() => planDelta(other, A, T)).toThrow(/not the agent's table/);
  });
});

describe("planDelta (property, against the fake kernel)", () => {
  it("takes any valid A to exactly B, touches only what changed, and plans nothing from B to B", () => {
    let ops = 0;
    fc.assert(
      fc.property(configPairs, ({ a, b }) => {
        const A = buildRuleset(a, { facts: TEST_FACTS });
        const B = buildRuleset(b, { facts: TEST_FACTS });
        const plan = planDelta(A, B, T);
        ops += plan.length;
        expect(fakeApply(A, plan)).toEqual(normalizeIr(B));
        expect(planDelta(B, B, T)).toEqual([]);
        expect(fakeApply(A, planDelta(null, B, T))).toEqual(normalizeIr(B));
        expect(renderOps(plan)).toBe(renderOps(planDelta(A, B, T)));

        // Minimal: no operation names a chain whose hook and rules are unchanged, and element
        // operations name exactly the keys that were added, removed or changed.
        for (const tb of B.tables) {
          const ta = A.tables.find((t) => t.family === tb.family);
          if (ta === undefined) continue;
          for (const cb of tb.chains) {
            const ca = ta.chains.find((c) => c.name === cb.name);
            if (ca && JSON.stringify(ca) === JSON.stringify(cb)) {
              expect(plan.filter((op) => op.family === tb.family && "chain" in op && op.chain === cb.name)).toEqual([]);
            }
          }
          for (const mb of tb.maps) {
            const ma = ta.maps.find((m) => m.name === mb.name) as IrMap;
            const before = new Map(ma.elements);
            const after = new Map(mb.elements);
            const changed = [...after].filter(([k, v]) => before.has(k) && before.get(k) !== v).map(([k]) => k);
            const added = plan.flatMap((op) => (op.op === "add element" && op.family === tb.family && op.map === mb.name ? op.elements.map(([k]) => k) : []));
            const deleted = plan.flatMap((op) => (op.op === "delete element" && op.family === tb.family && op.map === mb.name ? op.keys : []));
            expect(new Set(added)).toEqual(new Set([...[...after.keys()].filter((k) => !before.has(k)), ...changed]));
            expect(new Set(deleted)).toEqual(new Set([...[...before.keys()].filter((k) => !after.has(k)), ...changed]));
          }
        }
      }),
      { numRuns: 400 },
    );
    expect(ops).toBeGreaterThan(400);
  });
});

describe("planDelta at scale", () => {
  const farms = (weightOf: (i: number) => number, stateOf: (i: number) => string = () => "up"): Raw[] =>
    Array.from({ length: 1000 }, (_, i) => ({
      name: `f${i}`,
      "virtual-addr": `198.18.${4 + Math.floor(i / 250)}.${(i % 250) + 1}`,
      "virtual-ports": i % 3 === 0 ? "80,443" : i % 3 === 1 ? "8000-8100" : "",
      scheduler: "weight",
      backends: [bk("a", "198.18.2.1", { port: 8080, weight: weightOf(i) }), bk("b", "198.18.2.2", { port: 8080, state: stateOf(i) })],
    }));
  const A = build(farms(() => 3));

  it("one backend's weight in a 1,000-farm config: one flush and that scheduler chain's rules, whichever the farm", () => {
    for (const changed of [0, 1, 2, 499, 999]) {
      const B = build(farms((i) => (i === changed ? 7 : 3)));
      const started = performance.now();
      const ops = planDelta(A, B, T);
      expect(performance.now() - started).toBeLessThan(1000);
      const name = `sched-f${changed}-4`;
      expect(ops.every((op) => "chain" in op && op.chain === name)).toBe(true);
      expect(ops[0]).toEqual({ op: "flush chain", family: "inet", table: T, chain: name });
      expect(ops.slice(1).map((op) => (op.op === "add rule" ? op.rule : op.op))).toEqual(chain(B, name).rules);
      expect(ops).toHaveLength(4); // flush + draw + one id per slot range (weights 7:1 -> 2 ranges)
      expect(fakeApply(A, ops)).toEqual(normalizeIr(B));
    }
  });

  it("one backend down in a 1,000-farm config: two operations", () => {
    const B = build(farms(() => 3, (i) => (i === 500 ? "down" : "up")));
    expect(renderOps(planDelta(A, B, T))).toBe(
      "flush chain inet switchyard sched-f500-4\nadd rule inet switchyard sched-f500-4 ct mark set numgen random mod 1 offset 0xc0000000\n",
    );
  });

  it("adding one farm to 1,000: a few operations, and nothing for the others", () => {
    const B = build([...farms(() => 3), { name: "new", "virtual-addr": "198.18.9.1", "virtual-ports": "80", backends: [bk("a", "198.18.2.1")] }]);
    const ops = planDelta(A, B, T);
    expect(ops.map((op) => op.op)).toEqual(["add counter", "add chain", "add chain", "add element", "add element", "add rule", "add rule", "add rule", "add rule"]);
  });
});

describe("planDelta: named counters", () => {
  const at = { family: "inet", table: T } as const;
  const ir = (counters: string[] | undefined, rules: string[]): IrRuleset => ({
    tables: [{ family: "inet", name: T, maps: [], chains: [{ name: "farm-web-4", rules }], ...(counters ? { counters } : {}) }],
  });

  it("a counter is added before the rule that names it", () => {
    const ops = planDelta(ir(undefined, ["drop"]), ir(["c/web/a"], ["counter name c/web/a drop"]), T);
    expect(ops).toEqual([
      { op: "add counter", ...at, counter: "c/web/a" },
      { op: "flush chain", ...at, chain: "farm-web-4" },
      { op: "add rule", ...at, chain: "farm-web-4", rule: "counter name c/web/a drop" },
    ]);
    expect(fakeApply(ir(undefined, ["drop"]), ops)).toEqual(normalizeIr(ir(["c/web/a"], ["counter name c/web/a drop"])));
  });

  it("a counter is deleted after the chain whose rules name it is flushed, even when those rules do not change otherwise", () => {
    const from = ir(["c/web/a", "c/web/b"], ["counter name c/web/b drop"]);
    const to = ir(["c/web/a"], ["drop"]);
    expect(renderOps(planDelta(from, to, T)).split("\n").filter((l) => l !== "")).toEqual([
      "flush chain inet switchyard farm-web-4",
      "delete counter inet switchyard c/web/b",
      "add rule inet switchyard farm-web-4 drop",
    ]);
    expect(fakeApply(from, planDelta(from, to, T))).toEqual(normalizeIr(to));
  });

  it("counters that stay are never touched: a refill keeps them", () => {
    const from = build([web()]);
    const to = build([web({ backends: [bk("a", "198.18.2.11", { port: 8080, weight: 9 }), bk("b", "198.18.2.12", { port: 8080 })] })]);
    const ops = planDelta(from, to, T);
    expect(ops.some((op) => op.op === "add counter" || op.op === "delete counter")).toBe(false);
    expect(ops.map((op) => op.op)).toEqual(["flush chain", "add rule", "add rule", "add rule"]);
  });

  it("a down backend keeps its counter (it comes back with its count)", () => {
    const B = build([web({ backends: [bk("a", "198.18.2.11", { port: 8080 }), bk("b", "198.18.2.12", { port: 8080, state: "down" })] })]);
    expect(table(B).counters).toEqual(["c/web/a", "c/web/b"]);
    expect(planDelta(build([web()]), B, T).some((op) => op.op.endsWith("counter"))).toBe(false);
  });

  it("from nothing: counters come before any rule and any element that names them", () => {
    const ops = planDelta(null, build([web()]), T);
    const firstRule = ops.findIndex((op) => op.op === "add rule");
    const counters = ops.flatMap((op, i) => (op.op === "add counter" ? [i] : []));
    const firstElement = ops.findIndex((op) => op.op === "add element");
    expect(counters).toHaveLength(2);
    expect(Math.max(...counters)).toBeLessThan(firstRule);
    expect(Math.max(...counters)).toBeLessThan(firstElement);
  });

  it("renders add and delete counter, and refuses a name that is not one", () => {
    expect(renderOps([{ op: "add counter", ...at, counter: "c/web/a" }, { op: "delete counter", ...at, counter: "c/web/a" }])).toBe(
      "add counter inet switchyard c/web/a\ndelete counter inet switchyard c/web/a\n",
    );
    expect(() => renderOps([{ op: "add counter", ...at, counter: "x; flush ruleset" }])).toThrow(/is not a counter name/);
    expect(() => renderOps([{ op: "delete counter", ...at, counter: "table" }])).toThrow(/is not a counter name/);
  });

  it("a counted set: declared with its counter flag, its elements added as keys alone (their names stay in the IR)", () => {
    const key = "ipv4_addr . ipv4_addr";
    const set: IrMap = { name: "traffic4-addr", key, interval: false, value: "counted", elements: [["198.18.1.1 . 198.18.2.1", "t/web/a"]] };
    const ops = planDelta(null, { tables: [{ family: "inet", name: T, maps: [set], chains: [] }] }, T);
    expect(renderOps(ops)).toContain(
      ["add table inet switchyard", "add set inet switchyard traffic4-addr { type ipv4_addr . ipv4_addr; counter; }", "add element inet switchyard traffic4-addr { 198.18.1.1 . 198.18.2.1 }", ""].join("\n"),
    );
    const ranges: IrMap = { ...set, name: "r", interval: true, elements: [] };
    expect(renderOps(planDelta(null, { tables: [{ family: "inet", name: T, maps: [ranges], chains: [] }] }, T))).toContain("add set inet switchyard r { type ipv4_addr . ipv4_addr; flags interval; counter; }");
  });
});
