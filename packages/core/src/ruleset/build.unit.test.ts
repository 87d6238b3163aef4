import { describe, expect, it } from "vitest";
import { parseConfig } from "../nftlb/codec.ts";
import { ConfigError } from "../model/issues.ts";
import { backendCounterName, backendTrafficCounterName, parseCounterName } from "./counters.ts";
import fc from "fast-check";
import { MAX_BACKENDS, MAX_WEIGHT } from "../model/farm.ts";
import { activeBackends, slotMap } from "../scheduler/slots.ts";
import { BACKEND_ID, buildRuleset, DEFAULT_TABLE, SNAT_FLAG, type BuildOptions } from "./build.ts";
import { configPairs, TEST_FACTS } from "./fake-nft.ts";
import { neededFacts, NO_FACTS, type Facts } from "./facts.ts";
import { IrRulesetSchema, type IrChain, type IrMap, type IrRuleset, type TableFamily } from "./ir.ts";
import { renderRuleset } from "./render.ts";

type Raw = Record<string, unknown>;

const VIP = "198.18.1.100";
const farm = (extra: Raw = {}): Raw => ({ name: "web", "virtual-addr": VIP, "virtual-ports": "80", ...extra });
const bk = (name: string, ip: string, extra: Raw = {}): Raw => ({ name, "ip-addr": ip, ...extra });
const two = [bk("b1", "198.18.2.11", { port: "8080" }), bk("b2", "198.18.2.12", { port: "8080" })];

function build(farms: Raw[], options?: BuildOptions): IrRuleset {
  return buildRuleset(parseConfig({ farms }), options);
}

function table(ir: IrRuleset, family: TableFamily) {
  const found = ir.tables.find((t) => t.family === family);
  if (!found) throw new Error(`no ${family} table in ${JSON.stringify(ir.tables.map((t) => t.family))}`);
  return found;
}

function chain(ir: IrRuleset, name: string, family: TableFamily = "inet"): IrChain {
  const found = table(ir, family).chains.find((c) => c.name === name);
  if (!found) throw new Error(`no chain ${name} in ${family}: ${table(ir, family).chains.map((c) => c.name).join(", ")}`);
  return found;
}

function map(ir: IrRuleset, name: string, family: TableFamily = "inet"): IrMap {
  const found = table(ir, family).maps.find((m) => m.name === name);
  if (!found) throw new Error(`no map ${name} in ${family}`);
  return found;
}

const chainNames = (ir: IrRuleset, family: TableFamily = "inet") => table(ir, family).chains.map((c) => c.name);
/** The service maps' elements (the traffic maps' are counters: see "traffic counters"). */
const allElements = (ir: IrRuleset) => ir.tables.flatMap((t) => t.maps.filter((m) => m.value !== "counted").flatMap((m) => m.elements));

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("determinism", () => {
  const farms = [
    farm({ scheduler: "weight", backends: [bk("b1", "198.18.2.11", { weight: 3 }), bk("b2", "198.18.2.12")] }),
    farm({ name: "dns", family: "dual", "virtual-addr6": "2001:db8:1::100", "virtual-ports": "53", protocol: "udp", scheduler: "hash" }),
  ];

  it("builds the same IR and the same bytes twice from one model", () => {
    const config = parseConfig({ farms });
    const first = buildRuleset(config);
    const second = buildRuleset(config);
    expect(second).toEqual(first);
    expect(renderRuleset(second)).toBe(renderRuleset(first));
  });

  it("builds the same bytes from two parses of one config, whatever the spelling", () => {
    const respelled = [
      farm({ scheduler: "weight", backends: [bk("b1", "198.18.2.11", { weight: "3" }), bk("b2", "198.18.2.12", { weight: "1" })] }),
      farm({ name: "dns", family: "dual", "virtual-addr6": "2001:DB8:1:0:0:0:0:100", "virtual-ports": 53, protocol: "udp", scheduler: "hash" }),
    ];
    expect(renderRuleset(build(respelled))).toBe(renderRuleset(build(farms)));
  });

  it("does not mutate the model", () => {
    const config = parseConfig({ farms });
    const copy = structuredClone(config);
    buildRuleset(config);
    expect(config).toEqual(copy);
  });

  it("produces an IR that the IR schema accepts", () => {
    expect(IrRulesetSchema.safeParse(build(farms)).success).toBe(true);
  });
});

describe("tables and hooks", () => {
  it("puts NAT farms in one inet table with nat prerouting and postrouting hooks", () => {
    const ir = build([farm({ backends: two })]);
    expect(ir.tables.map((t) => [t.family, t.name])).toEqual([["inet", DEFAULT_TABLE]]);
    expect(chain(ir, "prerouting").hook).toEqual({ type: "nat", hook: "prerouting", priority: -100 });
    expect(chain(ir, "postrouting").hook).toEqual({ type: "nat", hook: "postrouting", priority: 100 });
    expect(chain(ir, "postrouting").rules).toEqual(["ct mark and 0x80000000 == 0x80000000 masquerade"]);
    expect(SNAT_FLAG).toBe(0x80000000);
  });

  it("uses the table name it is given", () => {
    expect(build([farm()], { table: "lb2" }).tables.map((t) => t.name)).toEqual(["lb2"]);
  });

  it("looks services up from the most to the least specific map, per family", () => {
    expect(chain(build([]), "prerouting").rules).toEqual([
      "meta nfproto ipv4 meta l4proto . ip daddr . th dport vmap @svc4-ports",
      "meta nfproto ipv4 meta l4proto . ip daddr . th dport vmap @svc4-ranges",
      "meta nfproto ipv4 meta l4proto . ip daddr vmap @svc4-proto",
      "meta nfproto ipv4 ip daddr vmap @svc4-addr",
      "meta nfproto ipv6 meta l4proto . ip6 daddr . th dport vmap @svc6-ports",
      "meta nfproto ipv6 meta l4proto . ip6 daddr . th dport vmap @svc6-ranges",
      "meta nfproto ipv6 meta l4proto . ip6 daddr vmap @svc6-proto",
      "meta nfproto ipv6 ip6 daddr vmap @svc6-addr",
    ]);
  });

  it("declares the service maps with their key types, the range map as interval", () => {
    const ir = build([]);
    const t4 = "ipv4_addr . inet_proto . inet_service . ipv4_addr . inet_service";
    const t6 = "ipv6_addr . inet_proto . inet_service . ipv6_addr . inet_service";
    expect(table(ir, "inet").maps.map((m) => [m.name, m.key, m.interval, m.value])).toEqual([
      ["svc4-ports", "inet_proto . ipv4_addr . inet_service", false, undefined],
      ["svc4-ranges", "inet_proto . ipv4_addr . inet_service", true, undefined],
      ["svc4-proto", "inet_proto . ipv4_addr", false, undefined],
      ["svc4-addr", "ipv4_addr", false, undefined],
      ["svc6-ports", "inet_proto . ipv6_addr . inet_service", false, undefined],
      ["svc6-ranges", "inet_proto . ipv6_addr . inet_service", true, undefined],
      ["svc6-proto", "inet_proto . ipv6_addr", false, undefined],
      ["svc6-addr", "ipv6_addr", false, undefined],
      ["traffic4-ports", t4, false, "counted"],
      ["traffic4-ranges", t4, true, "counted"],
      ["traffic4-proto", t4, true, "counted"],
      ["traffic4-addr", "ipv4_addr . ipv4_addr", false, "counted"],
      ["traffic6-ports", t6, false, "counted"],
      ["traffic6-ranges", t6, true, "counted"],
      ["traffic6-proto", t6, true, "counted"],
      ["traffic6-addr", "ipv6_addr . ipv6_addr", false, "counted"],
    ]);
    expect(allElements(ir)).toEqual([]);
  });
});

describe("service map elements", () => {
  it("one verdict map element per port", () => {
    const ir = build([farm({ "virtual-ports": "443,80", backends: two })]);
    expect(map(ir, "svc4-ports").elements).toEqual([
      [`tcp . ${VIP} . 80`, "goto farm-web-4"],
      [`tcp . ${VIP} . 443`, "goto farm-web-4"],
    ]);
    expect(map(ir, "svc4-ranges").elements).toEqual([]);
  });

  it("ranges go to the interval map, single ports beside them to the exact map", () => {
    const ir = build([farm({ "virtual-ports": "80,8000-8100", protocol: "udp", backends: two })]);
    expect(map(ir, "svc4-ports").elements).toEqual([[`udp . ${VIP} . 80`, "goto farm-web-4"]]);
    expect(map(ir, "svc4-ranges").elements).toEqual([[`udp . ${VIP} . 8000-8100`, "goto farm-web-4"]]);
  });

  it("empty ports (every port) go to the protocol map", () => {
    const ir = build([farm({ "virtual-ports": "", protocol: "sctp", backends: two })]);
    expect(map(ir, "svc4-proto").elements).toEqual([[`sctp . ${VIP}`, "goto farm-web-4"]]);
    expect(allElements(ir)).toHaveLength(1);
  });

  it("protocol all goes to the address map", () => {
    const ir = build([farm({ "virtual-ports": "", protocol: "all", backends: [bk("b1", "198.18.2.11")] })]);
    expect(map(ir, "svc4-addr").elements).toEqual([[VIP, "goto farm-web-4"]]);
    expect(allElements(ir)).toHaveLength(1);
  });

  it("IPv6 services go to the ipv6 maps, in canonical text", () => {
    const ir = build([farm({ family: "ipv6", "virtual-addr": "2001:DB8:1:0::100", backends: [bk("b1", "2001:db8:2::11")] })]);
    expect(map(ir, "svc6-ports").elements).toEqual([["tcp . 2001:db8:1::100 . 80", "goto farm-web-6"]]);
    expect(map(ir, "svc4-ports").elements).toEqual([]);
  });

  it("a farm that is down or off has no map element and no chain", () => {
    for (const state of ["down", "off"]) {
      const ir = build([farm({ state, backends: two }), farm({ name: "api", "virtual-ports": "443", backends: two })]);
      expect(allElements(ir), state).toEqual([[`tcp . ${VIP} . 443`, "goto farm-api-4"]]);
      expect(chainNames(ir), state).toEqual(["prerouting", "postrouting", "traffic", "sched-api-4", "farm-api-4"]);
    }
  });
});

describe("traffic counters", () => {
  const elementsOf = (ir: IrRuleset, name: string) => map(ir, name).elements;

  it("a forward chain counts balanced connections only, in the service maps' order, family by family", () => {
    const traffic = chain(build([]), "traffic");
    expect(traffic.hook).toEqual({ type: "filter", hook: "forward", priority: 0 });
    const key4 = "ct original ip daddr . ct original protocol . ct original proto-dst . ct reply ip saddr . ct reply proto-src";
    const key6 = "ct original ip6 daddr . ct original protocol . ct original proto-dst . ct reply ip6 saddr . ct reply proto-src";
    const lookups = (key: string, ip: 4 | 6) => [
      ...["ports", "ranges", "proto"].flatMap((m) => ["tcp", "udp", "sctp"].map((p) => `meta l4proto ${p} ${key} @traffic${ip}-${m} accept`)),
      `ct original ip${ip === 4 ? "" : "6"} daddr . ct reply ip${ip === 4 ? "" : "6"} saddr @traffic${ip}-addr accept`,
    ];
    expect(traffic.rules).toEqual(["ct status and dnat == 0 accept", ...lookups(key4, 4), ...lookups(key6, 6)]);
  });

  it("keys each backend by the virtual address, protocol and port and the real backend, whatever its state", () => {
    const ir = build([farm({ "virtual-ports": "80,8000-8100", backends: [bk("b1", "198.18.2.11", { port: "8080" }), bk("b2", "198.18.2.12", { state: "down" })] })]);
    expect(elementsOf(ir, "traffic4-ports")).toEqual([
      [`${VIP} . tcp . 80 . 198.18.2.11 . 8080`, "t/web/b1"],
      [`${VIP} . tcp . 80 . 198.18.2.12 . 80`, "t/web/b2"],
    ]);
    expect(elementsOf(ir, "traffic4-ranges")).toEqual([
      [`${VIP} . tcp . 8000-8100 . 198.18.2.11 . 8080`, "t/web/b1"],
      [`${VIP} . tcp . 8000-8100 . 198.18.2.12 . 8000-8100`, "t/web/b2"],
    ]);
  });

  it("every port goes to the proto map as 0-65535, every protocol to the address map without ports", () => {
    const ir = build([
      farm({ "virtual-ports": "", protocol: "udp", backends: [bk("b1", "198.18.2.11"), bk("b2", "198.18.2.12", { port: "53" })] }),
      farm({ name: "all", "virtual-addr": "198.18.1.101", "virtual-ports": "", protocol: "all", backends: [bk("b1", "198.18.2.11")] }),
    ]);
    expect(elementsOf(ir, "traffic4-proto")).toEqual([
      [`${VIP} . udp . 0-65535 . 198.18.2.11 . 0-65535`, "t/web/b1"],
      [`${VIP} . udp . 0-65535 . 198.18.2.12 . 53`, "t/web/b2"],
    ]);
    expect(elementsOf(ir, "traffic4-addr")).toEqual([["198.18.1.101 . 198.18.2.11", "t/all/b1"]]);
  });

  it("a dual farm's backends go to their family's map; dsr and down farms have none", () => {
    const ir = build([
      farm({ family: "dual", "virtual-addr6": "2001:db8:1::100", backends: [bk("b4", "198.18.2.11"), bk("b6", "2001:db8:2::11", { port: "8080" })] }),
      farm({ name: "off", "virtual-ports": "81", state: "down", backends: [bk("b1", "198.18.2.11")] }),
    ]);
    expect(elementsOf(ir, "traffic4-ports")).toEqual([[`${VIP} . tcp . 80 . 198.18.2.11 . 80`, "t/web/b4"]]);
    expect(elementsOf(ir, "traffic6-ports")).toEqual([["2001:db8:1::100 . tcp . 80 . 2001:db8:2::11 . 8080", "t/web/b6"]]);
  });

  it("backends of one farm at one address whose ports overlap share the first one's element (one reply tuple)", () => {
    const ir = build([
      farm({
        "virtual-ports": "80,8000-8100",
        backends: [bk("b1", "198.18.2.11"), bk("b2", "198.18.2.11", { port: "8050" }), bk("b3", "198.18.2.11", { port: "80" }), bk("b4", "198.18.2.11", { port: "9000" })],
      }),
    ]);
    expect(elementsOf(ir, "traffic4-ports")).toEqual([
      [`${VIP} . tcp . 80 . 198.18.2.11 . 80`, "t/web/b1"],
      [`${VIP} . tcp . 80 . 198.18.2.11 . 8050`, "t/web/b2"],
      [`${VIP} . tcp . 80 . 198.18.2.11 . 9000`, "t/web/b4"],
    ]);
    expect(elementsOf(ir, "traffic4-ranges")).toEqual([
      [`${VIP} . tcp . 8000-8100 . 198.18.2.11 . 8000-8100`, "t/web/b1"],
      [`${VIP} . tcp . 8000-8100 . 198.18.2.11 . 80`, "t/web/b3"],
      [`${VIP} . tcp . 8000-8100 . 198.18.2.11 . 9000`, "t/web/b4"],
    ]);
  });

  it("a backend's state or weight changes no element, and the same farm object gives the same elements", () => {
    const before = build([farm({ backends: two })]);
    const after = build([farm({ backends: [two[0] as Raw, { ...(two[1] as Raw), state: "down", weight: 5 }] })]);
    for (const name of ["traffic4-ports", "traffic4-ranges"]) expect(elementsOf(after, name)).toEqual(elementsOf(before, name));
  });
});

describe("named counters", () => {
  it("one per backend of each NAT farm, whatever the backend's state, named c/FARM/BACKEND (traffic counts in the traffic sets' elements)", () => {
    const ir = build([
      farm({ backends: [bk("b1", "198.18.2.11"), bk("b2", "198.18.2.12", { state: "down" })] }),
      farm({ name: "dns", "virtual-ports": "53", protocol: "udp", backends: [bk("x-1.y", "198.18.2.21")] }),
    ]);
    expect(ir.tables[0]?.counters).toEqual(["c/web/b1", "c/web/b2", "c/dns/x-1.y"]);
    expect(map(ir, "traffic4-ports").elements.map(([, name]) => name)).toEqual(["t/web/b1", "t/web/b2", "t/dns/x-1.y"]);
    expect(chain(ir, "farm-dns-4").rules).toEqual(["jump sched-dns-4", "ct mark 0xc0000000 counter name c/dns/x-1.y dnat ip to 198.18.2.21", "drop"]);
  });

  it("none for farms that are down, none in the dsr table, and no counters key when there are none", () => {
    expect(build([farm({ state: "down", backends: [bk("b1", "198.18.2.11")] })]).tables[0]).not.toHaveProperty("counters");
    expect(build([farm({ backends: [] })]).tables[0]).not.toHaveProperty("counters");
  });

  it("the kind, farm and backend come back out of the name", () => {
    expect(parseCounterName(backendCounterName("web.v2-a", "b_1.x-y"))).toEqual({ kind: "connections", farm: "web.v2-a", backend: "b_1.x-y" });
    expect(parseCounterName(backendTrafficCounterName("web.v2-a", "b_1.x-y"))).toEqual({ kind: "traffic", farm: "web.v2-a", backend: "b_1.x-y" });
    for (const other of ["c/web", "c/web/b/x", "d/web/b", "c//b", "c/web/", "farm-web-4", "c/we b/x", "t/web", "T/web/b"]) expect(parseCounterName(other), other).toBeNull();
  });
});

describe("farm chains (NAT)", () => {
  const sched = (ir: IrRuleset, name = "web-4") => chain(ir, `sched-${name}`).rules;
  const farmChain = (ir: IrRuleset, name = "web-4") => chain(ir, `farm-${name}`).rules;

  it("snat: the scheduler chain draws a backend id, flagged; the farm chain jumps to it, then dnats by id", () => {
    const ir = build([farm({ backends: two })]);
    expect(chainNames(ir)).toEqual(["prerouting", "postrouting", "traffic", "sched-web-4", "farm-web-4"]);
    expect(sched(ir)).toEqual(["ct mark set numgen inc mod 2 offset 0xc0000000"]);
    expect(farmChain(ir)).toEqual([
      "jump sched-web-4",
      "ct mark 0xc0000000 meta l4proto tcp counter name c/web/b1 dnat ip to 198.18.2.11:8080",
      "ct mark 0xc0000001 meta l4proto tcp counter name c/web/b2 dnat ip to 198.18.2.12:8080",
      "drop",
    ]);
    expect(SNAT_FLAG | BACKEND_ID).toBe(0xc0000000 | 0);
  });

  it("dnat: the ids without the flag", () => {
    const ir = build([farm({ mode: "dnat", backends: two })]);
    expect(sched(ir)).toEqual(["ct mark set numgen inc mod 2 offset 0x40000000"]);
    expect(farmChain(ir).slice(1, 3)).toEqual([
      "ct mark 0x40000000 meta l4proto tcp counter name c/web/b1 dnat ip to 198.18.2.11:8080",
      "ct mark 0x40000001 meta l4proto tcp counter name c/web/b2 dnat ip to 198.18.2.12:8080",
    ]);
  });

  it("one backend: a draw of one value (numgen mod 1), never an immediate value, which would make the kernel validate the table", () => {
    expect(sched(build([farm({ backends: [two[0]!] })]))).toEqual(["ct mark set numgen random mod 1 offset 0xc0000000"]);
    expect(sched(build([farm({ mode: "dnat", scheduler: "hash", backends: [two[0]!] })]))).toEqual(["ct mark set numgen random mod 1 offset 0x40000000"]);
  });

  it("rr: numgen inc mod N, weights ignored", () => {
    const ir = build([farm({ mode: "dnat", scheduler: "rr", backends: [bk("b1", "198.18.2.11", { weight: 5 }), bk("b2", "198.18.2.12"), bk("b3", "198.18.2.13")] })]);
    expect(sched(ir)).toEqual(["ct mark set numgen inc mod 3 offset 0x40000000"]);
    expect(farmChain(ir).slice(1, -1).map((r) => r.split(" ")[2])).toEqual(["0x40000000", "0x40000001", "0x40000002"]);
  });

  it("weight: numgen random mod SUM into draws, each backend's range of draws turned into its id", () => {
    const ir = build([farm({ scheduler: "weight", backends: [bk("b1", "198.18.2.11", { weight: 2 }), bk("b2", "198.18.2.12"), bk("b3", "198.18.2.13")] })]);
    expect(sched(ir)).toEqual([
      "ct mark set numgen random mod 4 offset 0x80000000",
      "ct mark 0x80000000-0x80000001 ct mark set numgen random mod 1 offset 0xc0000000",
      "ct mark 0x80000002 ct mark set numgen random mod 1 offset 0xc0000001",
      "ct mark 0x80000003 ct mark set numgen random mod 1 offset 0xc0000002",
    ]);
    expect(farmChain(ir)).toEqual([
      "jump sched-web-4",
      "ct mark 0xc0000000 counter name c/web/b1 dnat ip to 198.18.2.11",
      "ct mark 0xc0000001 counter name c/web/b2 dnat ip to 198.18.2.12",
      "ct mark 0xc0000002 counter name c/web/b3 dnat ip to 198.18.2.13",
      "drop",
    ]);
  });

  it("weight: weights with a common divisor give the reduced modulus", () => {
    const ir = build([farm({ mode: "dnat", scheduler: "weight", backends: [bk("b1", "198.18.2.11", { weight: 30 }), bk("b2", "198.18.2.12", { weight: 20 })] })]);
    expect(sched(ir)).toEqual([
      "ct mark set numgen random mod 5",
      "ct mark 0x00000000-0x00000002 ct mark set numgen random mod 1 offset 0x40000000",
      "ct mark 0x00000003-0x00000004 ct mark set numgen random mod 1 offset 0x40000001",
    ]);
  });

  it("hash: jhash of the source address by default, mod the weight sum, with a stable per-farm seed", () => {
    const rules = sched(build([farm({ mode: "dnat", scheduler: "hash", backends: two })]));
    expect(rules[0]).toMatch(/^ct mark set jhash ip saddr mod 2 seed 0x[0-9a-f]{8} offset 0x40000000$/);
    const seed = rules[0]!.split(" seed ")[1];
    // The seed depends on the farm name only: same name, same seed; another name, another seed.
    const again = sched(build([farm({ mode: "dnat", scheduler: "hash", "virtual-ports": "81", backends: two })]))[0];
    expect(again!.split(" seed ")[1]).toBe(seed);
    const other = sched(build([farm({ name: "api", mode: "dnat", scheduler: "hash", backends: two })]), "api-4")[0];
    expect(other!.split(" seed ")[1]).not.toBe(seed);
  });

  it("hash: the sched-param fields, in nftlb's order, concatenated", () => {
    const first = (extra: Raw) => sched(build([farm({ mode: "dnat", scheduler: "hash", backends: two, ...extra })]))[0];
    expect(first({ "sched-param": "srcip srcport" })).toMatch(/^ct mark set jhash ip saddr \. th sport mod 2 seed /);
    expect(first({ "sched-param": "dstport dstip" })).toMatch(/^ct mark set jhash ip daddr \. th dport mod 2 seed /);
    expect(first({ "sched-param": "srcmac" })).toMatch(/^ct mark set jhash ether saddr mod 2 seed /);
    expect(first({ "sched-param": "dstmac" })).toMatch(/^ct mark set jhash ether daddr mod 2 seed /);
  });

  it("hash: weights size the ranges", () => {
    const rules = sched(build([farm({ mode: "dnat", scheduler: "hash", backends: [bk("b1", "198.18.2.11", { weight: 3 }), bk("b2", "198.18.2.12")] })]));
    expect(rules[0]).toMatch(/ mod 4 seed 0x[0-9a-f]{8}$/);
    expect(rules.slice(1)).toEqual([
      "ct mark 0x00000000-0x00000002 ct mark set numgen random mod 1 offset 0x40000000",
      "ct mark 0x00000003 ct mark set numgen random mod 1 offset 0x40000001",
    ]);
  });

  it("symhash: symhash mod N", () => {
    expect(sched(build([farm({ scheduler: "symhash", backends: two })]))).toEqual(["ct mark set symhash mod 2 offset 0xc0000000"]);
  });

  it("no available backend: a mark that is no backend's id, and the farm chain's last rule drops", () => {
    expect(sched(build([farm()]))).toEqual(["ct mark set numgen random mod 1 offset 0x80000000"]);
    expect(sched(build([farm({ mode: "dnat" })]))).toEqual(["ct mark set numgen random mod 1 offset 0x00000000"]);
    expect(farmChain(build([farm()]))).toEqual(["jump sched-web-4", "drop"]);
    const allDown = [bk("b1", "198.18.2.11", { state: "down" }), bk("b2", "198.18.2.12", { state: "off" })];
    expect(sched(build([farm({ backends: allDown })]))).toEqual(["ct mark set numgen random mod 1 offset 0x80000000"]);
    expect(farmChain(build([farm({ backends: allDown })]))).toHaveLength(4);
    // The service stays in the map, so that its traffic is dropped rather than let through.
    expect(map(build([farm({ backends: allDown })]), "svc4-ports").elements).toHaveLength(1);
  });

  it("a backend's state, weight or priority changes the scheduler chain only", () => {
    const backends = (state: string, weight: number, priority: number) => [bk("b1", "198.18.2.11", { state, weight, priority }), bk("b2", "198.18.2.12"), bk("b3", "198.18.2.13")];
    const base = build([farm({ scheduler: "weight", backends: backends("up", 1, 1) })]);
    for (const [state, weight, priority] of [["down", 1, 1], ["off", 1, 1], ["up", 7, 1], ["up", 1, 2]] as const) {
      const next = build([farm({ scheduler: "weight", backends: backends(state, weight, priority) })]);
      expect(farmChain(next), `${state} ${weight} ${priority}`).toEqual(farmChain(base));
      expect(sched(next), `${state} ${weight} ${priority}`).not.toEqual(sched(base));
    }
  });

  it("only the active priority group takes part; the next one takes over when it is down", () => {
    const backends = (firstState: string) => [
      bk("b1", "198.18.2.11", { priority: 1, state: firstState }),
      bk("b2", "198.18.2.12", { priority: 2 }),
      bk("b3", "198.18.2.13", { priority: 2 }),
    ];
    expect(sched(build([farm({ mode: "dnat", backends: backends("up") })]))).toEqual(["ct mark set numgen random mod 1 offset 0x40000000"]);
    // b2 and b3 are next to each other: the draw lands on their ids directly.
    expect(sched(build([farm({ mode: "dnat", backends: backends("down") })]))).toEqual(["ct mark set numgen inc mod 2 offset 0x40000001"]);
    // Farm priority 2: groups 1 and 2 work together.
    expect(sched(build([farm({ mode: "dnat", priority: 2, backends: backends("up") })]))).toEqual(["ct mark set numgen inc mod 3 offset 0x40000000"]);
  });

  it("backends that are not next to each other: draws turned into their ids one by one", () => {
    const backends = [bk("b1", "198.18.2.11"), bk("b2", "198.18.2.12", { state: "down" }), bk("b3", "198.18.2.13")];
    expect(sched(build([farm({ mode: "dnat", backends })]))).toEqual([
      "ct mark set numgen inc mod 2",
      "ct mark 0x00000000 ct mark set numgen random mod 1 offset 0x40000000",
      "ct mark 0x00000001 ct mark set numgen random mod 1 offset 0x40000002",
    ]);
  });

  it("draws never reach the id bit, so a range rule never matches an id set by a rule before it", () => {
    expect(MAX_BACKENDS * MAX_WEIGHT).toBeLessThan(BACKEND_ID);
  });

  it("an empty backend port keeps the destination port: dnat to the address alone, no l4proto", () => {
    expect(farmChain(build([farm({ backends: [bk("b1", "198.18.2.11")] })]))[1]).toBe("ct mark 0xc0000000 counter name c/web/b1 dnat ip to 198.18.2.11");
  });

  it("the l4proto match before a port names the farm's protocol", () => {
    expect(farmChain(build([farm({ protocol: "udp", backends: [bk("b1", "198.18.2.11", { port: "53" })] })]))[1]).toBe(
      "ct mark 0xc0000000 meta l4proto udp counter name c/web/b1 dnat ip to 198.18.2.11:53",
    );
  });

  it("IPv6: dnat ip6 to [addr]:port, or the bare address without a port", () => {
    const ir = build([
      farm({
        family: "ipv6",
        "virtual-addr": "2001:db8:1::100",
        mode: "dnat",
        backends: [bk("b1", "2001:DB8:2::11", { port: "8080" }), bk("b2", "2001:db8:2::12")],
      }),
    ]);
    expect(sched(ir, "web-6")).toEqual(["ct mark set numgen inc mod 2 offset 0x40000000"]);
    expect(farmChain(ir, "web-6")).toEqual([
      "jump sched-web-6",
      "ct mark 0x40000000 meta l4proto tcp counter name c/web/b1 dnat ip6 to [2001:db8:2::11]:8080",
      "ct mark 0x40000001 counter name c/web/b2 dnat ip6 to 2001:db8:2::12",
      "drop",
    ]);
  });

  it("dual: chains per family, each with the backends of its family only, ids by position within the family", () => {
    const ir = build([
      farm({
        family: "dual",
        "virtual-addr6": "2001:db8:1::100",
        mode: "dnat",
        backends: [bk("a", "198.18.2.11"), bk("a6", "2001:db8:2::11"), bk("b", "198.18.2.12"), bk("b6", "2001:db8:2::12", { port: "8080" })],
      }),
    ]);
    expect(chainNames(ir)).toEqual(["prerouting", "postrouting", "traffic", "sched-web-4", "farm-web-4", "sched-web-6", "farm-web-6"]);
    expect(sched(ir, "web-4")).toEqual(["ct mark set numgen inc mod 2 offset 0x40000000"]);
    expect(farmChain(ir, "web-4")).toEqual([
      "jump sched-web-4",
      "ct mark 0x40000000 counter name c/web/a dnat ip to 198.18.2.11",
      "ct mark 0x40000001 counter name c/web/b dnat ip to 198.18.2.12",
      "drop",
    ]);
    expect(farmChain(ir, "web-6")).toEqual([
      "jump sched-web-6",
      "ct mark 0x40000000 counter name c/web/a6 dnat ip6 to 2001:db8:2::11",
      "ct mark 0x40000001 meta l4proto tcp counter name c/web/b6 dnat ip6 to [2001:db8:2::12]:8080",
      "drop",
    ]);
    expect(map(ir, "svc4-ports").elements).toEqual([[`tcp . ${VIP} . 80`, "goto farm-web-4"]]);
    expect(map(ir, "svc6-ports").elements).toEqual([["tcp . 2001:db8:1::100 . 80", "goto farm-web-6"]]);
  });

  it("dual with backends of one family only: the other family drops", () => {
    const ir = build([farm({ family: "dual", "virtual-addr6": "2001:db8:1::100", backends: [bk("a", "198.18.2.11")] })]);
    expect(sched(ir, "web-6")).toEqual(["ct mark set numgen random mod 1 offset 0x80000000"]);
    expect(farmChain(ir, "web-6")).toEqual(["jump sched-web-6", "drop"]);
    expect(farmChain(ir, "web-4")).toEqual(["jump sched-web-4", "ct mark 0xc0000000 counter name c/web/a dnat ip to 198.18.2.11", "drop"]);
  });

  it("over random configs, every draw reaches the backend the slot map gives it, through both chains, whatever the mark before", () => {
    fc.assert(
      fc.property(configPairs, ({ a }) => {
        const ir = buildRuleset(a, { facts: TEST_FACTS });
        for (const f of a.farms.filter((x) => x.state === "up" && x.mode !== "dsr")) {
          for (const ip of [4, 6]) {
            const name = `${f.name}-${ip}`;
            if (!chainNames(ir).includes(`farm-${name}`)) continue;
            const family = f.backends.filter((b) => f.family !== "dual" || b["ip-addr"].includes(":") === (ip === 6));
            const active = activeBackends(family, f.priority);
            const { modulus, slots } = slotMap(active, f.scheduler);
            for (let draw = 0; draw < modulus; draw++) {
              const want = slots.find((s) => s.from <= draw && draw <= s.to)?.backend.name;
              for (const before of [0, BACKEND_ID | 1]) expect(chosen(sched(ir, name), farmChain(ir, name), draw, before), `${name} draw ${draw}`).toBe(want);
            }
            // Whatever mark the connection came with, no backend: drop.
            if (active.length === 0) for (const draw of [0, 1, BACKEND_ID, 0xc0000000]) expect(chosen(sched(ir, name), farmChain(ir, name), draw, draw)).toBe("drop");
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});

/**
 * What the two chains do with a new connection whose draw is `draw`: the backend whose dnat
 * rule matches (by its counter's name), or "drop". Reads the shapes the builder emits only.
 */
function chosen(schedRules: readonly string[], farmRules: readonly string[], draw: number, markBefore = 0): string {
  let mark = markBefore;
  for (const rule of schedRules) {
    const set = / ct mark set (?:numgen|jhash|symhash).* mod (\d+)(?: seed \S+)?(?: offset (0x[0-9a-f]+))?$/.exec(` ${rule}`);
    const match = /^ct mark (0x[0-9a-f]+)(?:-(0x[0-9a-f]+))? /.exec(rule);
    if (match) {
      const from = Number(match[1]);
      const to = Number(match[2] ?? match[1]);
      if (mark < from || mark > to) continue;
    }
    if (!set) throw new Error(`not a scheduler rule: ${rule}`);
    const offset = Number(set[2] ?? 0);
    mark = Number(set[1]) === 1 ? offset : offset + draw;
  }
  expect(farmRules[0]).toMatch(/^jump sched-/);
  for (const rule of farmRules.slice(1)) {
    if (rule === "drop") return "drop";
    const m = /^ct mark (0x[0-9a-f]+) .*counter name c\/[^/]+\/(\S+) dnat /.exec(rule);
    if (m === null) throw new Error(`not a farm chain rule: ${rule}`);
    if (Number(m[1]) === mark) return m[2] as string;
  }
  throw new Error("the farm chain does not end with drop");
}

describe("dsr", () => {
  const facts: Facts = {
    interfaces: { "eth-out": { mac: "02:00:00:00:01:02" }, "eth-in": { mac: "02:00:00:00:01:01" } },
    neighbours: { "198.18.2.11": "02:00:00:00:00:0a", "2001:db8:2::11": "02:00:00:00:00:1a" },
  };
  const dsr = (extra: Raw = {}) =>
    farm({
      mode: "dsr",
      iface: "eth-in",
      oface: "eth-out",
      backends: [bk("b1", "198.18.2.11"), bk("b2", "198.18.2.12", { "ether-addr": "02:00:00:00:00:0B" })],
      ...extra,
    });

  it("puts dsr farms in a netdev table with an ingress chain on iface, and none in inet", () => {
    const ir = build([dsr()], { facts });
    expect(ir.tables.map((t) => t.family)).toEqual(["inet", "netdev"]);
    expect(allElements({ tables: [table(ir, "inet")] })).toEqual([]);
    expect(chainNames(ir)).toEqual(["prerouting", "postrouting", "traffic"]);
    expect(table(ir, "inet").maps.flatMap((m) => m.elements)).toEqual([]);
    const ingress = chain(ir, "ingress-eth-in", "netdev");
    expect(ingress.hook).toEqual({ type: "filter", hook: "ingress", priority: 101, device: "eth-in" });
    expect(ingress.rules[0]).toBe("meta protocol ip meta l4proto . ip daddr . th dport vmap @svc4-ports-eth-in");
    expect(map(ir, "svc4-ports-eth-in", "netdev").elements).toEqual([[`tcp . ${VIP} . 80`, "goto farm-web-4"]]);
  });

  it("rewrites the MACs (source from the oface fact, backends from neighbours or ether-addr) and forwards to oface", () => {
    const rules = chain(build([dsr()], { facts }), "farm-web-4", "netdev").rules;
    expect(rules).toEqual([
      expect.stringMatching(/^meta mark set jhash ip saddr \. th sport mod 2 seed 0x[0-9a-f]{8}$/),
      'meta mark 0x00000000 ether saddr set 02:00:00:00:01:02 ether daddr set 02:00:00:00:00:0a fwd to "eth-out"',
      'meta mark 0x00000001 ether saddr set 02:00:00:00:01:02 ether daddr set 02:00:00:00:00:0b fwd to "eth-out"',
    ]);
  });

  it("a backend's ether-addr wins over the neighbour table", () => {
    const rules = chain(build([dsr({ backends: [bk("b1", "198.18.2.11", { "ether-addr": "02:00:00:00:00:99" })] })], { facts }), "farm-web-4", "netdev").rules;
    expect(rules).toEqual(['ether saddr set 02:00:00:00:01:02 ether daddr set 02:00:00:00:00:99 fwd to "eth-out"']);
  });

  it("the farm's ether-addr wins over the interface fact; without oface, frames leave by iface", () => {
    const rules = chain(build([dsr({ oface: undefined, "ether-addr": "02:00:00:00:09:09", backends: [bk("b1", "198.18.2.11")] })], { facts }), "farm-web-4", "netdev").rules;
    expect(rules).toEqual(['ether saddr set 02:00:00:00:09:09 ether daddr set 02:00:00:00:00:0a fwd to "eth-in"']);
  });

  it("hash and symhash keep their own expression; weight follows the weights", () => {
    expect(chain(build([dsr({ scheduler: "symhash" })], { facts }), "farm-web-4", "netdev").rules[0]).toBe("meta mark set symhash mod 2");
    expect(chain(build([dsr({ scheduler: "hash", "sched-param": "srcip dstport" })], { facts }), "farm-web-4", "netdev").rules[0]).toMatch(
      /^meta mark set jhash ip saddr \. th dport mod 2 seed /,
    );
    const weighted = chain(
      build([dsr({ scheduler: "weight", backends: [bk("b1", "198.18.2.11", { weight: 3 }), bk("b2", "198.18.2.12", { "ether-addr": "02:00:00:00:00:0b" })] })], { facts }),
      "farm-web-4",
      "netdev",
    ).rules;
    expect(weighted[0]).toMatch(/^meta mark set jhash ip saddr \. th sport mod 4 seed /);
    expect(weighted[1]).toMatch(/^meta mark 0x00000000-0x00000002 /);
  });

  it("IPv6 and dual dsr farms go to the ipv6 maps of the interface", () => {
    const ir = build(
      [dsr({ family: "dual", "virtual-addr6": "2001:db8:1::100", backends: [bk("b1", "198.18.2.11"), bk("c", "2001:db8:2::11")] })],
      { facts },
    );
    expect(map(ir, "svc6-ports-eth-in", "netdev").elements).toEqual([["tcp . 2001:db8:1::100 . 80", "goto farm-web-6"]]);
    expect(chain(ir, "farm-web-6", "netdev").rules).toEqual([
      'ether saddr set 02:00:00:00:01:02 ether daddr set 02:00:00:00:00:1a fwd to "eth-out"',
    ]);
  });

  it("one ingress chain per interface, in name order", () => {
    const ir = build([dsr({ name: "z", iface: "eth-z" }), dsr({ name: "a", iface: "eth-in", "virtual-ports": "81" })], { facts });
    expect(chainNames(ir, "netdev")).toEqual(["ingress-eth-in", "farm-a-4", "ingress-eth-z", "farm-z-4"]);
    expect(map(ir, "svc4-ports-eth-z", "netdev").elements).toEqual([[`tcp . ${VIP} . 80`, "goto farm-z-4"]]);
  });

  it("refuses to build when a backend's MAC is unknown, naming the farm and the backend", () => {
    const error = thrown(() => build([dsr({ backends: [bk("b9", "198.18.2.99")] })], { facts }));
    expect(error.issues).toEqual([
      {
        farm: "web",
        backend: "b9",
        field: "ether-addr",
        message: "MAC address of 198.18.2.99 unknown: not in the neighbour table of eth-out; set ether-addr or make the backend reachable",
      },
    ]);
    expect(error.message).toContain('farm "web", backend "b9", ether-addr: MAC address of 198.18.2.99 unknown');
  });

  it("refuses to build when the outgoing interface's MAC is unknown", () => {
    const error = thrown(() => build([dsr()], { facts: NO_FACTS }));
    expect(error.issues[0]).toEqual({
      farm: "web",
      field: "oface",
      value: "eth-out",
      message: "MAC address of this interface unknown on the host (no such interface?)",
    });
    // b1's MAC comes from the neighbour table, which is empty too; b2 has ether-addr.
    expect(error.issues.map((i) => i.backend)).toEqual([undefined, "b1"]);
  });

  it("reports a dual farm's unknown interface once, not once per family", () => {
    const error = thrown(() => build([dsr({ family: "dual", "virtual-addr6": "2001:db8:1::100", "ether-addr": undefined })], { facts: { interfaces: {}, neighbours: facts.neighbours } }));
    expect(error.issues.filter((i) => i.field === "oface")).toHaveLength(1);
    expect(error.message.split("\n")).toEqual([
      'farm "web", oface = "eth-out": MAC address of this interface unknown on the host (no such interface?)',
    ]);
  });

  it("does not ask for the MAC of a backend that takes no traffic", () => {
    const backends = [bk("b1", "198.18.2.11"), bk("b9", "198.18.2.99", { state: "down" })];
    expect(() => build([dsr({ backends })], { facts })).not.toThrow();
  });

  it("a dsr farm that is down needs no facts and renders nothing", () => {
    const ir = build([dsr({ state: "down" })], { facts: NO_FACTS });
    expect(ir.tables.map((t) => t.family)).toEqual(["inet"]);
  });
});

describe("neededFacts", () => {
  it("lists the interfaces and backend addresses that dsr farms need resolved", () => {
    const config = parseConfig({
      farms: [
        farm({ mode: "dsr", iface: "eth-in", oface: "eth-out", backends: [bk("a", "198.18.2.12"), bk("b", "198.18.2.11"), bk("c", "198.18.2.13", { "ether-addr": "02:00:00:00:00:0c" })] }),
        farm({ name: "n", mode: "dsr", iface: "eth-b", "ether-addr": "02:00:00:00:00:01", "virtual-ports": "81", backends: [bk("d", "198.18.2.14", { state: "off" })] }),
        farm({ name: "x", mode: "dsr", iface: "eth-x", state: "down", "virtual-ports": "82", backends: [bk("e", "198.18.2.15")] }),
        farm({ name: "nat", "virtual-ports": "83", backends: [bk("f", "198.18.2.16")] }),
      ],
    });
    expect(neededFacts(config)).toEqual({ interfaces: ["eth-out"], neighbours: ["198.18.2.11", "198.18.2.12"] });
  });

  it("falls back to iface when there is no oface", () => {
    const config = parseConfig({ farms: [farm({ mode: "dsr", iface: "eth-in" })] });
    expect(neededFacts(config)).toEqual({ interfaces: ["eth-in"], neighbours: [] });
  });
});
