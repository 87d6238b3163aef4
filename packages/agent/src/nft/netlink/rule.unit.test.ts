import { describe, expect, it } from "vitest";
import { describeExpr, ipv6Bytes, ruleExprs } from "./rule.ts";

// Expected texts: `nft --debug=netlink add rule inet t c RULE` with nft 1.0.6 / libnftnl
// 1.2.4 (the same shapes are checked against the kernel by refill.integration.test.ts).
const exprsOf = (rule: string): string[] | null => ruleExprs(rule)?.map(describeExpr) ?? null;

describe("ruleExprs: the shapes of core's NAT farm chains, as nft 1.0.6 encodes them", () => {
  it.each<[string, string[]]>([
    ["drop", ["[ immediate reg 0 drop ]"]],
    [
      "ct mark set 0x80000000 meta l4proto tcp counter name c/web/b1 dnat ip to 198.18.2.12:80",
      [
        "[ immediate reg 1 0x80000000 ]",
        "[ ct set mark with reg 1 ]",
        "[ meta load l4proto => reg 1 ]",
        "[ cmp eq reg 1 0x00000006 ]",
        "[ objref type 1 name c/web/b1 ]",
        "[ immediate reg 1 0x0c0212c6 ]",
        "[ immediate reg 2 0x00005000 ]",
        "[ nat dnat ip addr_min reg 1 proto_min reg 2 flags 0x2 ]",
      ],
    ],
    [
      "ct mark 0x80000000-0x80000001 counter name c/web/b1 dnat ip to 198.18.2.11",
      [
        "[ ct load mark => reg 1 ]",
        "[ byteorder reg 1 = hton(reg 1, 4, 4) ]",
        "[ cmp gte reg 1 0x00000080 ]",
        "[ cmp lte reg 1 0x01000080 ]",
        "[ objref type 1 name c/web/b1 ]",
        "[ immediate reg 1 0x0b0212c6 ]",
        "[ nat dnat ip addr_min reg 1 ]",
      ],
    ],
    [
      "ct mark 0x00000001 meta l4proto tcp counter name c/web/b1 dnat ip6 to [2001:db8::1]:8080",
      [
        "[ ct load mark => reg 1 ]",
        "[ cmp eq reg 1 0x00000001 ]",
        "[ meta load l4proto => reg 1 ]",
        "[ cmp eq reg 1 0x00000006 ]",
        "[ objref type 1 name c/web/b1 ]",
        "[ immediate reg 1 0xb80d0120 0x00000000 0x00000000 0x01000000 ]",
        "[ immediate reg 2 0x0000901f ]",
        "[ nat dnat ip6 addr_min reg 1 proto_min reg 2 flags 0x2 ]",
      ],
    ],
    [
      "ct mark set 0x80000000 meta l4proto tcp dnat ip to 198.18.2.12:80",
      [
        "[ immediate reg 1 0x80000000 ]",
        "[ ct set mark with reg 1 ]",
        "[ meta load l4proto => reg 1 ]",
        "[ cmp eq reg 1 0x00000006 ]",
        "[ immediate reg 1 0x0c0212c6 ]",
        "[ immediate reg 2 0x00005000 ]",
        "[ nat dnat ip addr_min reg 1 proto_min reg 2 flags 0x2 ]",
      ],
    ],
    [
      "ct mark set 0x00000000 dnat ip to 198.18.2.12",
      ["[ immediate reg 1 0x00000000 ]", "[ ct set mark with reg 1 ]", "[ immediate reg 1 0x0c0212c6 ]", "[ nat dnat ip addr_min reg 1 ]"],
    ],
    [
      "ct mark set 0x00000000 meta l4proto udp dnat ip6 to [2001:db8::1]:53",
      [
        "[ immediate reg 1 0x00000000 ]",
        "[ ct set mark with reg 1 ]",
        "[ meta load l4proto => reg 1 ]",
        "[ cmp eq reg 1 0x00000011 ]",
        "[ immediate reg 1 0xb80d0120 0x00000000 0x00000000 0x01000000 ]",
        "[ immediate reg 2 0x00003500 ]",
        "[ nat dnat ip6 addr_min reg 1 proto_min reg 2 flags 0x2 ]",
      ],
    ],
    [
      "ct mark set 0x00000000 dnat ip6 to 2001:db8::1",
      [
        "[ immediate reg 1 0x00000000 ]",
        "[ ct set mark with reg 1 ]",
        "[ immediate reg 1 0xb80d0120 0x00000000 0x00000000 0x01000000 ]",
        "[ nat dnat ip6 addr_min reg 1 ]",
      ],
    ],
    ["ct mark set numgen random mod 3 offset 0x80000000", ["[ numgen reg 1 = random mod 3 offset 2147483648 ]", "[ ct set mark with reg 1 ]"]],
    ["ct mark set numgen inc mod 3", ["[ numgen reg 1 = inc mod 3 ]", "[ ct set mark with reg 1 ]"]],
    ["ct mark set symhash mod 3 offset 0x80000000", ["[ hash reg 1 = symhash() % mod 3 offset 2147483648 ]", "[ ct set mark with reg 1 ]"]],
    ["ct mark set symhash mod 3", ["[ hash reg 1 = symhash() % mod 3 ]", "[ ct set mark with reg 1 ]"]],
    [
      "ct mark set jhash ip saddr mod 3 seed 0x12345678 offset 0x80000000",
      [
        "[ meta load nfproto => reg 1 ]",
        "[ cmp eq reg 1 0x00000002 ]",
        "[ payload load 4b @ network header + 12 => reg 2 ]",
        "[ hash reg 1 = jhash(reg 2, 4, 0x12345678) % mod 3 offset 2147483648 ]",
        "[ ct set mark with reg 1 ]",
      ],
    ],
    [
      "ct mark set jhash ip6 saddr mod 3 seed 0x12345678",
      [
        "[ meta load nfproto => reg 1 ]",
        "[ cmp eq reg 1 0x0000000a ]",
        "[ payload load 16b @ network header + 8 => reg 2 ]",
        "[ hash reg 1 = jhash(reg 2, 16, 0x12345678) % mod 3 ]",
        "[ ct set mark with reg 1 ]",
      ],
    ],
    [
      "ct mark set jhash ip saddr . th sport mod 3 seed 0x12345678",
      [
        "[ meta load nfproto => reg 1 ]",
        "[ cmp eq reg 1 0x00000002 ]",
        "[ payload load 4b @ network header + 12 => reg 2 ]",
        "[ payload load 2b @ transport header + 0 => reg 13 ]",
        "[ hash reg 1 = jhash(reg 2, 8, 0x12345678) % mod 3 ]",
        "[ ct set mark with reg 1 ]",
      ],
    ],
    [
      "ct mark set jhash th sport mod 3 seed 0x12345678",
      ["[ payload load 2b @ transport header + 0 => reg 2 ]", "[ hash reg 1 = jhash(reg 2, 2, 0x12345678) % mod 3 ]", "[ ct set mark with reg 1 ]"],
    ],
    [
      "ct mark set jhash th sport . ip saddr mod 3 seed 0x12345678",
      [
        "[ meta load nfproto => reg 1 ]",
        "[ cmp eq reg 1 0x00000002 ]",
        "[ payload load 2b @ transport header + 0 => reg 2 ]",
        "[ payload load 4b @ network header + 12 => reg 13 ]",
        "[ hash reg 1 = jhash(reg 2, 8, 0x12345678) % mod 3 ]",
        "[ ct set mark with reg 1 ]",
      ],
    ],
    [
      "ct mark set jhash ip saddr . ip daddr . th sport . th dport mod 3 seed 0x12345678",
      [
        "[ meta load nfproto => reg 1 ]",
        "[ cmp eq reg 1 0x00000002 ]",
        "[ payload load 4b @ network header + 12 => reg 2 ]",
        "[ payload load 4b @ network header + 16 => reg 13 ]",
        "[ payload load 2b @ transport header + 0 => reg 14 ]",
        "[ payload load 2b @ transport header + 2 => reg 15 ]",
        "[ hash reg 1 = jhash(reg 2, 16, 0x12345678) % mod 3 ]",
        "[ ct set mark with reg 1 ]",
      ],
    ],
    [
      "ct mark set jhash ip6 daddr . th dport mod 3 seed 0x12345678 offset 0x80000000",
      [
        "[ meta load nfproto => reg 1 ]",
        "[ cmp eq reg 1 0x0000000a ]",
        "[ payload load 16b @ network header + 24 => reg 2 ]",
        "[ payload load 2b @ transport header + 2 => reg 3 ]",
        "[ hash reg 1 = jhash(reg 2, 20, 0x12345678) % mod 3 offset 2147483648 ]",
        "[ ct set mark with reg 1 ]",
      ],
    ],
    [
      "ct mark 0x80000000 meta l4proto tcp dnat ip to 198.18.2.12:80",
      [
        "[ ct load mark => reg 1 ]",
        "[ cmp eq reg 1 0x80000000 ]",
        "[ meta load l4proto => reg 1 ]",
        "[ cmp eq reg 1 0x00000006 ]",
        "[ immediate reg 1 0x0c0212c6 ]",
        "[ immediate reg 2 0x00005000 ]",
        "[ nat dnat ip addr_min reg 1 proto_min reg 2 flags 0x2 ]",
      ],
    ],
    [
      "ct mark 0x80000000-0x80000002 meta l4proto sctp dnat ip to 198.18.2.12:80",
      [
        "[ ct load mark => reg 1 ]",
        "[ byteorder reg 1 = hton(reg 1, 4, 4) ]",
        "[ cmp gte reg 1 0x00000080 ]",
        "[ cmp lte reg 1 0x02000080 ]",
        "[ meta load l4proto => reg 1 ]",
        "[ cmp eq reg 1 0x00000084 ]",
        "[ immediate reg 1 0x0c0212c6 ]",
        "[ immediate reg 2 0x00005000 ]",
        "[ nat dnat ip addr_min reg 1 proto_min reg 2 flags 0x2 ]",
      ],
    ],
    [
      "ct mark 0x00000000-0x00000002 meta l4proto udp dnat ip to 198.18.2.1:53",
      [
        "[ ct load mark => reg 1 ]",
        "[ byteorder reg 1 = hton(reg 1, 4, 4) ]",
        "[ cmp gte reg 1 0x00000000 ]",
        "[ cmp lte reg 1 0x02000000 ]",
        "[ meta load l4proto => reg 1 ]",
        "[ cmp eq reg 1 0x00000011 ]",
        "[ immediate reg 1 0x010212c6 ]",
        "[ immediate reg 2 0x00003500 ]",
        "[ nat dnat ip addr_min reg 1 proto_min reg 2 flags 0x2 ]",
      ],
    ],
    [
      "ct mark 0x00000001-0x00000002 dnat ip6 to 2001:db8::1",
      [
        "[ ct load mark => reg 1 ]",
        "[ byteorder reg 1 = hton(reg 1, 4, 4) ]",
        "[ cmp gte reg 1 0x01000000 ]",
        "[ cmp lte reg 1 0x02000000 ]",
        "[ immediate reg 1 0xb80d0120 0x00000000 0x00000000 0x01000000 ]",
        "[ nat dnat ip6 addr_min reg 1 ]",
      ],
    ],
    // The scheduler chain (core's schedRules) and the farm chain's jump to it.
    ["jump sched-web-4", ["[ immediate reg 0 jump -> sched-web-4 ]"]],
    ["ct mark set numgen random mod 1 offset 0xc0000002", ["[ numgen reg 1 = random mod 1 offset 3221225474 ]", "[ ct set mark with reg 1 ]"]],
    [
      "ct mark 0x80000001-0x80000004 ct mark set numgen random mod 1 offset 0xc0000002",
      [
        "[ ct load mark => reg 1 ]",
        "[ byteorder reg 1 = hton(reg 1, 4, 4) ]",
        "[ cmp gte reg 1 0x01000080 ]",
        "[ cmp lte reg 1 0x04000080 ]",
        "[ numgen reg 1 = random mod 1 offset 3221225474 ]",
        "[ ct set mark with reg 1 ]",
      ],
    ],
    [
      "ct mark 0x80000001 ct mark set numgen random mod 1 offset 0xc0000002",
      ["[ ct load mark => reg 1 ]", "[ cmp eq reg 1 0x80000001 ]", "[ numgen reg 1 = random mod 1 offset 3221225474 ]", "[ ct set mark with reg 1 ]"],
    ],
    // The same with an immediate value: not what core emits (the kernel validates the table for
    // it), kept so that bench/probe/sched-commit.ts can show what it costs.
    ["ct mark set 0x80000010", ["[ immediate reg 1 0x80000010 ]", "[ ct set mark with reg 1 ]"]],
    [
      "ct mark 0x80000001-0x80000004 ct mark set 0x80000010",
      [
        "[ ct load mark => reg 1 ]",
        "[ byteorder reg 1 = hton(reg 1, 4, 4) ]",
        "[ cmp gte reg 1 0x01000080 ]",
        "[ cmp lte reg 1 0x04000080 ]",
        "[ immediate reg 1 0x80000010 ]",
        "[ ct set mark with reg 1 ]",
      ],
    ],
  ])("%s", (rule, expected) => {
    expect(exprsOf(rule)).toEqual(expected);
  });

  it("reads a bare IPv6 target as an address, as nft does (2001:db8::1:80 is an address, not a port)", () => {
    expect(exprsOf("ct mark set 0x00000000 meta l4proto tcp dnat ip6 to 2001:db8::1:80")?.slice(4)).toEqual([
      "[ immediate reg 1 0xb80d0120 0x00000000 0x00000000 0x80000100 ]",
      "[ nat dnat ip6 addr_min reg 1 ]",
    ]);
  });

  it("keeps data lengths: 1-byte protocols, 2-byte ports, 4-byte marks and addresses, 16-byte IPv6", () => {
    const exprs = ruleExprs("ct mark 0x00000001 meta l4proto tcp dnat ip6 to [::ffff:1.2.3.4]:8080") ?? [];
    const lengths = exprs.flatMap((e) => ("data" in e ? [e.data.length] : []));
    expect(lengths).toEqual([4, 1, 16, 2]);
  });
});

describe("ruleExprs: anything else is not a supported shape", () => {
  it.each([
    // statement separators, extra and missing words
    "drop;",
    "drop; flush ruleset",
    "drop comment \"x\"",
    " drop",
    "drop ",
    "accept",
    "counter drop",
    // counters: only a bare name, once, between the protocol match and the nat
    "ct mark set 0x80000000 counter dnat ip to 198.18.2.12",
    "ct mark set 0x80000000 counter name \"c/web/b1\" dnat ip to 198.18.2.12",
    "ct mark set 0x80000000 counter name c/web/b1 counter name c/web/b2 dnat ip to 198.18.2.12",
    "ct mark set 0x80000000 counter name c/web/b1 meta l4proto tcp dnat ip to 198.18.2.12:80",
    "ct mark set 0x80000000 counter name 1abc dnat ip to 198.18.2.12",
    "ct mark set 0x80000000 counter name ip daddr map @m dnat ip to 198.18.2.12",
    "ct mark 0x00000001 counter name c/web/b1 drop",
    "ct mark set 0x80000000 meta l4proto tcp dnat ip to 198.18.2.12:80 drop",
    "ct mark set 0x80000000  dnat ip to 198.18.2.12",
    "ct mark set 0x80000000 dnat to 198.18.2.12",
    "ct mark set 0x80000000 snat ip to 198.18.2.12",
    "ct mark set 0x80000000 meta l4proto tcp masquerade",
    "meta mark set numgen inc mod 2",
    "ct mark set numgen inc mod 2;",
    "ct mark set numgen inc mod 2 offset",
    "ct mark set numgen inc mod 2 seed 0x1",
    "ct mark set numgen random mod 2 offset 0x80000000 offset 0x1",
    // bad numbers
    "ct mark set 0x1234567890 dnat ip to 198.18.2.12",
    "ct mark set 0xg0000000 dnat ip to 198.18.2.12",
    "ct mark set 80000000 dnat ip to 198.18.2.12",
    "ct mark set 0x dnat ip to 198.18.2.12",
    "ct mark set numgen inc mod 0",
    "ct mark set numgen inc mod 00",
    "ct mark set numgen inc mod 03",
    "ct mark set numgen inc mod -1",
    "ct mark set numgen inc mod 4294967296",
    "ct mark set numgen inc mod 0x3",
    "ct mark set symhash mod 0",
    "ct mark set jhash ip saddr mod 0 seed 0x1",
    "ct mark set numgen inc mod 3 offset 0x100000000",
    "ct mark 0x80000002-0x80000000 dnat ip to 198.18.2.12",
    "ct mark 0x80000000-0x80000000 dnat ip to 198.18.2.12",
    "ct mark 0x80000000- dnat ip to 198.18.2.12",
    // hash inputs and seeds
    "ct mark set jhash ip saddr mod 3",
    "ct mark set jhash ip saddr mod 3 seed 0x1 seed 0x2",
    "ct mark set jhash ether saddr mod 3 seed 0x12345678",
    "ct mark set jhash ip saddr . ether daddr mod 3 seed 0x12345678",
    "ct mark set jhash ip saddr . ip6 saddr mod 3 seed 0x12345678",
    "ct mark set jhash ip saddr .th sport mod 3 seed 0x12345678",
    "ct mark set jhash ip6 saddr . ip6 daddr . ip6 saddr . th sport mod 3 seed 0x12345678",
    "ct mark set symhash ip saddr mod 3",
    // addresses, ports, protocols
    "ct mark set 0x00000000 dnat ip to 198.18.2.256",
    "ct mark set 0x00000000 dnat ip to 198.18.02.12",
    "ct mark set 0x00000000 dnat ip to 198.18.2",
    "ct mark set 0x00000000 dnat ip to 198.18.2.12:80",
    "ct mark set 0x00000000 meta l4proto tcp dnat ip to 198.18.2.12:0",
    "ct mark set 0x00000000 meta l4proto tcp dnat ip to 198.18.2.12:65536",
    "ct mark set 0x00000000 meta l4proto tcp dnat ip to 198.18.2.12:080",
    "ct mark set 0x00000000 meta l4proto tcp dnat ip to 198.18.2.12:http",
    "ct mark set 0x00000000 meta l4proto tcp dnat ip to host.example:80",
    "ct mark set 0x00000000 meta l4proto icmp dnat ip to 198.18.2.12",
    "ct mark set 0x00000000 meta l4proto all dnat ip to 198.18.2.12:80",
    "ct mark set 0x00000000 meta l4proto tcp dnat ip to 2001:db8::1",
    "ct mark set 0x00000000 meta l4proto tcp dnat ip6 to 198.18.2.12",
    "ct mark set 0x00000000 meta l4proto tcp dnat ip6 to [2001:db8::1]",
    "ct mark set 0x00000000 meta l4proto tcp dnat ip6 to [2001:db8::1]:",
    "ct mark set 0x00000000 dnat ip6 to fe80::1%eth0",
    "ct mark set 0x00000000 dnat ip6 to 2001:db8:::1",
    "ct mark set 0x00000000 dnat ip6 to 1:2:3:4:5:6:7:8:9",
    "ct mark 0x00000001 dnat ip to 198.18.2.12 ;",
    // jumps: one bare chain name only
    "jump",
    "jump sched-web-4;",
    "jump sched web",
    "jump 1sched",
    "jump \"sched-web-4\"",
    "goto sched-web-4",
    "jump sched-web-4 drop",
    // the scheduler's translation: a mark match, then a draw of one value or a constant, nothing else
    "ct mark 0x00000001 ct mark set numgen inc mod 2 meta l4proto tcp dnat ip to 198.18.2.12:80",
    "ct mark 0x00000001 ct mark set jhash ip saddr mod 2 seed 0x1",
    "ct mark 0x00000001 ct mark set ct mark 0x00000002 ct mark set 0x00000003",
    "ct mark 0x00000002-0x00000001 ct mark set numgen random mod 1 offset 0x40000000",
    "ct mark 0x00000001 ct mark set 0x1234567890",
    "ct mark set 0x00000001 drop",
    "",
  ])("%j", (rule) => {
    expect(ruleExprs(rule)).toBeNull();
  });
});

describe("ipv6Bytes", () => {
  it.each<[string, string]>([
    ["2001:db8::1", "20010db8000000000000000000000001"],
    ["::", "00000000000000000000000000000000"],
    ["::1", "00000000000000000000000000000001"],
    ["fd00::", "fd000000000000000000000000000000"],
    ["1:2:3:4:5:6:7:8", "00010002000300040005000600070008"],
    ["::ffff:198.18.2.12", "00000000000000000000ffffc612020c"],
    ["64:ff9b::1.2.3.4", "0064ff9b000000000000000001020304"],
  ])("%s", (text, hex) => {
    expect(Buffer.from(ipv6Bytes(text) ?? []).toString("hex")).toBe(hex);
  });
});
