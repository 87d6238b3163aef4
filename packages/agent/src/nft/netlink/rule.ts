import { isIPv4, isIPv6 } from "node:net";
import {
  IPPROTO,
  NF_ACCEPT,
  NF_DROP,
  NFPROTO_IPV4,
  NFPROTO_IPV6,
  NFT_CMP_EQ,
  NFT_CMP_GTE,
  NFT_CMP_LTE,
  NFT_HASH_JENKINS,
  NFT_HASH_SYM,
  NFT_META_L4PROTO,
  NFT_META_NFPROTO,
  NFT_NG_INCREMENTAL,
  NFT_NG_RANDOM,
  NFT_OBJECT_COUNTER,
  NFT_PAYLOAD_NETWORK_HEADER,
  NFT_PAYLOAD_TRANSPORT_HEADER,
  NFT_REG32_00,
  NFT_REG_1,
} from "./constants.ts";

// The rule texts of core's NAT farm chains (packages/core/src/ruleset/build.ts natChainRules)
// -> the nf_tables expressions nft 1.0.6 sends for them. Pure: no FFI here.
//
// Each shape was read off `nft --debug=netlink add rule inet t c RULE` (nft 1.0.6,
// libnftnl 1.2.4) and follows nft's src/netlink_linearize.c: a statement's value goes to
// reg 1, an expression feeding it (a hash input) starts at the next free 16-byte register
// (reg 2), the members of a concatenation take 4-byte registers one after the other, and
// the nat statement puts the address in reg 1 and the port in reg 2. Any text that is not
// exactly one of these shapes gives null: the caller then sends nothing and lets nft do it.

/** One nf_tables expression, as nft linearizes it. Registers use the kernel's numbering. */
export type Expr =
  | { kind: "verdict"; verdict: number }
  | { kind: "jump"; chain: string }
  | { kind: "immediate"; dreg: number; data: Uint8Array }
  | { kind: "ct set mark"; sreg: number }
  | { kind: "ct load mark"; dreg: number }
  | { kind: "meta load"; key: number; dreg: number }
  | { kind: "cmp"; sreg: number; op: number; data: Uint8Array }
  | { kind: "hton"; reg: number; len: number; size: number }
  | { kind: "payload load"; base: number; offset: number; len: number; dreg: number }
  | { kind: "numgen"; dreg: number; type: number; modulus: number; offset: number }
  | { kind: "hash"; dreg: number; type: number; modulus: number; offset: number; input?: { sreg: number; len: number; seed: number } }
  | { kind: "dnat"; family: number; addrReg: number; protoReg?: number }
  | { kind: "objref"; type: number; name: string }
  // The fixed rules of the hook chains (fixed-rules.ts):
  | { kind: "ct load"; key: number; dreg: number; dir?: number }
  | { kind: "bitwise"; reg: number; mask: Uint8Array; xor: Uint8Array }
  | { kind: "lookup"; sreg: number; set: string; dreg?: number }
  | { kind: "masq" };

const HEX32 = "0x[0-9a-fA-F]{1,8}";
const MOD = "[1-9][0-9]{0,9}";
const L4 = "(?:meta l4proto (tcp|udp|sctp) )?";
/** A named counter (core's `counter name c/FARM/BACKEND`), bare as nft reads it: see COUNTER_NAME in core. */
const COUNTER = "(?:counter name ([A-Za-z][A-Za-z0-9_./-]{0,254}) )?";
const NAT = "dnat (ip|ip6) to (\\S+)";

const DROP = /^drop$/;
/** A chain name nft reads bare (plan.ts's NAME): the scheduler chain a farm chain jumps to. */
const JUMP = /^jump ([A-Za-z_.][A-Za-z0-9_./-]{0,254})$/;
const SET_VALUE = new RegExp(`^ct mark set (${HEX32}) ${L4}${COUNTER}${NAT}$`);
const SET_NUMGEN = new RegExp(`^ct mark set numgen (inc|random) mod (${MOD})(?: offset (${HEX32}))?$`);
const SET_SYMHASH = new RegExp(`^ct mark set symhash mod (${MOD})(?: offset (${HEX32}))?$`);
const SET_JHASH = new RegExp(`^ct mark set jhash ([a-z0-9 .]+?) mod (${MOD}) seed (${HEX32})(?: offset (${HEX32}))?$`);
const MATCH_MARK = new RegExp(`^ct mark (${HEX32})(?:-(${HEX32}))? ${L4}${COUNTER}${NAT}$`);
/** A scheduler chain's translation of a range of draws to a backend id (core's schedRules): a draw of one value, or a constant. */
const MATCH_SET = new RegExp(`^ct mark (${HEX32})(?:-(${HEX32}))? (ct mark set (?:numgen (?:inc|random) mod ${MOD}(?: offset ${HEX32})?|${HEX32}))$`);
const SET_CONST = new RegExp(`^ct mark set (${HEX32})$`);

const u32 = (text: string): number => Number.parseInt(text.slice(2), 16);

function modulus(text: string): number | null {
  const n = Number(text);
  return n >= 1 && n <= 0xffff_ffff ? n : null;
}

/** A u32 in host byte order (ct mark and immediate values nft writes as host-order integers). */
function hostU32(n: number): Uint8Array {
  return Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
}

function bigEndianU32(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** The 16 bytes of an IPv6 address in network order, or null (zone ids, anything inet_pton refuses). */
export function ipv6Bytes(text: string): Uint8Array | null {
  if (!isIPv6(text) || text.includes("%")) return null;
  let groups: string[];
  let tail: number[] = [];
  let addr = text;
  const lastColon = addr.lastIndexOf(":");
  const maybeV4 = addr.slice(lastColon + 1);
  if (maybeV4.includes(".")) {
    if (!isIPv4(maybeV4)) return null;
    tail = maybeV4.split(".").map(Number);
    addr = `${addr.slice(0, lastColon + 1)}0:0`;
  }
  const halves = addr.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] === "" ? [] : (halves[0] as string).split(":");
  if (halves.length === 2) {
    const back = halves[1] === "" ? [] : (halves[1] as string).split(":");
    const missing = 8 - head.length - back.length;
    if (missing < 1) return null;
    groups = [...head, ...Array<string>(missing).fill("0"), ...back];
  } else groups = head;
  if (groups.length !== 8) return null;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = Number.parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  if (tail.length === 4) out.set(tail, 12);
  return out;
}

interface NatTarget {
  family: number;
  addr: Uint8Array;
  port: number | null;
}

const PORT = "([1-9][0-9]{0,4})";
const V4_TARGET = new RegExp(`^([0-9.]+)(?::${PORT})?$`);
const V6_BRACKETED = new RegExp(`^\\[([0-9a-fA-F:.]+)\\]:${PORT}$`);
const V6_BARE = /^([0-9a-fA-F:.]+)$/;

/** A port's text (PORT's digits) as a number, null for none, undefined past 65535. */
function portOf(p: string | undefined): number | null | undefined {
  if (p === undefined) return null;
  const n = Number(p);
  return n <= 65535 ? n : undefined;
}

function natTarget(word: string, text: string): NatTarget | null {
  if (word === "ip") {
    const m = V4_TARGET.exec(text);
    if (!m || !isIPv4(m[1] as string)) return null;
    const port = portOf(m[2]);
    if (port === undefined) return null;
    return { family: NFPROTO_IPV4, addr: Uint8Array.from((m[1] as string).split(".").map(Number)), port };
  }
  const bracketed = V6_BRACKETED.exec(text);
  const bare = bracketed ? null : V6_BARE.exec(text);
  const m = bracketed ?? bare;
  if (!m) return null;
  const addr = ipv6Bytes(m[1] as string);
  if (addr === null) return null;
  const port = bracketed ? portOf(m[2]) : null;
  if (port === undefined) return null;
  return { family: NFPROTO_IPV6, addr, port };
}

/**
 * `[meta l4proto P ][counter name C ]dnat ip|ip6 to T`: the protocol match (nft needs one
 * before a port), the named counter (nft's objref expression, type counter, by name), the nat.
 */
function dnatExprs(l4: string | undefined, counter: string | undefined, word: string, target: string): Expr[] | null {
  const to = natTarget(word, target);
  if (to === null) return null;
  // nft refuses a port without a transport protocol match before it.
  if (to.port !== null && l4 === undefined) return null;
  const out: Expr[] = [];
  if (l4 !== undefined) {
    out.push({ kind: "meta load", key: NFT_META_L4PROTO, dreg: NFT_REG_1 });
    out.push({ kind: "cmp", sreg: NFT_REG_1, op: NFT_CMP_EQ, data: Uint8Array.of(IPPROTO[l4 as keyof typeof IPPROTO]) });
  }
  if (counter !== undefined) out.push({ kind: "objref", type: NFT_OBJECT_COUNTER, name: counter });
  out.push({ kind: "immediate", dreg: NFT_REG_1, data: to.addr });
  if (to.port === null) {
    out.push({ kind: "dnat", family: to.family, addrReg: NFT_REG_1 });
  } else {
    out.push({ kind: "immediate", dreg: NFT_REG_1 + 1, data: Uint8Array.of(to.port >> 8, to.port & 0xff) });
    out.push({ kind: "dnat", family: to.family, addrReg: NFT_REG_1, protoReg: NFT_REG_1 + 1 });
  }
  return out;
}

/** The fields a jhash input may name: the payload nft loads for each, and the family it needs. */
const HASH_FIELDS: Record<string, { base: number; offset: number; len: number; nfproto?: number }> = {
  "ip saddr": { base: NFT_PAYLOAD_NETWORK_HEADER, offset: 12, len: 4, nfproto: NFPROTO_IPV4 },
  "ip daddr": { base: NFT_PAYLOAD_NETWORK_HEADER, offset: 16, len: 4, nfproto: NFPROTO_IPV4 },
  "ip6 saddr": { base: NFT_PAYLOAD_NETWORK_HEADER, offset: 8, len: 16, nfproto: NFPROTO_IPV6 },
  "ip6 daddr": { base: NFT_PAYLOAD_NETWORK_HEADER, offset: 24, len: 16, nfproto: NFPROTO_IPV6 },
  "th sport": { base: NFT_PAYLOAD_TRANSPORT_HEADER, offset: 0, len: 2 },
  "th dport": { base: NFT_PAYLOAD_TRANSPORT_HEADER, offset: 2, len: 2 },
};

/**
 * nft's register for the 4-byte slot `unit` (1 = the first slot of reg 1): the 16-byte
 * name (reg 1..4) when the slot starts one, else the 4-byte name (NFT_REG32_xx), as
 * netlink_put_register does.
 */
const registerOf = (unit: number): number => ((unit - 1) % 4 === 0 ? NFT_REG_1 + (unit - 1) / 4 : NFT_REG32_00 + (unit - 1));

/** The slots nft has for a hash input after reg 1 (slots 5..16). */
const HASH_INPUT_SLOTS = 12;

/**
 * `jhash F[ . F...]` over ip/ip6 addresses and transport ports. ether fields (srcmac, dstmac)
 * bring nft's link-layer dependencies (iiftype, ether type) and are not handled: null.
 */
function jhashInput(fields: string): { deps: Expr[]; loads: Expr[]; len: number } | null {
  const names = fields.split(" . ");
  const specs = names.map((n) => HASH_FIELDS[n]);
  if (specs.some((s) => s === undefined)) return null;
  const known = specs as NonNullable<(typeof specs)[number]>[];
  const families = new Set(known.flatMap((s) => (s.nfproto === undefined ? [] : [s.nfproto])));
  if (families.size > 1) return null;
  const deps: Expr[] = [];
  const family = [...families][0];
  if (family !== undefined) {
    // nft's dependency for a network-header field in an inet chain: `meta nfproto ipv4|ipv6`.
    deps.push({ kind: "meta load", key: NFT_META_NFPROTO, dreg: NFT_REG_1 });
    deps.push({ kind: "cmp", sreg: NFT_REG_1, op: NFT_CMP_EQ, data: Uint8Array.of(family) });
  }
  const first = 5;
  if (known.length === 1) {
    const s = known[0] as (typeof known)[number];
    return { deps, loads: [{ kind: "payload load", base: s.base, offset: s.offset, len: s.len, dreg: registerOf(first) }], len: s.len };
  }
  const loads: Expr[] = [];
  let unit = first;
  for (const s of known) {
    loads.push({ kind: "payload load", base: s.base, offset: s.offset, len: s.len, dreg: registerOf(unit) });
    unit += Math.ceil(s.len / 4);
  }
  if (unit - first > HASH_INPUT_SLOTS) return null;
  return { deps, loads, len: (unit - first) * 4 };
}

const setMark: Expr = { kind: "ct set mark", sreg: NFT_REG_1 };

/** The expressions of one rule of a NAT farm chain, or null if the text is not one of the supported shapes. */
export function ruleExprs(text: string): Expr[] | null {
  if (DROP.test(text)) return [{ kind: "verdict", verdict: NF_DROP }];

  let m = SET_VALUE.exec(text);
  if (m) {
    const nat = dnatExprs(m[2], m[3], m[4] as string, m[5] as string);
    if (nat === null) return null;
    return [{ kind: "immediate", dreg: NFT_REG_1, data: hostU32(u32(m[1] as string)) }, setMark, ...nat];
  }

  m = SET_NUMGEN.exec(text);
  if (m) {
    const mod = modulus(m[2] as string);
    if (mod === null) return null;
    const type = m[1] === "inc" ? NFT_NG_INCREMENTAL : NFT_NG_RANDOM;
    return [{ kind: "numgen", dreg: NFT_REG_1, type, modulus: mod, offset: m[3] === undefined ? 0 : u32(m[3]) }, setMark];
  }

  m = SET_SYMHASH.exec(text);
  if (m) {
    const mod = modulus(m[1] as string);
    if (mod === null) return null;
    return [{ kind: "hash", dreg: NFT_REG_1, type: NFT_HASH_SYM, modulus: mod, offset: m[2] === undefined ? 0 : u32(m[2]) }, setMark];
  }

  m = SET_JHASH.exec(text);
  if (m) {
    const mod = modulus(m[2] as string);
    const input = jhashInput(m[1] as string);
    if (mod === null || input === null) return null;
    const sreg = registerOf(5);
    return [
      ...input.deps,
      ...input.loads,
      {
        kind: "hash",
        dreg: NFT_REG_1,
        type: NFT_HASH_JENKINS,
        modulus: mod,
        offset: m[4] === undefined ? 0 : u32(m[4]),
        input: { sreg, len: input.len, seed: u32(m[3] as string) },
      },
      setMark,
    ];
  }

  m = MATCH_MARK.exec(text);
  if (m) {
    const nat = dnatExprs(m[3], m[4], m[5] as string, m[6] as string);
    const match = markMatch(m[1] as string, m[2]);
    return nat === null || match === null ? null : [...match, ...nat];
  }

  m = MATCH_SET.exec(text);
  if (m) {
    const set = ruleExprs(m[3] as string);
    const match = markMatch(m[1] as string, m[2]);
    return set === null || match === null ? null : [...match, ...set];
  }

  m = SET_CONST.exec(text);
  if (m) return [{ kind: "immediate", dreg: NFT_REG_1, data: hostU32(u32(m[1] as string)) }, setMark];

  m = JUMP.exec(text);
  if (m) return [{ kind: "jump", chain: m[1] as string }];
  return null;
}

/** `ct mark A` or `ct mark A-B`, as nft matches it, or null for a range nft would refuse. */
function markMatch(fromText: string, toText: string | undefined): Expr[] | null {
  const from = u32(fromText);
  const load: Expr = { kind: "ct load mark", dreg: NFT_REG_1 };
  if (toText === undefined) return [load, { kind: "cmp", sreg: NFT_REG_1, op: NFT_CMP_EQ, data: hostU32(from) }];
  const to = u32(toText);
  // nft refuses a range whose ends are swapped; an empty range (a-a) is not a shape core emits.
  if (to <= from) return null;
  // The mark is a host-order integer: nft swaps it to network order to compare it as a range.
  return [
    load,
    { kind: "hton", reg: NFT_REG_1, len: 4, size: 4 },
    { kind: "cmp", sreg: NFT_REG_1, op: NFT_CMP_GTE, data: bigEndianU32(from) },
    { kind: "cmp", sreg: NFT_REG_1, op: NFT_CMP_LTE, data: bigEndianU32(to) },
  ];
}

// ---- nft --debug=netlink rendering (libnftnl's text form), for tests and error messages ----

const CMP_NAMES: Record<number, string> = { [NFT_CMP_EQ]: "eq", [NFT_CMP_LTE]: "lte", [NFT_CMP_GTE]: "gte" };
const META_NAMES: Record<number, string> = { [NFT_META_NFPROTO]: "nfproto", [NFT_META_L4PROTO]: "l4proto" };
const CT_NAMES: Record<number, string> = { 2: "status", 10: "protocol", 11: "proto_src", 12: "proto_dst", 19: "src_ip", 20: "dst_ip", 21: "src_ip6", 22: "dst_ip6" };
const BASE_NAMES: Record<number, string> = { [NFT_PAYLOAD_NETWORK_HEADER]: "network", [NFT_PAYLOAD_TRANSPORT_HEADER]: "transport" };

/** Data as libnftnl prints it: host-order 32-bit words, the last one zero-padded. */
function words(data: Uint8Array): string {
  const out: string[] = [];
  for (let i = 0; i < data.length; i += 4) {
    const w = new Uint8Array(4);
    w.set(data.subarray(i, i + 4));
    out.push(`0x${new DataView(w.buffer).getUint32(0, true).toString(16).padStart(8, "0")}`);
  }
  return out.join(" ");
}

/** One expression the way `nft --debug=netlink` shows it, e.g. `[ ct load mark => reg 1 ]`. */
export function describeExpr(e: Expr): string {
  const offset = (n: number) => (n === 0 ? "" : ` offset ${n}`);
  switch (e.kind) {
    case "verdict":
      return `[ immediate reg 0 ${e.verdict === NF_DROP ? "drop" : e.verdict === NF_ACCEPT ? "accept" : e.verdict} ]`;
    case "jump":
      return `[ immediate reg 0 jump -> ${e.chain} ]`;
    case "immediate":
      return `[ immediate reg ${e.dreg} ${words(e.data)} ]`;
    case "ct set mark":
      return `[ ct set mark with reg ${e.sreg} ]`;
    case "ct load mark":
      return `[ ct load mark => reg ${e.dreg} ]`;
    case "meta load":
      return `[ meta load ${META_NAMES[e.key]} => reg ${e.dreg} ]`;
    case "cmp":
      return `[ cmp ${CMP_NAMES[e.op]} reg ${e.sreg} ${words(e.data)} ]`;
    case "hton":
      return `[ byteorder reg ${e.reg} = hton(reg ${e.reg}, ${e.size}, ${e.len}) ]`;
    case "payload load":
      return `[ payload load ${e.len}b @ ${BASE_NAMES[e.base]} header + ${e.offset} => reg ${e.dreg} ]`;
    case "numgen":
      return `[ numgen reg ${e.dreg} = ${e.type === NFT_NG_INCREMENTAL ? "inc" : "random"} mod ${e.modulus}${offset(e.offset)} ]`;
    case "hash":
      return e.input === undefined
        ? `[ hash reg ${e.dreg} = symhash() % mod ${e.modulus}${offset(e.offset)} ]`
        : `[ hash reg ${e.dreg} = jhash(reg ${e.input.sreg}, ${e.input.len}, 0x${e.input.seed.toString(16).padStart(8, "0")}) % mod ${e.modulus}${offset(e.offset)} ]`;
    case "objref":
      return `[ objref type ${e.type} name ${e.name} ]`;
    case "ct load":
      return `[ ct load ${CT_NAMES[e.key] ?? e.key} => reg ${e.dreg}${e.dir === undefined ? "" : ` , dir ${e.dir === 0 ? "original" : "reply"}`} ]`;
    case "bitwise":
      return `[ bitwise reg ${e.reg} = ( reg ${e.reg} & ${words(e.mask)} ) ^ ${words(e.xor)} ]`;
    case "lookup":
      return `[ lookup reg ${e.sreg} set ${e.set}${e.dreg === undefined ? "" : ` dreg ${e.dreg}`} ]`;
    case "masq":
      return "[ masq ]";
    case "dnat":
      return `[ nat dnat ${e.family === NFPROTO_IPV4 ? "ip" : "ip6"} addr_min reg ${e.addrReg}${e.protoReg === undefined ? "" : ` proto_min reg ${e.protoReg} flags 0x2`} ]`;
  }
}
