import { createRequire } from "node:module";
import * as C from "./constants.ts";
import type { Expr } from "./rule.ts";

// libnftnl (rule and expression objects, their netlink encoding, batch begin/end), libmnl
// (the netlink socket) and two libc calls, through koffi. Loaded lazily: a host without
// koffi's binary or without the libraries gets null, never an exception.

type Koffi = typeof import("koffi");

/** An opaque C pointer as koffi hands it back. */
export type Ptr = object;

export interface Libs {
  koffi: Koffi;
  ruleAlloc: () => Ptr | null;
  ruleFree: (r: Ptr) => void;
  ruleSetU32: (r: Ptr, attr: number, v: number) => void;
  ruleSetStr: (r: Ptr, attr: number, s: string) => number;
  ruleAddExpr: (r: Ptr, e: Ptr) => void;
  ruleBuildPayload: (nlh: Ptr, r: Ptr) => void;
  ruleSnprintf: (buf: Buffer, size: number, r: Ptr, type: number, flags: number) => number;
  exprAlloc: (name: string) => Ptr | null;
  exprSetU32: (e: Ptr, attr: number, v: number) => void;
  exprSet: (e: Ptr, attr: number, data: Uint8Array, len: number) => number;
  exprSetStr: (e: Ptr, attr: number, s: string) => number;
  buildHdr: (buf: Buffer, type: number, family: number, flags: number, seq: number) => Ptr;
  batchBegin: (buf: Buffer, seq: number) => Ptr;
  batchEnd: (buf: Buffer, seq: number) => Ptr;
  socketOpen: (bus: number) => Ptr | null;
  socketBind: (nl: Ptr, groups: number, pid: number) => number;
  socketFd: (nl: Ptr) => number;
  socketPortid: (nl: Ptr) => number;
  socketSendto: (nl: Ptr, buf: Buffer, len: number) => number;
  /** mnl_socket_sendto on one of koffi's worker threads: the bytes sent, and errno when it failed. */
  socketSendtoAsync: (nl: Ptr, buf: Buffer, len: number) => Promise<{ sent: number; errno: number }>;
  socketRecvfrom: (nl: Ptr, buf: Buffer, len: number) => number;
  socketSetsockopt: (nl: Ptr, type: number, buf: Buffer, len: number) => number;
  socketClose: (nl: Ptr) => number;
  setsockopt: (fd: number, level: number, name: number, buf: Buffer, len: number) => number;
  recv: (fd: number, buf: Buffer, len: number, flags: number) => number;
}

let cached: Libs | null | undefined;

/** Why loadLibs returned null. */
export let loadError: string | undefined;

/** The shared objects the refiller binds (sonames of libnftnl 1.2.x and libmnl 1.0.x). */
export const LIBRARIES = { nftnl: "libnftnl.so.11", mnl: "libmnl.so.0", libc: "libc.so.6" };

/** The bindings, or null (with the reason in `loadError`) when any part cannot load. Loaded once. */
export function loadLibs(): Libs | null {
  if (cached === undefined) cached = bindLibs(LIBRARIES);
  return cached;
}

/** Binds the given libraries (tests pass a missing one); null, with `loadError` set, on any failure. */
export function bindLibs(names: typeof LIBRARIES): Libs | null {
  try {
    const koffi = createRequire(import.meta.url)("koffi") as Koffi;
    const nftnl = koffi.load(names.nftnl);
    const mnl = koffi.load(names.mnl);
    const libc = koffi.load(names.libc);
    const f = (lib: ReturnType<Koffi["load"]>, decl: string) => lib.func(decl);
    const sendto = f(mnl, "long mnl_socket_sendto(void *nl, const void *buf, size_t len)");
    return {
      koffi,
      ruleAlloc: f(nftnl, "void *nftnl_rule_alloc(void)"),
      ruleFree: f(nftnl, "void nftnl_rule_free(void *r)"),
      ruleSetU32: f(nftnl, "void nftnl_rule_set_u32(void *r, uint16_t attr, uint32_t val)"),
      ruleSetStr: f(nftnl, "int nftnl_rule_set_str(void *r, uint16_t attr, const char *str)"),
      ruleAddExpr: f(nftnl, "void nftnl_rule_add_expr(void *r, void *e)"),
      ruleBuildPayload: f(nftnl, "void nftnl_rule_nlmsg_build_payload(void *nlh, void *r)"),
      ruleSnprintf: f(nftnl, "int nftnl_rule_snprintf(void *buf, size_t size, void *r, uint32_t type, uint32_t flags)"),
      exprAlloc: f(nftnl, "void *nftnl_expr_alloc(const char *name)"),
      exprSetU32: f(nftnl, "void nftnl_expr_set_u32(void *e, uint16_t type, uint32_t data)"),
      exprSet: f(nftnl, "int nftnl_expr_set(void *e, uint16_t type, const void *data, uint32_t len)"),
      exprSetStr: f(nftnl, "int nftnl_expr_set_str(void *e, uint16_t type, const char *str)"),
      buildHdr: f(nftnl, "void *nftnl_nlmsg_build_hdr(void *buf, uint16_t type, uint16_t family, uint16_t flags, uint32_t seq)"),
      batchBegin: f(nftnl, "void *nftnl_batch_begin(void *buf, uint32_t seq)"),
      batchEnd: f(nftnl, "void *nftnl_batch_end(void *buf, uint32_t seq)"),
      socketOpen: f(mnl, "void *mnl_socket_open(int bus)"),
      socketBind: f(mnl, "int mnl_socket_bind(void *nl, unsigned int groups, int pid)"),
      socketFd: f(mnl, "int mnl_socket_get_fd(void *nl)"),
      socketPortid: f(mnl, "unsigned int mnl_socket_get_portid(void *nl)"),
      socketSendto: sendto,
      // koffi hands the call's errno to koffi.errno() on the main thread before the callback.
      socketSendtoAsync: (nl, buf, len) =>
        new Promise((resolve, reject) =>
          sendto.async(nl, buf, len, (error: unknown, sent: number) => (error ? reject(error as Error) : resolve({ sent, errno: sent < 0 ? koffi.errno() : 0 }))),
        ),
      socketRecvfrom: f(mnl, "long mnl_socket_recvfrom(void *nl, void *buf, size_t len)"),
      socketSetsockopt: f(mnl, "int mnl_socket_setsockopt(void *nl, int type, void *buf, uint32_t len)"),
      socketClose: f(mnl, "int mnl_socket_close(void *nl)"),
      setsockopt: f(libc, "int setsockopt(int fd, int level, int name, const void *val, uint32_t len)"),
      recv: f(libc, "long recv(int fd, void *buf, size_t len, int flags)"),
    };
  } catch (err) {
    loadError = err instanceof Error ? err.message : String(err);
    return null;
  }
}

const ALLOC_FAILED = "libnftnl: out of memory";

function expr(libs: Libs, name: string): Ptr {
  const e = libs.exprAlloc(name);
  if (e === null) throw new Error(ALLOC_FAILED);
  return e;
}

/** One expression as the nftnl object nft's netlink_linearize.c builds for it (same attributes set). */
function nftnlExpr(libs: Libs, x: Expr, setIds: ReadonlyMap<string, number>): Ptr {
  const u32 = libs.exprSetU32;
  const data = (e: Ptr, attr: number, d: Uint8Array) => libs.exprSet(e, attr, d, d.length);
  let e: Ptr;
  switch (x.kind) {
    case "verdict":
      e = expr(libs, "immediate");
      u32(e, C.NFTNL_EXPR_IMM_DREG, C.NFT_REG_VERDICT);
      u32(e, C.NFTNL_EXPR_IMM_VERDICT, x.verdict);
      return e;
    case "jump":
      // nft's netlink_gen_verdict: the verdict code and the target chain by name.
      e = expr(libs, "immediate");
      u32(e, C.NFTNL_EXPR_IMM_DREG, C.NFT_REG_VERDICT);
      u32(e, C.NFTNL_EXPR_IMM_VERDICT, C.NFT_JUMP);
      if (libs.exprSetStr(e, C.NFTNL_EXPR_IMM_CHAIN, x.chain) < 0) throw new Error(ALLOC_FAILED);
      return e;
    case "immediate":
      e = expr(libs, "immediate");
      u32(e, C.NFTNL_EXPR_IMM_DREG, x.dreg);
      data(e, C.NFTNL_EXPR_IMM_DATA, x.data);
      return e;
    case "ct set mark":
      e = expr(libs, "ct");
      u32(e, C.NFTNL_EXPR_CT_SREG, x.sreg);
      u32(e, C.NFTNL_EXPR_CT_KEY, C.NFT_CT_MARK);
      return e;
    case "ct load mark":
      e = expr(libs, "ct");
      u32(e, C.NFTNL_EXPR_CT_DREG, x.dreg);
      u32(e, C.NFTNL_EXPR_CT_KEY, C.NFT_CT_MARK);
      return e;
    case "meta load":
      e = expr(libs, "meta");
      u32(e, C.NFTNL_EXPR_META_DREG, x.dreg);
      u32(e, C.NFTNL_EXPR_META_KEY, x.key);
      return e;
    case "cmp":
      e = expr(libs, "cmp");
      u32(e, C.NFTNL_EXPR_CMP_SREG, x.sreg);
      u32(e, C.NFTNL_EXPR_CMP_OP, x.op);
      data(e, C.NFTNL_EXPR_CMP_DATA, x.data);
      return e;
    case "hton":
      e = expr(libs, "byteorder");
      u32(e, C.NFTNL_EXPR_BYTEORDER_SREG, x.reg);
      u32(e, C.NFTNL_EXPR_BYTEORDER_DREG, x.reg);
      u32(e, C.NFTNL_EXPR_BYTEORDER_LEN, x.len);
      u32(e, C.NFTNL_EXPR_BYTEORDER_SIZE, x.size);
      u32(e, C.NFTNL_EXPR_BYTEORDER_OP, C.NFT_BYTEORDER_HTON);
      return e;
    case "payload load":
      e = expr(libs, "payload");
      u32(e, C.NFTNL_EXPR_PAYLOAD_DREG, x.dreg);
      u32(e, C.NFTNL_EXPR_PAYLOAD_BASE, x.base);
      u32(e, C.NFTNL_EXPR_PAYLOAD_OFFSET, x.offset);
      u32(e, C.NFTNL_EXPR_PAYLOAD_LEN, x.len);
      return e;
    case "numgen":
      e = expr(libs, "numgen");
      u32(e, C.NFTNL_EXPR_NG_DREG, x.dreg);
      u32(e, C.NFTNL_EXPR_NG_TYPE, x.type);
      u32(e, C.NFTNL_EXPR_NG_MODULUS, x.modulus);
      u32(e, C.NFTNL_EXPR_NG_OFFSET, x.offset);
      return e;
    case "hash":
      e = expr(libs, "hash");
      if (x.input !== undefined) {
        u32(e, C.NFTNL_EXPR_HASH_SREG, x.input.sreg);
        u32(e, C.NFTNL_EXPR_HASH_LEN, x.input.len);
      }
      u32(e, C.NFTNL_EXPR_HASH_DREG, x.dreg);
      u32(e, C.NFTNL_EXPR_HASH_MODULUS, x.modulus);
      if (x.input !== undefined) u32(e, C.NFTNL_EXPR_HASH_SEED, x.input.seed);
      u32(e, C.NFTNL_EXPR_HASH_OFFSET, x.offset);
      u32(e, C.NFTNL_EXPR_HASH_TYPE, x.type);
      return e;
    case "objref":
      // nft's netlink_gen_objref_stmt: the object type and its name (no set lookup).
      e = expr(libs, "objref");
      u32(e, C.NFTNL_EXPR_OBJREF_IMM_TYPE, x.type);
      if (libs.exprSetStr(e, C.NFTNL_EXPR_OBJREF_IMM_NAME, x.name) < 0) throw new Error(ALLOC_FAILED);
      return e;
    case "ct load":
      e = expr(libs, "ct");
      u32(e, C.NFTNL_EXPR_CT_DREG, x.dreg);
      u32(e, C.NFTNL_EXPR_CT_KEY, x.key);
      if (x.dir !== undefined) data(e, C.NFTNL_EXPR_CT_DIR, Uint8Array.of(x.dir));
      return e;
    case "bitwise":
      // nft's netlink_gen_bitwise for `EXPR and MASK`: a boolean op with a zero xor.
      e = expr(libs, "bitwise");
      u32(e, C.NFTNL_EXPR_BITWISE_SREG, x.reg);
      u32(e, C.NFTNL_EXPR_BITWISE_DREG, x.reg);
      u32(e, C.NFTNL_EXPR_BITWISE_OP, C.NFT_BITWISE_BOOL);
      u32(e, C.NFTNL_EXPR_BITWISE_LEN, x.mask.length);
      data(e, C.NFTNL_EXPR_BITWISE_MASK, x.mask);
      data(e, C.NFTNL_EXPR_BITWISE_XOR, x.xor);
      return e;
    case "lookup": {
      e = expr(libs, "lookup");
      u32(e, C.NFTNL_EXPR_LOOKUP_SREG, x.sreg);
      if (x.dreg !== undefined) u32(e, C.NFTNL_EXPR_LOOKUP_DREG, x.dreg);
      if (libs.exprSetStr(e, C.NFTNL_EXPR_LOOKUP_SET, x.set) < 0) throw new Error(ALLOC_FAILED);
      const id = setIds.get(x.set);
      if (id !== undefined) u32(e, C.NFTNL_EXPR_LOOKUP_SET_ID, id);
      return e;
    }
    case "masq":
      return expr(libs, "masq");
    case "dnat":
      e = expr(libs, "nat");
      u32(e, C.NFTNL_EXPR_NAT_TYPE, C.NFT_NAT_DNAT);
      u32(e, C.NFTNL_EXPR_NAT_FAMILY, x.family);
      if (x.protoReg !== undefined) u32(e, C.NFTNL_EXPR_NAT_FLAGS, C.NF_NAT_RANGE_PROTO_SPECIFIED);
      u32(e, C.NFTNL_EXPR_NAT_REG_ADDR_MIN, x.addrReg);
      if (x.protoReg !== undefined) u32(e, C.NFTNL_EXPR_NAT_REG_PROTO_MIN, x.protoReg);
      return e;
  }
}

/** A new nftnl_rule for family inet, table, chain and (for NEWRULE) these expressions. The caller frees it. */
export function nftnlRule(libs: Libs, table: string, chain: string, exprs: readonly Expr[], setIds: ReadonlyMap<string, number> = new Map()): Ptr {
  const r = libs.ruleAlloc();
  if (r === null) throw new Error(ALLOC_FAILED);
  try {
    libs.ruleSetU32(r, C.NFTNL_RULE_FAMILY, C.NFPROTO_INET);
    if (libs.ruleSetStr(r, C.NFTNL_RULE_TABLE, table) < 0 || libs.ruleSetStr(r, C.NFTNL_RULE_CHAIN, chain) < 0) throw new Error(ALLOC_FAILED);
    for (const x of exprs) libs.ruleAddExpr(r, nftnlExpr(libs, x, setIds));
  } catch (err) {
    libs.ruleFree(r);
    throw err;
  }
  return r;
}

/** libnftnl's text of a rule (what `nft --debug=netlink` prints), for tests and diagnostics. */
export function nftnlRuleText(libs: Libs, table: string, chain: string, exprs: readonly Expr[], setIds?: ReadonlyMap<string, number>): string {
  const r = nftnlRule(libs, table, chain, exprs, setIds);
  try {
    const buf = Buffer.alloc(16384);
    const n = libs.ruleSnprintf(buf, buf.length, r, 0, 0);
    return buf.subarray(0, Math.min(n, buf.length - 1)).toString("utf8");
  } finally {
    libs.ruleFree(r);
  }
}
