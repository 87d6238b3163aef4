import { BatchError, extAckMessage } from "./acks.ts";
import * as C from "./constants.ts";
import { attrs, errnoText } from "./dump.ts";
import { openNetfilterSocket, type NetfilterSocket } from "./socket.ts";

// Sends one batch that encodeReplace built, as nft sends its own: the whole batch in one
// sendmsg, on one of koffi's worker threads (nfnetlink commits the whole transaction inside the
// sendmsg, about 0.6 s at 10,000 farms, and the agent's API and metrics go on meanwhile) (one netlink datagram: nfnetlink takes a batch from one skb only, so the transaction
// cannot be split over several sends; nft 1.0.6 too sends 27 MB at 10,000 farms as one
// sendmsg of 13 iovecs), on a socket whose send buffer was forced past the batch's size
// (SO_SNDBUFFORCE: netlink refuses a datagram longer than the send buffer with EMSGSIZE).
//
// nfnetlink runs the whole batch inside that sendmsg: when it returns, every answer is queued.
// Only the last message before BATCH_END asks for an ACK (one per message would queue 130,000
// of them): errors are sent whatever the flags, the kernel delivers them in order after the
// commit or abort, and the last message's ACK comes after all of them. A commit that fails is
// answered on BATCH_BEGIN, before the others.

/** A full replace the kernel refused, or whose answer was lost (see BatchError). */
export class ReplaceError extends BatchError {
  constructor(
    message: string,
    errno: number | undefined,
    /** Index in the batch of the message the kernel refused (0 is BATCH_BEGIN), if one. */
    readonly messageIndex: number | undefined,
    unknownOutcome = false,
  ) {
    super(message, errno, unknownOutcome);
    this.name = "ReplaceError";
  }
}

export interface ReplaceSender {
  /**
   * Sends the batch (encodeReplace's output: its sequence numbers and the last message's
   * flags are rewritten in place) and waits for the kernel's verdict. Returns when it was
   * committed; throws ReplaceError when it was refused (the previous ruleset stays, whole) or
   * when the answer was lost (unknownOutcome). The batch must not change until it resolves.
   */
  send(batch: Buffer): Promise<void>;
  close(): void;
}

const NLMSG_HDRLEN = 16;
const align4 = (n: number) => (n + 3) & ~3;
const RECV_BUFFER = 1 << 16;
const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;
const EINTR = 4;
const ENOBUFS = 105;
const REPLY_TIMEOUT_S = 5;
/** Room in the receive buffer per message, as nft gives it (an error answer each, at worst). */
const RECV_BYTES_PER_MESSAGE = 1024;
const MAX_BUFFER = 1 << 30;

const MESSAGE_NAMES: Record<number, string> = {
  [C.NFT_MSG_NEWTABLE]: "add table",
  [C.NFT_MSG_DELTABLE]: "delete table",
  [C.NFT_MSG_NEWCHAIN]: "add chain",
  [C.NFT_MSG_NEWRULE]: "add rule",
  [C.NFT_MSG_NEWSET]: "add set",
  [C.NFT_MSG_NEWSETELEM]: "add element",
  [C.NFT_MSG_NEWOBJ]: "add counter",
};

/** The name attribute that says what each message is about. */
const NAME_ATTR: Record<number, number> = {
  [C.NFT_MSG_NEWTABLE]: C.NFTA_TABLE_NAME,
  [C.NFT_MSG_DELTABLE]: C.NFTA_TABLE_NAME,
  [C.NFT_MSG_NEWCHAIN]: C.NFTA_CHAIN_NAME,
  [C.NFT_MSG_NEWRULE]: C.NFTA_RULE_CHAIN,
  [C.NFT_MSG_NEWSET]: C.NFTA_SET_NAME,
  [C.NFT_MSG_NEWSETELEM]: C.NFTA_SET_ELEM_LIST_SET,
  [C.NFT_MSG_NEWOBJ]: C.NFTA_OBJ_NAME,
};

/** Message `index` of the batch in words, e.g. `add rule (rule 3 of chain farm-web-4)`, for error messages. */
export function describeMessage(batch: Buffer, offsets: ArrayLike<number>, index: number): string {
  const at = offsets[index] as number;
  const type = batch.readUInt16LE(at + 4);
  if (type === C.NFNL_MSG_BATCH_BEGIN) return "the batch (BATCH_BEGIN)";
  if (type === C.NFNL_MSG_BATCH_END) return "the commit (BATCH_END)";
  const message = type & 0xff;
  const end = at + batch.readUInt32LE(at);
  const name = attrs(batch, at + NLMSG_HDRLEN + 4, end).get(NAME_ATTR[message] ?? -1);
  const text = name === undefined ? "?" : batch.toString("latin1", name[0], name[0] + name[1]).replace(/\0+$/, "");
  const what = MESSAGE_NAMES[message] ?? `message type ${message}`;
  if (message !== C.NFT_MSG_NEWRULE) return `${what} ${text}`;
  // The rule's position in its chain: rules are sent chain by chain, in order.
  let position = 1;
  for (let i = index - 1; i >= 0; i--) {
    const o = offsets[i] as number;
    if ((batch.readUInt16LE(o + 4) & 0xff) !== C.NFT_MSG_NEWRULE) break;
    const chain = attrs(batch, o + NLMSG_HDRLEN + 4, o + batch.readUInt32LE(o)).get(C.NFTA_RULE_CHAIN);
    if (chain === undefined || batch.toString("latin1", chain[0], chain[0] + chain[1]).replace(/\0+$/, "") !== text) break;
    position++;
  }
  return `${what} (rule ${position} of chain ${text})`;
}

class Sender implements ReplaceSender {
  private readonly reply = Buffer.alloc(RECV_BUFFER);
  private seq = Math.floor(Date.now() / 1000) >>> 0;
  private closed = false;
  private sndbuf = 0;
  private rcvbuf = 0;

  constructor(private readonly socket: NetfilterSocket) {}

  async send(batch: Buffer): Promise<void> {
    if (this.closed) throw new Error("replace sender is closed");
    const offsets = this.number(batch);
    const count = offsets.length;
    if (count < 3) throw new Error(`netlink: a batch of ${count} messages is not a replace`);
    this.ensureBuffers(batch.length, count);
    const { libs, nl } = this.socket;
    const { sent, errno } = await libs.socketSendtoAsync(nl, batch, batch.length);
    if (sent !== batch.length) {
      // Nothing reached nfnetlink: a netlink datagram is sent whole or not at all.
      throw new ReplaceError(`netlink: sending the replace batch (${batch.length} bytes) failed: ${errnoText(errno)}; nothing was changed`, errno, undefined);
    }
    this.readReplies(batch, offsets);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.libs.socketClose(this.socket.nl);
  }

  /** Gives the messages this sender's sequence numbers and the ACK flag to the last one before BATCH_END; returns their offsets. */
  private number(batch: Buffer): Int32Array {
    let count = 0;
    for (let at = 0; at + NLMSG_HDRLEN <= batch.length; at += align4(batch.readUInt32LE(at))) {
      if (batch.readUInt32LE(at) < NLMSG_HDRLEN) throw new Error(`netlink: malformed batch at byte ${at}`);
      count++;
    }
    const offsets = new Int32Array(count);
    const base = this.seq;
    let i = 0;
    for (let at = 0; i < count; at += align4(batch.readUInt32LE(at)), i++) {
      offsets[i] = at;
      batch.writeUInt32LE((base + i) >>> 0, at + 8);
    }
    this.seq = (base + count) >>> 0;
    const last = offsets[count - 2] as number;
    batch.writeUInt16LE(batch.readUInt16LE(last + 6) | C.NLM_F_ACK, last + 6);
    return offsets;
  }

  private ensureBuffers(bytes: number, messages: number): void {
    const { libs, fd } = this.socket;
    const force = (name: number, size: number): number => {
      const v = Buffer.alloc(4);
      v.writeInt32LE(size);
      return libs.setsockopt(fd, C.SOL_SOCKET, name, v, 4);
    };
    // The kernel doubles the value (bookkeeping room) and refuses a datagram of more than the result less 32 bytes.
    const send = Math.min(bytes + (1 << 16), MAX_BUFFER);
    if (send > this.sndbuf) {
      if (force(C.SO_SNDBUFFORCE, send) < 0) throw new ReplaceError(`netlink: SO_SNDBUFFORCE to ${send} bytes failed: ${errnoText(libs.koffi.errno())}; nothing was sent`, libs.koffi.errno(), undefined);
      this.sndbuf = send;
    }
    const receive = Math.min(Math.max(messages * RECV_BYTES_PER_MESSAGE, 4 << 20), MAX_BUFFER);
    if (receive > this.rcvbuf) {
      force(C.SO_RCVBUFFORCE, receive);
      this.rcvbuf = receive;
    }
  }

  private readReplies(batch: Buffer, offsets: Int32Array): void {
    const count = offsets.length;
    const base = batch.readUInt32LE(8);
    const ackSeq = (base + count - 2) >>> 0;
    const refused: { index: number; errno: number; text?: string }[] = [];
    let acked = false;
    let batchError = false;

    const take = (n: number): void => {
      let off = 0;
      while (off + NLMSG_HDRLEN <= n) {
        const len = this.reply.readUInt32LE(off);
        if (len < NLMSG_HDRLEN || off + len > n) break;
        const type = this.reply.readUInt16LE(off + 4);
        const flags = this.reply.readUInt16LE(off + 6);
        const seq = this.reply.readUInt32LE(off + 8);
        const index = (seq - base) >>> 0;
        if (type === C.NLMSG_ERROR && len >= NLMSG_HDRLEN + 4 + NLMSG_HDRLEN && index < count) {
          const errno = -this.reply.readInt32LE(off + NLMSG_HDRLEN);
          if (seq === ackSeq) acked = true;
          if (errno !== 0) {
            const text = extAckMessage(this.reply, off, len, flags);
            refused.push(text === undefined ? { index, errno } : { index, errno, text });
            if (index === 0 || index === count - 1) batchError = true;
          }
        }
        off += align4(len);
      }
    };
    const lost = (errno: number) =>
      new ReplaceError(`netlink: reading the kernel's answer to the replace failed (${errnoText(errno)}): the batch may or may not have been committed`, errno, undefined, true);

    const { libs, nl, fd } = this.socket;
    while (!acked && !batchError) {
      const n = libs.socketRecvfrom(nl, this.reply, this.reply.length);
      if (n < 0) {
        const errno = libs.koffi.errno();
        if (errno === EINTR) continue;
        throw lost(errno);
      }
      take(n);
    }
    // Whatever else is queued (more errors after a refused batch's first ones).
    for (;;) {
      const n = libs.recv(fd, this.reply, this.reply.length, MSG_DONTWAIT);
      if (n < 0) {
        const errno = libs.koffi.errno();
        if (errno === EAGAIN) break;
        if (errno === EINTR) continue;
        if (errno === ENOBUFS) throw lost(errno);
        break;
      }
      take(n);
    }
    if (refused.length === 0) return;
    const first = refused.sort((a, b) => a.index - b.index)[0] as (typeof refused)[number];
    const more = refused.length > 1 ? ` (and ${refused.length - 1} more message(s) refused)` : "";
    const detail = first.text === undefined ? "" : `: ${first.text}`;
    throw new ReplaceError(
      `netlink: kernel refused message ${first.index} of ${count} of the replace, ${describeMessage(batch, offsets, first.index)}: ${errnoText(first.errno)}${detail}${more}; nothing was changed`,
      first.errno,
      first.index,
    );
  }
}

/** A sender on a netlink socket of the calling process's network namespace, or null when koffi or libmnl cannot be loaded or the socket cannot be opened (never throws). */
export function openReplaceSender(): ReplaceSender | null {
  const socket = openNetfilterSocket({ receiveBuffer: 4 << 20, timeoutSeconds: REPLY_TIMEOUT_S, extendedAcks: true });
  return socket === null ? null : new Sender(socket);
}
