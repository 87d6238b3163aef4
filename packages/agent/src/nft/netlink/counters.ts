import type { CounterValue } from "@switchyard/core";
import * as C from "./constants.ts";
import type { Libs, Ptr } from "./ffi.ts";
import { openNetfilterSocket } from "./socket.ts";

// Named counters read straight from the kernel: one NFT_MSG_GETOBJ dump (type counter, one
// table) on a netlink socket of this network namespace, parsed here. `nft -j list counters`
// loads nft's cache of the whole table first (every chain and rule): about 1 s at 10,000
// farms x 4 backends, where this dump takes a few tens of milliseconds.

export interface CounterDumper {
  /** The table's named counters by name; an empty map when the table has none or does not exist. Throws on a netlink error. */
  read(table: string, family?: number): Map<string, CounterValue>;
  close(): void;
}

const NLMSG_HDRLEN = 16;
const NFGENMSG_LEN = 4;
const align4 = (n: number) => (n + 3) & ~3;
const NLA_TYPE_MASK = 0x3fff;
const RECV_BUFFER = 1 << 20;
const ATTEMPTS = 3;

/** The request: nlmsghdr + nfgenmsg + NFTA_OBJ_TABLE (string) + NFTA_OBJ_TYPE (counter, big-endian u32). */
export function dumpRequest(table: string, family: number, seq: number): Buffer {
  const name = Buffer.from(`${table}\0`, "utf8");
  const tableAttr = 4 + name.length;
  const len = NLMSG_HDRLEN + NFGENMSG_LEN + align4(tableAttr) + 8;
  const b = Buffer.alloc(len);
  b.writeUInt32LE(len, 0);
  b.writeUInt16LE((C.NFNL_SUBSYS_NFTABLES << 8) | C.NFT_MSG_GETOBJ, 4);
  b.writeUInt16LE(C.NLM_F_REQUEST | C.NLM_F_DUMP, 6);
  b.writeUInt32LE(seq, 8);
  b.writeUInt32LE(0, 12);
  b.writeUInt8(family, 16); // nfgen_family; version 0, res_id 0
  let at = NLMSG_HDRLEN + NFGENMSG_LEN;
  b.writeUInt16LE(tableAttr, at);
  b.writeUInt16LE(C.NFTA_OBJ_TABLE, at + 2);
  name.copy(b, at + 4);
  at += align4(tableAttr);
  b.writeUInt16LE(8, at);
  b.writeUInt16LE(C.NFTA_OBJ_TYPE, at + 2);
  b.writeUInt32BE(C.NFT_OBJECT_COUNTER, at + 4);
  return b;
}

/** Attributes in [start, end) as type -> [offset of the payload, its length]. */
function attrs(buf: Buffer, start: number, end: number): Map<number, [number, number]> {
  const out = new Map<number, [number, number]>();
  let at = start;
  while (at + 4 <= end) {
    const len = buf.readUInt16LE(at);
    if (len < 4 || at + len > end) break;
    out.set(buf.readUInt16LE(at + 2) & NLA_TYPE_MASK, [at + 4, len - 4]);
    at += align4(len);
  }
  return out;
}

/**
 * Parses the messages of one recv into `into`; returns whether the dump is done and whether
 * the kernel flagged it as interrupted (the ruleset changed during it: start again).
 */
export function parseDumpChunk(buf: Buffer, n: number, seq: number, into: Map<string, CounterValue>): { done: boolean; interrupted: boolean } {
  let off = 0;
  let interrupted = false;
  while (off + NLMSG_HDRLEN <= n) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > n) break;
    const type = buf.readUInt16LE(off + 4);
    const flags = buf.readUInt16LE(off + 6);
    if (buf.readUInt32LE(off + 8) !== seq) {
      off += align4(len);
      continue;
    }
    if (flags & C.NLM_F_DUMP_INTR) interrupted = true;
    if (type === C.NLMSG_DONE) return { done: true, interrupted };
    if (type === C.NLMSG_ERROR) {
      const errno = -buf.readInt32LE(off + NLMSG_HDRLEN);
      if (errno === 0) return { done: true, interrupted };
      throw new Error(`netlink: the kernel refused the counter dump: errno ${errno}`);
    }
    if (type === ((C.NFNL_SUBSYS_NFTABLES << 8) | C.NFT_MSG_NEWOBJ)) {
      const a = attrs(buf, off + NLMSG_HDRLEN + NFGENMSG_LEN, off + len);
      const name = a.get(C.NFTA_OBJ_NAME);
      const type = a.get(C.NFTA_OBJ_TYPE);
      const data = a.get(C.NFTA_OBJ_DATA);
      if (name !== undefined && type !== undefined && buf.readUInt32BE(type[0]) === C.NFT_OBJECT_COUNTER && data !== undefined) {
        const d = attrs(buf, data[0], data[0] + data[1]);
        const u64 = (attr: [number, number] | undefined) => (attr === undefined ? 0 : Number(buf.readBigUInt64BE(attr[0])));
        into.set(buf.toString("utf8", name[0], name[0] + name[1]).replace(/\0+$/, ""), {
          packets: u64(d.get(C.NFTA_COUNTER_PACKETS)),
          bytes: u64(d.get(C.NFTA_COUNTER_BYTES)),
        });
      }
    }
    off += align4(len);
  }
  return { done: false, interrupted };
}

class Dumper implements CounterDumper {
  private readonly buf = Buffer.alloc(RECV_BUFFER);
  private seq = Math.floor(Date.now() / 1000) >>> 0;
  private closed = false;

  constructor(
    private readonly libs: Libs,
    private readonly nl: Ptr,
  ) {}

  read(table: string, family = C.NFPROTO_INET): Map<string, CounterValue> {
    if (this.closed) throw new Error("counter dumper is closed");
    for (let attempt = 1; ; attempt++) {
      const seq = (this.seq = (this.seq + 1) >>> 0);
      const request = dumpRequest(table, family, seq);
      if (this.libs.socketSendto(this.nl, request, request.length) !== request.length) {
        throw new Error(`netlink: sending the counter dump request failed (errno ${this.libs.koffi.errno()})`);
      }
      const out = new Map<string, CounterValue>();
      let interrupted = false;
      for (;;) {
        const n = this.libs.socketRecvfrom(this.nl, this.buf, this.buf.length);
        if (n < 0) throw new Error(`netlink: reading the counter dump failed (errno ${this.libs.koffi.errno()})`);
        const chunk = parseDumpChunk(this.buf, n, seq, out);
        interrupted ||= chunk.interrupted;
        if (chunk.done) break;
      }
      if (!interrupted) return out;
      if (attempt >= ATTEMPTS) throw new Error(`netlink: the ruleset kept changing during ${ATTEMPTS} counter dumps`);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.libs.socketClose(this.nl);
  }
}

/** A dumper on a netlink socket of this network namespace, or null (no koffi, libnftnl or libmnl; never throws). */
export function openCounterDumper(): CounterDumper | null {
  const socket = openNetfilterSocket({ receiveBuffer: RECV_BUFFER * 4, timeoutSeconds: 5 });
  return socket === null ? null : new Dumper(socket.libs, socket.nl);
}
