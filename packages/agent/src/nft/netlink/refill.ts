import { getSystemErrorMap } from "node:util";
import type { NftOp } from "@switchyard/core";
import * as C from "./constants.ts";
import { nftnlRule, type Libs, type Ptr } from "./ffi.ts";
import { BatchError, extAckMessage } from "./acks.ts";
import { openNetfilterSocket } from "./socket.ts";
import { opText, planRefill, type RefillMessage } from "./plan.ts";

// The fast path for the one change that dominates at scale: a farm chain refilled (flush
// chain + add rule...). libnftables reloads its whole cache (every table, chain and set)
// before any `add rule` once the kernel's generation moved, which our own last commit always
// did: 12-14 ms at 10,000 farms. Here the rules are encoded as nft would encode them (see
// rule.ts) and sent as one nfnetlink batch on a netlink socket of the calling process's
// network namespace, without reading anything back from the kernel.

export interface ChainRefiller {
  /**
   * Commits the ops as one netlink batch if every op is a supported chain refill (`flush
   * chain` and `add rule` in family inet, each rule one of the shapes of rule.ts);
   * "unsupported" = nothing was sent. An empty list is "applied" with nothing sent. Throws
   * RefillError (kernel errno + which op) if the kernel refused; the batch is atomic so
   * nothing changed.
   */
  apply(ops: readonly NftOp[]): "applied" | "unsupported";
  close(): void;
}

/** A refill the kernel refused, or whose answer was lost (see BatchError). */
export class RefillError extends BatchError {
  constructor(
    message: string,
    errno: number | undefined,
    /** Index in the ops passed to apply of the op the kernel refused, if one. */
    readonly opIndex: number | undefined,
    unknownOutcome = false,
  ) {
    super(message, errno, unknownOutcome);
    this.name = "RefillError";
  }
}

const NLMSG_HDRLEN = 16;
const align4 = (n: number) => (n + 3) & ~3;
/** nft's upper bound for one nf_tables message; a rule of ours is a few hundred bytes. */
const MAX_MESSAGE = 16384;
const RECV_BUFFER = 65536;
const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;
const EINTR = 4;
const ENOBUFS = 105;
const REPLY_TIMEOUT_S = 5;
/** Socket buffers at open; grown for a larger batch (each ACK costs the receiver an skb). */
const SOCKET_BUFFER = 4 << 20;
const RECV_BYTES_PER_ACK = 2048;

function errnoText(errno: number): string {
  const entry = getSystemErrorMap().get(-errno);
  return entry === undefined ? `errno ${errno}` : `${entry[0]} (${entry[1]})`;
}

class Refiller implements ChainRefiller {
  private buf = Buffer.alloc(1 << 16);
  private readonly reply = Buffer.alloc(RECV_BUFFER);
  private seq: number;
  private closed = false;
  private sndbuf = SOCKET_BUFFER;
  private rcvbuf = SOCKET_BUFFER;

  constructor(
    private readonly libs: Libs,
    private readonly nl: Ptr,
    private readonly fd: number,
  ) {
    // Like nft: sequence numbers start from the clock, so that a stale answer from an earlier
    // batch on this socket can never be taken for one of this batch.
    this.seq = Math.floor(Date.now() / 1000) >>> 0;
  }

  apply(ops: readonly NftOp[]): "applied" | "unsupported" {
    if (this.closed) throw new Error("chain refiller is closed");
    const messages = planRefill(ops);
    if (messages === null) return "unsupported";
    if (messages.length === 0) return "applied";
    const { length, seqs, begin, end } = this.encode(messages);
    this.ensureBuffers(length, messages.length);
    try {
      const sent = this.libs.socketSendto(this.nl, this.buf, length);
      if (sent !== length) {
        const errno = this.libs.koffi.errno();
        // Nothing reached nfnetlink (sendmsg is all or nothing for a netlink datagram).
        throw new RefillError(`netlink: sending the batch failed: ${errnoText(errno)}`, errno, undefined);
      }
      this.readReplies(messages, seqs, begin, end);
    } finally {
      this.buf.fill(0, 0, length);
    }
    return "applied";
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.libs.socketClose(this.nl);
  }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) >>> 0;
    return s;
  }

  /** Writes BATCH_BEGIN, one message per op, BATCH_END into this.buf. */
  private encode(messages: RefillMessage[]): { length: number; seqs: number[]; begin: number; end: number } {
    const { libs } = this;
    let off = 0;
    const lengthAt = (at: number) => align4(this.buf.readUInt32LE(at));
    const begin = this.nextSeq();
    libs.batchBegin(this.buf.subarray(off), begin);
    off += lengthAt(off);
    const seqs: number[] = [];
    for (const m of messages) {
      this.reserve(off + MAX_MESSAGE);
      const seq = this.nextSeq();
      seqs.push(seq);
      const flags = m.type === C.NFT_MSG_NEWRULE ? C.NLM_F_APPEND | C.NLM_F_CREATE | C.NLM_F_ACK : C.NLM_F_ACK;
      const nlh = libs.buildHdr(this.buf.subarray(off), (C.NFNL_SUBSYS_NFTABLES << 8) | m.type, C.NFPROTO_INET, flags, seq);
      const rule = nftnlRule(libs, m.table, m.chain, m.type === C.NFT_MSG_NEWRULE ? m.exprs : []);
      try {
        libs.ruleBuildPayload(nlh, rule);
      } finally {
        libs.ruleFree(rule);
      }
      const len = lengthAt(off);
      if (len > MAX_MESSAGE) throw new Error(`netlink: message of ${len} bytes for ${opText(m.op)}`);
      off += len;
    }
    this.reserve(off + NLMSG_HDRLEN * 2);
    const end = this.nextSeq();
    libs.batchEnd(this.buf.subarray(off), end);
    off += lengthAt(off);
    return { length: off, seqs, begin, end };
  }

  private reserve(size: number): void {
    if (size <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(size, this.buf.length * 2));
    this.buf.copy(next);
    this.buf = next;
  }

  private ensureBuffers(batchBytes: number, acks: number): void {
    const force = (name: number, size: number) => {
      const v = Buffer.alloc(4);
      v.writeInt32LE(size);
      this.libs.setsockopt(this.fd, C.SOL_SOCKET, name, v, 4);
    };
    if (batchBytes * 2 > this.sndbuf) {
      this.sndbuf = batchBytes * 2;
      force(C.SO_SNDBUFFORCE, this.sndbuf);
    }
    if (acks * RECV_BYTES_PER_ACK > this.rcvbuf) {
      this.rcvbuf = acks * RECV_BYTES_PER_ACK;
      force(C.SO_RCVBUFFORCE, this.rcvbuf);
    }
  }

  /**
   * nfnetlink handles the batch inside our sendmsg: by the time it returned, every answer is
   * queued on the socket. One answer per op (each carries NLM_F_ACK: 0 or an errno), plus an
   * error on BATCH_BEGIN when the whole batch was refused up front, or on BATCH_END when the
   * commit failed.
   */
  private readReplies(messages: RefillMessage[], seqs: number[], begin: number, end: number): void {
    const indexOf = new Map(seqs.map((s, i) => [s, i]));
    const pending = new Set(seqs);
    const refused: { index: number; errno: number; text?: string }[] = [];
    let batchError: { errno: number; where: string; text?: string } | undefined;

    const take = (n: number): void => {
      let off = 0;
      while (off + NLMSG_HDRLEN <= n) {
        const len = this.reply.readUInt32LE(off);
        if (len < NLMSG_HDRLEN || off + len > n) break;
        const type = this.reply.readUInt16LE(off + 4);
        const flags = this.reply.readUInt16LE(off + 6);
        const seq = this.reply.readUInt32LE(off + 8);
        if (type === C.NLMSG_ERROR && len >= NLMSG_HDRLEN + 4 + NLMSG_HDRLEN) {
          const errno = -this.reply.readInt32LE(off + NLMSG_HDRLEN);
          const text = extAckMessage(this.reply, off, len, flags);
          const index = indexOf.get(seq);
          if (index !== undefined) {
            pending.delete(seq);
            if (errno !== 0) refused.push(text === undefined ? { index, errno } : { index, errno, text });
          } else if ((seq === begin || seq === end) && errno !== 0) {
            batchError = { errno, where: seq === begin ? "the batch" : "the commit", ...(text === undefined ? {} : { text }) };
          }
        }
        off += align4(len);
      }
    };

    const lost = (errno: number) =>
      new RefillError(`netlink: reading the kernel's answer failed (${errnoText(errno)}): the batch may or may not have been committed`, errno, undefined, true);

    while (pending.size > 0 && batchError === undefined) {
      const n = this.libs.socketRecvfrom(this.nl, this.reply, this.reply.length);
      if (n < 0) {
        const errno = this.libs.koffi.errno();
        if (errno === EINTR) continue;
        throw lost(errno);
      }
      take(n);
    }
    // A commit failure is queued after the ops' answers: drain what is already there.
    for (;;) {
      const n = this.libs.recv(this.fd, this.reply, this.reply.length, MSG_DONTWAIT);
      if (n < 0) {
        const errno = this.libs.koffi.errno();
        if (errno === EAGAIN) break;
        if (errno === EINTR) continue;
        if (errno === ENOBUFS) throw lost(errno);
        break;
      }
      take(n);
    }

    const first = refused.sort((a, b) => a.index - b.index)[0];
    if (first !== undefined) {
      const m = messages[first.index] as RefillMessage;
      const more = refused.length > 1 ? ` (and ${refused.length - 1} more op(s) refused)` : "";
      const detail = first.text === undefined ? "" : `: ${first.text}`;
      throw new RefillError(
        `netlink: kernel refused op ${first.index + 1} of ${messages.length} \`${opText(m.op)}\`: ${errnoText(first.errno)}${detail}${more}; nothing was changed`,
        first.errno,
        first.index,
      );
    }
    if (batchError !== undefined) {
      const detail = batchError.text === undefined ? "" : `: ${batchError.text}`;
      throw new RefillError(`netlink: kernel refused ${batchError.where}: ${errnoText(batchError.errno)}${detail}; nothing was changed`, batchError.errno, undefined);
    }
  }
}

/**
 * A refiller on a netlink socket of the calling process's network namespace, or null when
 * koffi, libnftnl or libmnl cannot be loaded or the socket cannot be opened (never throws).
 */
export function openChainRefiller(): ChainRefiller | null {
  const socket = openNetfilterSocket({ sendBuffer: SOCKET_BUFFER, receiveBuffer: SOCKET_BUFFER, timeoutSeconds: REPLY_TIMEOUT_S, extendedAcks: true });
  return socket === null ? null : new Refiller(socket.libs, socket.nl, socket.fd);
}
