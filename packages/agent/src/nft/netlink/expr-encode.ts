import * as constants from "./constants.ts";
import type { NlWriter } from "./nl-writer.ts";
import type { Expr } from "./rule.ts";

// A plain object: run through tsx, a module namespace's every member is a getter call, and
// the encoder reads these constants some million times a batch.
const C = { ...constants };

// Expr[] -> the NFTA_RULE_EXPRESSIONS nest, in pure JS, byte for byte what libnftnl 1.2.4's
// nftnl_rule_nlmsg_build_payload writes for the same expressions as ffi.ts builds them: the
// same attributes, in the order each expression's build function emits them (not always by
// number: meta and ct put KEY before DREG, lookup SREG before SET). expr-encode.unit.test.ts
// holds every shape against libnftnl's bytes.

/** How a lookup names its set: the set's id in this batch (the set is created by the same batch). */
export type SetIds = ReadonlyMap<string, number>;

function data(w: NlWriter, type: number, value: Uint8Array): void {
  const n = w.nest(type);
  w.bytes(C.NFTA_DATA_VALUE, value);
  w.nestEnd(n);
}

function verdict(w: NlWriter, code: number, chain?: string): void {
  const d = w.nest(C.NFTA_IMMEDIATE.DATA);
  const v = w.nest(C.NFTA_DATA_VERDICT);
  w.u32(C.NFTA_VERDICT_CODE, code);
  if (chain !== undefined) w.strz(C.NFTA_VERDICT_CHAIN, chain);
  w.nestEnd(v);
  w.nestEnd(d);
}

const NAMES: Record<Expr["kind"], string> = {
  verdict: "immediate",
  jump: "immediate",
  immediate: "immediate",
  "ct set mark": "ct",
  "ct load mark": "ct",
  "ct load": "ct",
  "meta load": "meta",
  cmp: "cmp",
  hton: "byteorder",
  "payload load": "payload",
  numgen: "numgen",
  hash: "hash",
  dnat: "nat",
  objref: "objref",
  bitwise: "bitwise",
  lookup: "lookup",
  masq: "masq",
};

/** One expression's NFTA_EXPR_DATA attributes. */
function body(w: NlWriter, x: Expr, setIds: SetIds): void {
  switch (x.kind) {
    case "verdict":
      w.u32(C.NFTA_IMMEDIATE.DREG, C.NFT_REG_VERDICT);
      return verdict(w, x.verdict);
    case "jump":
      w.u32(C.NFTA_IMMEDIATE.DREG, C.NFT_REG_VERDICT);
      return verdict(w, C.NFT_JUMP, x.chain);
    case "immediate":
      w.u32(C.NFTA_IMMEDIATE.DREG, x.dreg);
      return data(w, C.NFTA_IMMEDIATE.DATA, x.data);
    case "ct set mark":
      w.u32(C.NFTA_CT.KEY, C.NFT_CT_MARK);
      return w.u32(C.NFTA_CT.SREG, x.sreg);
    case "ct load mark":
      w.u32(C.NFTA_CT.KEY, C.NFT_CT_MARK);
      return w.u32(C.NFTA_CT.DREG, x.dreg);
    case "ct load":
      w.u32(C.NFTA_CT.KEY, x.key);
      w.u32(C.NFTA_CT.DREG, x.dreg);
      if (x.dir !== undefined) w.u8(C.NFTA_CT.DIRECTION, x.dir);
      return;
    case "meta load":
      w.u32(C.NFTA_META.KEY, x.key);
      return w.u32(C.NFTA_META.DREG, x.dreg);
    case "cmp":
      w.u32(C.NFTA_CMP.SREG, x.sreg);
      w.u32(C.NFTA_CMP.OP, x.op);
      return data(w, C.NFTA_CMP.DATA, x.data);
    case "hton":
      w.u32(C.NFTA_BYTEORDER.SREG, x.reg);
      w.u32(C.NFTA_BYTEORDER.DREG, x.reg);
      w.u32(C.NFTA_BYTEORDER.OP, C.NFT_BYTEORDER_HTON);
      w.u32(C.NFTA_BYTEORDER.LEN, x.len);
      return w.u32(C.NFTA_BYTEORDER.SIZE, x.size);
    case "payload load":
      w.u32(C.NFTA_PAYLOAD.DREG, x.dreg);
      w.u32(C.NFTA_PAYLOAD.BASE, x.base);
      w.u32(C.NFTA_PAYLOAD.OFFSET, x.offset);
      return w.u32(C.NFTA_PAYLOAD.LEN, x.len);
    case "numgen":
      w.u32(C.NFTA_NG.DREG, x.dreg);
      w.u32(C.NFTA_NG.MODULUS, x.modulus);
      w.u32(C.NFTA_NG.TYPE, x.type);
      return w.u32(C.NFTA_NG.OFFSET, x.offset);
    case "hash":
      if (x.input !== undefined) w.u32(C.NFTA_HASH.SREG, x.input.sreg);
      w.u32(C.NFTA_HASH.DREG, x.dreg);
      if (x.input !== undefined) w.u32(C.NFTA_HASH.LEN, x.input.len);
      w.u32(C.NFTA_HASH.MODULUS, x.modulus);
      if (x.input !== undefined) w.u32(C.NFTA_HASH.SEED, x.input.seed);
      w.u32(C.NFTA_HASH.OFFSET, x.offset);
      return w.u32(C.NFTA_HASH.TYPE, x.type);
    case "objref":
      w.u32(C.NFTA_OBJREF.IMM_TYPE, x.type);
      // libnftnl writes this one name without its NUL (mnl_attr_put_str); the kernel takes both.
      return w.str(C.NFTA_OBJREF.IMM_NAME, x.name);
    case "dnat":
      w.u32(C.NFTA_NAT.TYPE, C.NFT_NAT_DNAT);
      w.u32(C.NFTA_NAT.FAMILY, x.family);
      w.u32(C.NFTA_NAT.REG_ADDR_MIN, x.addrReg);
      if (x.protoReg !== undefined) {
        w.u32(C.NFTA_NAT.REG_PROTO_MIN, x.protoReg);
        w.u32(C.NFTA_NAT.FLAGS, C.NF_NAT_RANGE_PROTO_SPECIFIED);
      }
      return;
    case "bitwise":
      w.u32(C.NFTA_BITWISE.SREG, x.reg);
      w.u32(C.NFTA_BITWISE.DREG, x.reg);
      w.u32(C.NFTA_BITWISE.OP, C.NFT_BITWISE_BOOL);
      w.u32(C.NFTA_BITWISE.LEN, x.mask.length);
      data(w, C.NFTA_BITWISE.MASK, x.mask);
      return data(w, C.NFTA_BITWISE.XOR, x.xor);
    case "lookup": {
      const id = setIds.get(x.set);
      if (id === undefined) throw new Error(`netlink: a rule looks up set ${x.set}, which the batch does not create`);
      w.u32(C.NFTA_LOOKUP.SREG, x.sreg);
      if (x.dreg !== undefined) w.u32(C.NFTA_LOOKUP.DREG, x.dreg);
      w.strz(C.NFTA_LOOKUP.SET, x.set);
      return w.u32(C.NFTA_LOOKUP.SET_ID, id);
    }
    case "masq":
      return;
  }
}

/** NFTA_RULE_EXPRESSIONS with one NFTA_LIST_ELEM per expression. */
export function writeExpressions(w: NlWriter, exprs: readonly Expr[], setIds: SetIds): void {
  const list = w.nest(C.NFTA_RULE_EXPRESSIONS);
  for (const x of exprs) {
    const elem = w.nest(C.NFTA_LIST_ELEM);
    w.strz(C.NFTA_EXPR_NAME, NAMES[x.kind]);
    const d = w.nest(C.NFTA_EXPR_DATA);
    body(w, x, setIds);
    w.nestEnd(d);
    w.nestEnd(elem);
  }
  w.nestEnd(list);
}
