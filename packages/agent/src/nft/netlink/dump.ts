import { getSystemErrorMap } from "node:util";
import * as C from "./constants.ts";
import { openNetfilterSocket, type NetfilterSocket } from "./socket.ts";

// The netlink dump loop the nf_tables readers share (named counters, set elements): one
// request with NLM_F_DUMP, then recv until NLMSG_DONE, the answer parsed as it arrives, and
// the whole dump started again when the kernel flags it interrupted (the ruleset changed while
// it was being dumped, so what was read may mix two generations).

export const NLMSG_HDRLEN = 16;
export const NFGENMSG_LEN = 4;
export const align4 = (n: number) => (n + 3) & ~3;
/** An attribute type without its NLA_F_NESTED and NLA_F_NET_BYTEORDER flags (the kernel sets them on some nests, not all). */
export const NLA_TYPE_MASK = 0x3fff;
/**
 * Bigger than any skb the kernel fills for one dump recv: netlink caps them at 32 KiB
 * (netlink_recvmsg's max_recvmsg_len). Kept by each dumper for its life: 64 KiB, not 1 MiB.
 */
const RECV_BUFFER = 1 << 16;
const ATTEMPTS = 3;
const EINTR = 4;

export function errnoText(errno: number): string {
  const entry = getSystemErrorMap().get(-errno);
  return entry === undefined ? `errno ${errno}` : `${entry[0]} (${entry[1]})`;
}

/** A NUL-terminated string attribute's payload, as the kernel's NLA_STRING policy takes it. */
export const cString = (text: string) => Buffer.from(`${text}\0`, "utf8");

/** A request: nlmsghdr (REQUEST | DUMP unless told) + nfgenmsg (family, version 0, res_id 0) + the attributes in order. */
export function nftDumpRequest(
  message: number,
  family: number,
  seq: number,
  attributes: readonly (readonly [number, Buffer])[],
  flags = C.NLM_F_REQUEST | C.NLM_F_DUMP,
): Buffer {
  const len = attributes.reduce((sum, [, payload]) => sum + align4(4 + payload.length), NLMSG_HDRLEN + NFGENMSG_LEN);
  const b = Buffer.alloc(len);
  b.writeUInt32LE(len, 0);
  b.writeUInt16LE((C.NFNL_SUBSYS_NFTABLES << 8) | message, 4);
  b.writeUInt16LE(flags, 6);
  b.writeUInt32LE(seq, 8);
  b.writeUInt32LE(0, 12);
  b.writeUInt8(family, 16);
  let at = NLMSG_HDRLEN + NFGENMSG_LEN;
  for (const [type, payload] of attributes) {
    b.writeUInt16LE(4 + payload.length, at);
    b.writeUInt16LE(type, at + 2);
    payload.copy(b, at + 4);
    at += align4(4 + payload.length);
  }
  return b;
}

/** Attributes in [start, end) as type (nested and byte-order flags masked off) -> [offset of the payload, its length]. */
export function attrs(buf: Buffer, start: number, end: number): Map<number, [number, number]> {
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
 * The attributes in [start, end) in order, repeats included (a list's NFTA_LIST_ELEMs all
 * have the same type): type (flags masked off), offset of the payload, its length.
 */
export function* eachAttr(buf: Buffer, start: number, end: number): Generator<[number, number, number]> {
  let at = start;
  while (at + 4 <= end) {
    const len = buf.readUInt16LE(at);
    if (len < 4 || at + len > end) return;
    yield [buf.readUInt16LE(at + 2) & NLA_TYPE_MASK, at + 4, len - 4];
    at += align4(len);
  }
}

/** Called for each nf_tables message of the dump: its type (subsystem byte removed) and the span of its attributes. */
export type OnMessage = (message: number, buf: Buffer, start: number, end: number) => void;

export interface ChunkResult {
  done: boolean;
  interrupted: boolean;
  /** The kernel's errno (positive) when it refused the request or ended the dump with an error; 0 otherwise. */
  errno: number;
}

/**
 * Walks the messages of one recv, handing those of the request `seq` to onMessage (messages
 * of other sequence numbers are leftovers of an earlier request and skipped).
 */
export function scanDumpChunk(buf: Buffer, n: number, seq: number, onMessage: OnMessage): ChunkResult {
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
    // The kernel flags the message where it noticed the change, the DONE message included.
    if (flags & C.NLM_F_DUMP_INTR) interrupted = true;
    if (type === C.NLMSG_DONE || type === C.NLMSG_ERROR) {
      // DONE carries the dump's own result (an error of a later part of it) as ERROR does.
      const errno = len >= NLMSG_HDRLEN + 4 ? -buf.readInt32LE(off + NLMSG_HDRLEN) : 0;
      return { done: true, interrupted, errno: Math.max(errno, 0) };
    }
    if (type >> 8 === C.NFNL_SUBSYS_NFTABLES) onMessage(type & 0xff, buf, off + NLMSG_HDRLEN + NFGENMSG_LEN, off + len);
    off += align4(len);
  }
  return { done: false, interrupted, errno: 0 };
}

/** A netfilter netlink socket that runs one dump at a time (netlink allows no more per socket). */
export class DumpSocket {
  private readonly buf = Buffer.alloc(RECV_BUFFER);
  private seq = Math.floor(Date.now() / 1000) >>> 0;
  private closed = false;

  constructor(private readonly socket: NetfilterSocket) {}

  /**
   * Runs the dump `request(seq)` to its end; `restart` is called before each attempt, so that
   * the caller drops what an interrupted attempt gave. Returns 0, or the errno (positive) the
   * kernel refused it with. Throws when the socket fails (`what` says which dump) or the
   * ruleset changed during every attempt.
   */
  dump(what: string, request: (seq: number) => Buffer, onMessage: OnMessage, restart: () => void): number {
    if (this.closed) throw new Error(`netlink: ${what}: the dump socket is closed`);
    const { libs, nl } = this.socket;
    for (let attempt = 1; ; attempt++) {
      const seq = (this.seq = (this.seq + 1) >>> 0);
      const message = request(seq);
      restart();
      if (libs.socketSendto(nl, message, message.length) !== message.length) {
        throw new Error(`netlink: sending the request of the ${what} failed: ${errnoText(libs.koffi.errno())}`);
      }
      let interrupted = false;
      for (;;) {
        const n = libs.socketRecvfrom(nl, this.buf, this.buf.length);
        if (n < 0) {
          const errno = libs.koffi.errno();
          if (errno === EINTR) continue;
          throw new Error(`netlink: reading the ${what} failed: ${errnoText(errno)}`);
        }
        const chunk = scanDumpChunk(this.buf, n, seq, onMessage);
        interrupted ||= chunk.interrupted;
        if (chunk.done) {
          if (chunk.errno !== 0) return chunk.errno;
          break;
        }
      }
      if (!interrupted) return 0;
      if (attempt >= ATTEMPTS) throw new Error(`netlink: the ruleset kept changing during ${ATTEMPTS} attempts of the ${what}`);
    }
  }

  /**
   * The ruleset's generation (NFT_MSG_GETGEN): it moves with every commit in this network
   * namespace. The kernel flags no set element dump as interrupted (6.18), and a hash set's dump
   * resumes each part by skipping as many elements as it already gave, so a commit during the
   * dump can drop elements from it unseen: a reader compares the generation before and after.
   */
  generation(): number {
    let id: number | undefined;
    const errno = this.dump(
      "ruleset generation query",
      (seq) => nftDumpRequest(C.NFT_MSG_GETGEN, C.NFPROTO_UNSPEC, seq, [], C.NLM_F_REQUEST | C.NLM_F_ACK),
      (message, buf, start, end) => {
        if (message !== C.NFT_MSG_NEWGEN) return;
        const gen = attrs(buf, start, end).get(C.NFTA_GEN_ID);
        if (gen !== undefined && gen[1] >= 4) id = buf.readUInt32BE(gen[0]);
      },
      () => (id = undefined),
    );
    if (errno !== 0 || id === undefined) throw new Error(`netlink: the ruleset generation query failed: ${errno !== 0 ? errnoText(errno) : "no NFTA_GEN_ID in the answer"}`);
    return id;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.libs.socketClose(this.socket.nl);
  }
}

/** A dump socket of this network namespace, or null (no koffi, libnftnl or libmnl; never throws). */
export function openDumpSocket(): DumpSocket | null {
  const socket = openNetfilterSocket({ receiveBuffer: RECV_BUFFER * 4, timeoutSeconds: 5 });
  return socket === null ? null : new DumpSocket(socket);
}
