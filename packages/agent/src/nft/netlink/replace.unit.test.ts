import { buildRuleset, parseConfig, type IrRuleset } from "@switchyard/core";
import { describe, expect, it } from "vitest";
import * as C from "./constants.ts";
import { attrs } from "./dump.ts";
import { writeExpressions } from "./expr-encode.ts";
import { loadLibs, nftnlRule, nftnlRuleText } from "./ffi.ts";
import { fixedRuleExprs } from "./fixed-rules.ts";
import { splitMessages } from "./mnl-debug.ts";
import { NlWriter } from "./nl-writer.ts";
import { encodeReplace } from "./replace.ts";
import { ruleExprs, type Expr } from "./rule.ts";
import { elementKey } from "./set-key.ts";
import { farm, v4, v6 } from "../../testing/farm-shapes.ts";

// The encoder without a kernel: each rule shape's bytes against libnftnl's for the same
// expressions (nftnl_rule_nlmsg_build_payload through koffi), the fixed rules' expressions
// against `nft --debug=netlink` of nft 1.0.6, and what encodeReplace leaves to nft (null).
// replace.integration.test.ts holds whole batches against nft's own bytes.

const TABLE = "switchyard";
const SETS = ["svc4-ports", "svc4-ranges", "svc4-proto", "svc4-addr", "svc6-ports", "svc6-ranges", "svc6-proto", "svc6-addr", "traffic4-ports", "traffic6-addr"];
const SET_IDS = new Map(SETS.map((s, i) => [s, i + 1]));
const interval = (name: string) => (SET_IDS.has(name) ? { interval: name.includes("ranges") } : undefined);

/** Every rule shape core emits: the farm and scheduler chains' (rule.ts) and the hook chains' (fixed-rules.ts). */
const SHAPES = [
  "drop",
  "jump sched-web-4",
  "ct mark 0xc0000001 meta l4proto tcp counter name c/web/b2 dnat ip to 198.18.2.12:8080",
  "ct mark 0x40000000 meta l4proto udp counter name c/dns/b1 dnat ip6 to [2001:db8:2::1]:53",
  "ct mark 0xc0000000 counter name c/all/b1 dnat ip to 198.18.2.11",
  "ct mark 0x40000000 counter name c/all6/b1-v6 dnat ip6 to 2001:db8:2::1",
  "ct mark set numgen inc mod 4 offset 0xc0000000",
  "ct mark set numgen random mod 1 offset 0x40000003",
  "ct mark set numgen random mod 7",
  "ct mark set symhash mod 3 offset 0x80000000",
  "ct mark set jhash ip saddr . th sport mod 3 seed 0x12345678 offset 0x40000000",
  "ct mark set jhash ip6 saddr . ip6 daddr . th sport . th dport mod 2 seed 0x0badcafe offset 0xc0000000",
  "ct mark 0x80000001 ct mark set numgen random mod 1 offset 0xc0000002",
  "ct mark 0x80000000-0x80000004 ct mark set numgen random mod 1 offset 0xc0000000",
  "meta nfproto ipv4 meta l4proto . ip daddr . th dport vmap @svc4-ports",
  "meta nfproto ipv4 meta l4proto . ip daddr . th dport vmap @svc4-ranges",
  "meta nfproto ipv4 meta l4proto . ip daddr vmap @svc4-proto",
  "meta nfproto ipv4 ip daddr vmap @svc4-addr",
  "meta nfproto ipv6 meta l4proto . ip6 daddr . th dport vmap @svc6-ports",
  "meta nfproto ipv6 meta l4proto . ip6 daddr . th dport vmap @svc6-ranges",
  "meta nfproto ipv6 meta l4proto . ip6 daddr vmap @svc6-proto",
  "meta nfproto ipv6 ip6 daddr vmap @svc6-addr",
  "ct mark and 0x80000000 == 0x80000000 masquerade",
  "ct status and dnat == 0 accept",
  "meta l4proto sctp ct original ip daddr . ct original protocol . ct original proto-dst . ct reply ip saddr . ct reply proto-src @traffic4-ports accept",
  "meta l4proto tcp ct original ip6 daddr . ct original protocol . ct original proto-dst . ct reply ip6 saddr . ct reply proto-src @traffic4-ports accept",
  "ct original ip daddr . ct reply ip saddr @traffic6-addr accept",
  "ct original ip6 daddr . ct reply ip6 saddr @traffic6-addr accept",
];

const exprsOf = (rule: string): Expr[] | null => ruleExprs(rule) ?? fixedRuleExprs(rule, interval);

describe("rule expressions: our bytes are libnftnl's", () => {
  const libs = loadLibs();

  it.each(SHAPES)("%s", (rule) => {
    expect(libs).not.toBeNull();
    if (libs === null) return;
    const exprs = exprsOf(rule);
    expect(exprs).not.toBeNull();
    const w = new NlWriter(64);
    writeExpressions(w, exprs as Expr[], SET_IDS);
    const ours = w.buf.subarray(0, w.off);
    // libnftnl's NEWRULE payload: TABLE, CHAIN, then the expressions (what we compare).
    const buf = Buffer.alloc(16384);
    const nlh = libs.buildHdr(buf, (C.NFNL_SUBSYS_NFTABLES << 8) | C.NFT_MSG_NEWRULE, C.NFPROTO_INET, 0, 0);
    const r = nftnlRule(libs, "t", "c", exprs as Expr[], SET_IDS);
    try {
      libs.ruleBuildPayload(nlh, r);
    } finally {
      libs.ruleFree(r);
    }
    const len = buf.readUInt32LE(0);
    const list = attrs(buf, 20, len).get(C.NFTA_RULE_EXPRESSIONS) as [number, number];
    expect(ours.toString("hex")).toBe(buf.subarray(list[0] - 4, list[0] + list[1]).toString("hex"));
  });
});

describe("fixed rules: the expressions nft 1.0.6 sends (nft --debug=netlink)", () => {
  const libs = loadLibs();
  const text = (rule: string) => {
    if (libs === null) throw new Error("libnftnl did not load");
    return nftnlRuleText(libs, "t", "c", exprsOf(rule) as Expr[], SET_IDS)
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.trim());
  };

  it.each<[string, string[]]>([
    [
      "meta nfproto ipv4 meta l4proto . ip daddr . th dport vmap @svc4-ranges",
      [
        "[ meta load nfproto => reg 1 ]",
        "[ cmp eq reg 1 0x00000002 ]",
        "[ meta load l4proto => reg 1 ]",
        "[ byteorder reg 1 = hton(reg 1, 2, 1) ]",
        "[ payload load 4b @ network header + 16 => reg 9 ]",
        "[ payload load 2b @ transport header + 2 => reg 10 ]",
        "[ lookup reg 1 set svc4-ranges dreg 0 ]",
      ],
    ],
    [
      "meta nfproto ipv6 meta l4proto . ip6 daddr . th dport vmap @svc6-ports",
      [
        "[ meta load nfproto => reg 1 ]",
        "[ cmp eq reg 1 0x0000000a ]",
        "[ meta load l4proto => reg 1 ]",
        "[ payload load 16b @ network header + 24 => reg 9 ]",
        "[ payload load 2b @ transport header + 2 => reg 13 ]",
        "[ lookup reg 1 set svc6-ports dreg 0 ]",
      ],
    ],
    [
      "ct mark and 0x80000000 == 0x80000000 masquerade",
      ["[ ct load mark => reg 1 ]", "[ bitwise reg 1 = ( reg 1 & 0x80000000 ) ^ 0x00000000 ]", "[ cmp eq reg 1 0x80000000 ]", "[ masq ]"],
    ],
    [
      "ct status and dnat == 0 accept",
      ["[ ct load status => reg 1 ]", "[ bitwise reg 1 = ( reg 1 & 0x00000020 ) ^ 0x00000000 ]", "[ cmp eq reg 1 0x00000000 ]", "[ immediate reg 0 accept ]"],
    ],
    [
      "meta l4proto udp ct original ip6 daddr . ct original protocol . ct original proto-dst . ct reply ip6 saddr . ct reply proto-src @traffic4-ports accept",
      [
        "[ meta load l4proto => reg 1 ]",
        "[ cmp eq reg 1 0x00000011 ]",
        "[ ct load dst_ip6 => reg 1 , dir original ]",
        "[ ct load protocol => reg 2 , dir original ]",
        "[ ct load proto_dst => reg 13 , dir original ]",
        "[ ct load src_ip6 => reg 14 , dir reply ]",
        "[ ct load proto_src => reg 18 , dir reply ]",
        "[ lookup reg 1 set traffic4-ports ]",
        "[ immediate reg 0 accept ]",
      ],
    ],
    [
      "ct original ip daddr . ct reply ip saddr @traffic6-addr accept",
      ["[ ct load dst_ip => reg 1 , dir original ]", "[ ct load src_ip => reg 9 , dir reply ]", "[ lookup reg 1 set traffic6-addr ]", "[ immediate reg 0 accept ]"],
    ],
  ])("%s", (rule, expected) => {
    expect(text(rule)).toEqual(expected);
  });

  it("refuses what it does not know: other sets, other masks, mixed families", () => {
    for (const rule of [
      "meta nfproto ipv4 meta l4proto . ip daddr . th dport vmap @nope",
      "meta nfproto ipv4 meta l4proto . ip6 daddr . th dport vmap @svc4-ports",
      "meta nfproto ipv4 ip daddr vmap @svc4-ranges",
      "ct mark and 0x80000000 == 0x00000001 masquerade",
      "ct status and snat == 0 accept",
      "meta l4proto tcp ct original ip daddr . ct original protocol . ct original proto-dst . ct reply ip6 saddr . ct reply proto-src @traffic4-ports accept",
      "ct original ip daddr . ct reply ip saddr @traffic4-ports drop",
    ]) {
      expect(fixedRuleExprs(rule, interval), rule).toBeNull();
    }
  });
});

const irOf = (farms: unknown[]) => buildRuleset(parseConfig({ farms }), { table: TABLE });
const inet = (ir: IrRuleset) => ir.tables[0] as IrRuleset["tables"][number];
const withInet = (ir: IrRuleset, change: (t: IrRuleset["tables"][number]) => IrRuleset["tables"][number]): IrRuleset => ({ tables: [change(inet(ir))] });

describe("encodeReplace", () => {
  const ir = irOf([farm("web", "198.18.1.1", {}, [v4(1)]), farm("web6", "2001:db8:1::1", { "virtual-ports": "80,1000-2000" }, [v6(1)])]);

  it("is the reset, the table, its chains, counters, sets and elements, and every rule, between BATCH_BEGIN and BATCH_END", () => {
    const batch = encodeReplace(ir, TABLE);
    expect(batch).not.toBeNull();
    const types = splitMessages(batch as Buffer).map((m) => m.readUInt16LE(4));
    const nft = (m: number) => (C.NFNL_SUBSYS_NFTABLES << 8) | m;
    const t = inet(ir);
    const rules = t.chains.reduce((n, c) => n + c.rules.length, 0);
    const filled = t.maps.filter((m) => m.elements.length > 0).length;
    expect(types[0]).toBe(C.NFNL_MSG_BATCH_BEGIN);
    expect(types.slice(1, 6)).toEqual([nft(C.NFT_MSG_NEWTABLE), nft(C.NFT_MSG_DELTABLE), nft(C.NFT_MSG_NEWTABLE), nft(C.NFT_MSG_DELTABLE), nft(C.NFT_MSG_NEWTABLE)]);
    expect(types.filter((x) => x === nft(C.NFT_MSG_NEWCHAIN))).toHaveLength(t.chains.length);
    expect(types.filter((x) => x === nft(C.NFT_MSG_NEWOBJ))).toHaveLength(t.counters?.length ?? 0);
    expect(types.filter((x) => x === nft(C.NFT_MSG_NEWSET))).toHaveLength(t.maps.length);
    expect(types.filter((x) => x === nft(C.NFT_MSG_NEWSETELEM))).toHaveLength(filled);
    expect(types.filter((x) => x === nft(C.NFT_MSG_NEWRULE))).toHaveLength(rules);
    expect(types.at(-1)).toBe(C.NFNL_MSG_BATCH_END);
  });

  it("flags each message as nft 1.0.6 does (strace of nft -f): CREATE on what it adds, APPEND on rules, no ACK (the sender asks one)", () => {
    const flags = new Map<number, Set<number>>();
    for (const m of splitMessages(encodeReplace(ir, TABLE) as Buffer)) {
      const type = m.readUInt16LE(4);
      flags.set(type, (flags.get(type) ?? new Set()).add(m.readUInt16LE(6)));
    }
    const nft = (m: number) => (C.NFNL_SUBSYS_NFTABLES << 8) | m;
    const R = C.NLM_F_REQUEST;
    expect(Object.fromEntries([...flags].map(([t, f]) => [t, [...f]]))).toEqual({
      [C.NFNL_MSG_BATCH_BEGIN]: [R],
      [C.NFNL_MSG_BATCH_END]: [R],
      [nft(C.NFT_MSG_NEWTABLE)]: [R],
      [nft(C.NFT_MSG_DELTABLE)]: [R],
      [nft(C.NFT_MSG_NEWCHAIN)]: [R | C.NLM_F_CREATE],
      [nft(C.NFT_MSG_NEWOBJ)]: [R | C.NLM_F_CREATE],
      [nft(C.NFT_MSG_NEWSET)]: [R | C.NLM_F_CREATE],
      [nft(C.NFT_MSG_NEWSETELEM)]: [R | C.NLM_F_CREATE],
      [nft(C.NFT_MSG_NEWRULE)]: [R | C.NLM_F_CREATE | C.NLM_F_APPEND],
    });
  });

  it("splits a set's elements over messages at 64 KiB of elements, numbering them on", () => {
    const many = withInet(ir, (t) => ({
      ...t,
      maps: t.maps.map((m) =>
        m.name === "svc4-addr" ? { ...m, elements: Array.from({ length: 5000 }, (_, i): [string, string] => [`10.${i >> 8}.${i & 255}.1`, "goto farm-web-4"]) } : m,
      ),
    }));
    const messages = splitMessages(encodeReplace(many, TABLE) as Buffer).filter((m) => (m.readUInt16LE(4) & 0xff) === C.NFT_MSG_NEWSETELEM);
    const of = messages.filter((m) => m.includes(Buffer.from("svc4-addr\0")));
    expect(of.length).toBeGreaterThan(1);
    const numbers: number[] = [];
    for (const m of of) {
      const list = attrs(m, 20, m.length).get(C.NFTA_SET_ELEM_LIST_ELEMENTS) as [number, number];
      expect(list[1] + 4).toBeLessThanOrEqual(0xffff);
      for (let at = list[0]; at < list[0] + list[1]; at += (m.readUInt16LE(at) + 3) & ~3) numbers.push(m.readUInt16LE(at + 2) & 0x3fff);
    }
    expect(numbers).toHaveLength(5000);
    // The element that did not fit takes the next number in the next message, as libnftnl numbers it.
    expect(numbers[0]).toBe(1);
    expect(new Set(numbers).size).toBe(5000);
    expect(numbers.at(-1)).toBe(5000 + of.length - 1);
  });

  it("is null for what it leaves to nft", () => {
    const dsr = buildRuleset(
      parseConfig({ farms: [{ ...farm("d", "198.18.1.2", {}, []), mode: "dsr", iface: "eth0", "ether-addr": "02:00:00:00:00:01", backends: [{ name: "b1", "ip-addr": "198.18.2.1", "ether-addr": "02:00:00:00:00:02" }] }] }),
      { table: TABLE },
    );
    expect(dsr.tables.map((t) => t.family)).toContain("netdev");
    expect(encodeReplace(dsr, TABLE)).toBeNull();
    expect(encodeReplace(ir, "other")).toBeNull();
    const rule = (text: string) => withInet(ir, (t) => ({ ...t, chains: t.chains.map((c) => (c.name === "farm-web-4" ? { ...c, rules: [...c.rules, text] } : c)) }));
    expect(encodeReplace(rule("ct mark set 0x1 counter accept"), TABLE)).toBeNull();
    expect(encodeReplace(rule("tcp dport 22 accept"), TABLE)).toBeNull();
    const map = (change: Partial<IrRuleset["tables"][number]["maps"][number]>) =>
      withInet(ir, (t) => ({ ...t, maps: t.maps.map((m) => (m.name === "svc4-ports" ? { ...m, ...change } : m)) }));
    expect(encodeReplace(map({ key: "ether_addr" }), TABLE)).toBeNull();
    expect(encodeReplace(map({ value: "counter" }), TABLE)).toBeNull();
    expect(encodeReplace(map({ key: "inet_service", interval: true, elements: [] }), TABLE)).toBeNull();
    expect(encodeReplace(map({ elements: [["tcp . 198.18.1.1 . 80", "accept"]] }), TABLE)).toBeNull();
    expect(encodeReplace(map({ elements: [["tcp . 198.18.1.1", "goto farm-web-4"]] }), TABLE)).toBeNull();
    const hook = withInet(ir, (t) => ({ ...t, chains: t.chains.map((c) => (c.name === "traffic" ? { ...c, hook: { type: "filter" as const, hook: "ingress" as const, priority: 0, device: "eth0" } } : c)) }));
    expect(encodeReplace(hook, TABLE)).toBeNull();
  });
});

describe("element keys written in place agree with elementKey's (hex) reading of them", () => {
  it.each<[string, boolean, string, string | null]>([
    ["inet_proto . ipv4_addr . inet_service", false, "tcp . 198.18.1.1 . 80", "06000000c612010100500000"],
    ["inet_proto . ipv4_addr . inet_service", true, "udp . 198.18.1.2 . 1000-2000", "11000000c612010203e80000-11000000c612010207d00000"],
    ["ipv4_addr", false, "198.18.1.6", "c6120106"],
    ["ipv4_addr", false, "198.18.1.06", null],
    ["ipv4_addr", false, "198.18.1", null],
    ["ipv4_addr", false, "198.18.1.1.", null],
    ["ipv4_addr . ipv4_addr", false, "198.18.1.6 .  198.18.2.1", "c6120106c6120201"],
    ["ipv6_addr . inet_proto . inet_service . ipv6_addr . inet_service", true, "2001:db8:1::5 . udp . 0-65535 . 2001:db8:2::1 . 0-65535", "20010db800010000000000000000000511000000000000002001" + "0db800020000000000000000000100000000-20010db800010000000000000000000511000000ffff000020010db8000200000000000000000001ffff0000"],
    ["inet_service", false, "080", "0050"],
    ["inet_service", false, "99999999999", null],
  ])("%s %s %s", (type, isInterval, text, hex) => {
    expect(elementKey(type, isInterval, text)).toBe(hex);
  });
});
