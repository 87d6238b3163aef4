import * as constants from "./constants.ts";
import type { Expr } from "./rule.ts";

// A plain object: run through tsx, a module namespace's every member is a getter call, and
// the encoder reads these constants some million times a batch.
const C = { ...constants };

// The rules of the hook chains core emits (build.ts's prerouting and postrouting, traffic.ts's
// forward chain) -> the expressions nft 1.0.6 sends for them, read off `nft --debug=netlink`
// and `--debug=mnl` of renderReplaceScript's output. Register use follows nft's
// netlink_linearize.c as rule.ts says: a concatenation's members take 4-byte slots one after
// the other from reg 1 (a 16-byte address four of them). A text that is not exactly one of
// these shapes gives null and the whole replace goes to nft.

/** What a rule needs to know of a set it looks up: whether it exists, and its interval flag. */
export type SetInfo = (name: string) => { interval: boolean } | undefined;

const FAMILY = { ipv4: { word: "ip", nfproto: C.NFPROTO_IPV4 }, ipv6: { word: "ip6", nfproto: C.NFPROTO_IPV6 } } as const;
/** nft's register for 4-byte slot `unit` (1 = reg 1): rule.ts's registerOf. */
const registerOf = (unit: number): number => ((unit - 1) % 4 === 0 ? C.NFT_REG_1 + (unit - 1) / 4 : C.NFT_REG32_00 + (unit - 1));
const SET = "@([A-Za-z][A-Za-z0-9_.-]{0,127})";

const LOOKUP_PORTS = new RegExp(`^meta nfproto (ipv4|ipv6) meta l4proto \\. (ip|ip6) daddr \\. th dport vmap ${SET}$`);
const LOOKUP_PROTO = new RegExp(`^meta nfproto (ipv4|ipv6) meta l4proto \\. (ip|ip6) daddr vmap ${SET}$`);
const LOOKUP_ADDR = new RegExp(`^meta nfproto (ipv4|ipv6) (ip|ip6) daddr vmap ${SET}$`);
const MASQUERADE = /^ct mark and (0x[0-9a-f]{1,8}) == (0x[0-9a-f]{1,8}) masquerade$/;
const NOT_DNAT = /^ct status and dnat == 0 accept$/;
const TRAFFIC_PORTS = new RegExp(
  `^meta l4proto (tcp|udp|sctp) ct original (ip|ip6) daddr \\. ct original protocol \\. ct original proto-dst \\. ct reply (ip|ip6) saddr \\. ct reply proto-src ${SET} accept$`,
);
const TRAFFIC_ADDR = new RegExp(`^ct original (ip|ip6) daddr \\. ct reply (ip|ip6) saddr ${SET} accept$`);

const hostU32 = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
};
const accept: Expr = { kind: "verdict", verdict: C.NF_ACCEPT };

function nfprotoMatch(family: "ipv4" | "ipv6", word: string): Expr[] | null {
  if (FAMILY[family].word !== word) return null;
  return [
    { kind: "meta load", key: C.NFT_META_NFPROTO, dreg: C.NFT_REG_1 },
    { kind: "cmp", sreg: C.NFT_REG_1, op: C.NFT_CMP_EQ, data: Uint8Array.of(FAMILY[family].nfproto) },
  ];
}

const daddr = (word: string, unit: number): Expr => ({
  kind: "payload load",
  base: C.NFT_PAYLOAD_NETWORK_HEADER,
  offset: word === "ip" ? 16 : 24,
  len: word === "ip" ? 4 : 16,
  dreg: registerOf(unit),
});

/** The expressions of one hook-chain rule, or null. */
export function fixedRuleExprs(text: string, sets: SetInfo): Expr[] | null {
  let m = LOOKUP_PORTS.exec(text);
  if (m) {
    const [, family, word, name] = m as unknown as [string, "ipv4" | "ipv6", string, string];
    const match = nfprotoMatch(family, word);
    const set = sets(name);
    if (match === null || set === undefined) return null;
    const width = word === "ip" ? 1 : 4;
    return [
      ...match,
      { kind: "meta load", key: C.NFT_META_L4PROTO, dreg: C.NFT_REG_1 },
      // In an interval set nft keeps the protocol as a big-endian 2-byte value (its range
      // form): it swaps the loaded byte first. A hash set takes it as loaded.
      ...(set.interval ? [{ kind: "hton", reg: C.NFT_REG_1, len: 1, size: 2 } as Expr] : []),
      daddr(word, 2),
      { kind: "payload load", base: C.NFT_PAYLOAD_TRANSPORT_HEADER, offset: 2, len: 2, dreg: registerOf(2 + width) },
      { kind: "lookup", sreg: C.NFT_REG_1, set: name, dreg: C.NFT_REG_VERDICT },
    ];
  }
  m = LOOKUP_PROTO.exec(text);
  if (m) {
    const [, family, word, name] = m as unknown as [string, "ipv4" | "ipv6", string, string];
    const match = nfprotoMatch(family, word);
    const set = sets(name);
    // Not seen from core in an interval set (nft's byte swap there is not verified): nft does it.
    if (match === null || set === undefined || set.interval) return null;
    return [...match, { kind: "meta load", key: C.NFT_META_L4PROTO, dreg: C.NFT_REG_1 }, daddr(word, 2), { kind: "lookup", sreg: C.NFT_REG_1, set: name, dreg: C.NFT_REG_VERDICT }];
  }
  m = LOOKUP_ADDR.exec(text);
  if (m) {
    const [, family, word, name] = m as unknown as [string, "ipv4" | "ipv6", string, string];
    const match = nfprotoMatch(family, word);
    const set = sets(name);
    if (match === null || set === undefined || set.interval) return null;
    return [...match, daddr(word, 1), { kind: "lookup", sreg: C.NFT_REG_1, set: name, dreg: C.NFT_REG_VERDICT }];
  }
  m = MASQUERADE.exec(text);
  if (m) {
    const mask = Number.parseInt((m[1] as string).slice(2), 16);
    const value = Number.parseInt((m[2] as string).slice(2), 16);
    // nft folds `and M == V` with V outside M to a rule that never matches, differently encoded.
    if ((value & ~mask) >>> 0 !== 0 || mask === 0) return null;
    return [
      { kind: "ct load mark", dreg: C.NFT_REG_1 },
      { kind: "bitwise", reg: C.NFT_REG_1, mask: hostU32(mask), xor: hostU32(0) },
      { kind: "cmp", sreg: C.NFT_REG_1, op: C.NFT_CMP_EQ, data: hostU32(value) },
      { kind: "masq" },
    ];
  }
  if (NOT_DNAT.test(text)) {
    return [
      { kind: "ct load", key: C.NFT_CT_STATUS, dreg: C.NFT_REG_1 },
      { kind: "bitwise", reg: C.NFT_REG_1, mask: hostU32(C.IPS_DST_NAT), xor: hostU32(0) },
      { kind: "cmp", sreg: C.NFT_REG_1, op: C.NFT_CMP_EQ, data: hostU32(0) },
      accept,
    ];
  }
  m = TRAFFIC_PORTS.exec(text);
  if (m) {
    const [, protocol, original, reply, name] = m as unknown as [string, keyof typeof C.IPPROTO, string, string, string];
    if (original !== reply || sets(name) === undefined) return null;
    const width = original === "ip" ? 1 : 4;
    const [dst, src] = original === "ip" ? [C.NFT_CT_DST_IP, C.NFT_CT_SRC_IP] : [C.NFT_CT_DST_IP6, C.NFT_CT_SRC_IP6];
    const ORIG = C.IP_CT_DIR_ORIGINAL;
    const REPLY = C.IP_CT_DIR_REPLY;
    return [
      { kind: "meta load", key: C.NFT_META_L4PROTO, dreg: C.NFT_REG_1 },
      { kind: "cmp", sreg: C.NFT_REG_1, op: C.NFT_CMP_EQ, data: Uint8Array.of(C.IPPROTO[protocol]) },
      { kind: "ct load", key: dst, dreg: registerOf(1), dir: ORIG },
      { kind: "ct load", key: C.NFT_CT_PROTOCOL, dreg: registerOf(1 + width), dir: ORIG },
      { kind: "ct load", key: C.NFT_CT_PROTO_DST, dreg: registerOf(2 + width), dir: ORIG },
      { kind: "ct load", key: src, dreg: registerOf(3 + width), dir: REPLY },
      { kind: "ct load", key: C.NFT_CT_PROTO_SRC, dreg: registerOf(3 + 2 * width), dir: REPLY },
      { kind: "lookup", sreg: C.NFT_REG_1, set: name },
      accept,
    ];
  }
  m = TRAFFIC_ADDR.exec(text);
  if (m) {
    const [, original, reply, name] = m as unknown as [string, string, string, string];
    if (original !== reply || sets(name) === undefined) return null;
    const width = original === "ip" ? 1 : 4;
    const [dst, src] = original === "ip" ? [C.NFT_CT_DST_IP, C.NFT_CT_SRC_IP] : [C.NFT_CT_DST_IP6, C.NFT_CT_SRC_IP6];
    return [
      { kind: "ct load", key: dst, dreg: registerOf(1), dir: C.IP_CT_DIR_ORIGINAL },
      { kind: "ct load", key: src, dreg: registerOf(1 + width), dir: C.IP_CT_DIR_REPLY },
      { kind: "lookup", sreg: C.NFT_REG_1, set: name },
      accept,
    ];
  }
  return null;
}
