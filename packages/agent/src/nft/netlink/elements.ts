import type { CounterValue } from "@switchyard/core";
import * as C from "./constants.ts";
import { align4, cString, eachAttr, errnoText, NLA_TYPE_MASK, nftDumpRequest, openDumpSocket, type DumpSocket } from "./dump.ts";

// The per-element counters of sets declared with `counter`, read straight from the kernel:
// one NFT_MSG_GETSETELEM dump per set on a netlink socket of this network namespace. `nft
// list set` would first load nft's cache of the whole table (about 1 s at 10,000 farms).
// Elements are keyed by the bytes the kernel holds (see set-key.ts for the same form computed
// from an element's text), so that nothing here depends on the set's key type. One read is
// of one generation of the ruleset: it starts again when a commit landed during it.

export interface ElementCounterDumper {
  /**
   * For each set: its elements' counters by key (set-key.ts's form). A set (or table) that
   * does not exist reads as an empty map; elements without a counter are left out. Throws on
   * any other netlink error, naming the set, and when the ruleset changed during each of 3
   * attempts.
   */
  read(table: string, sets: readonly string[], family?: number): Map<string, Map<string, CounterValue>>;
  close(): void;
}

const ENOENT = 2;
const FAMILY_NAMES: Record<number, string> = { [C.NFPROTO_INET]: "inet", [C.NFPROTO_IPV4]: "ip", [C.NFPROTO_IPV6]: "ip6" };

/** The request: nlmsghdr + nfgenmsg + NFTA_SET_ELEM_LIST_TABLE + NFTA_SET_ELEM_LIST_SET (strings). */
export function elementDumpRequest(table: string, set: string, family: number, seq: number): Buffer {
  return nftDumpRequest(C.NFT_MSG_GETSETELEM, family, seq, [
    [C.NFTA_SET_ELEM_LIST_TABLE, cString(table)],
    [C.NFTA_SET_ELEM_LIST_SET, cString(set)],
  ]);
}

// The parse below walks attributes with plain loops (no generator, no BigInt, no
// Buffer.compare): with them, parsing 40,000 elements took 60 ms, more than the kernel's dump.

/** A big-endian u64 as a number (exact below 2^53, far beyond any counter we read). */
const u64 = (buf: Buffer, at: number) => buf.readUInt32BE(at) * 2 ** 32 + buf.readUInt32BE(at + 4);

/** The hex of an nft_data attribute's NFTA_DATA_VALUE (a key is one, nested), or undefined. */
function dataValue(buf: Buffer, start: number, end: number): string | undefined {
  for (let at = start; at + 4 <= end; ) {
    const len = buf.readUInt16LE(at);
    if (len < 4 || at + len > end) break;
    if ((buf.readUInt16LE(at + 2) & NLA_TYPE_MASK) === C.NFTA_DATA_VALUE) return buf.toString("hex", at + 4, at + len);
    at += align4(len);
  }
  return undefined;
}

const COUNTER_NAME = Buffer.from("counter\0");
/** Whether the string attribute's payload [at, end) is "counter" (Buffer.compare's checks cost more than this). */
function isCounterName(buf: Buffer, at: number, end: number): boolean {
  if (end - at < COUNTER_NAME.length) return false;
  for (let i = 0; i < COUNTER_NAME.length; i++) if (buf[at + i] !== COUNTER_NAME[i]) return false;
  return true;
}

/** The counter of one expression (NFTA_EXPR_NAME + NFTA_EXPR_DATA), or undefined when it is another expression. */
function counterExpr(buf: Buffer, start: number, end: number): CounterValue | undefined {
  let isCounter = false;
  let dataAt = -1;
  let dataEnd = -1;
  for (let at = start; at + 4 <= end; ) {
    const len = buf.readUInt16LE(at);
    if (len < 4 || at + len > end) break;
    const type = buf.readUInt16LE(at + 2) & NLA_TYPE_MASK;
    if (type === C.NFTA_EXPR_NAME) isCounter = isCounterName(buf, at + 4, at + len);
    else if (type === C.NFTA_EXPR_DATA) {
      dataAt = at + 4;
      dataEnd = at + len;
    }
    at += align4(len);
  }
  if (!isCounter || dataAt < 0) return undefined;
  const value = { packets: 0, bytes: 0 };
  for (let at = dataAt; at + 4 <= dataEnd; ) {
    const len = buf.readUInt16LE(at);
    if (len < 4 || at + len > dataEnd) break;
    const type = buf.readUInt16LE(at + 2) & NLA_TYPE_MASK;
    if (len >= 12 && type === C.NFTA_COUNTER_PACKETS) value.packets = u64(buf, at + 4);
    else if (len >= 12 && type === C.NFTA_COUNTER_BYTES) value.bytes = u64(buf, at + 4);
    at += align4(len);
  }
  return value;
}

/**
 * One element (the payload of an NFTA_LIST_ELEM, [start, end)) into `into`: key, "-" and end
 * key when it has one (concatenated interval sets), with its counter. The end elements of a
 * non-concatenated interval set are skipped: the kernel keeps such an interval as a start
 * element (which holds the counter) and an end element flagged NFT_SET_ELEM_INTERVAL_END (6.18
 * gives these no expressions; skipped by their flag all the same). A catch-all element has no
 * key and is skipped too.
 */
function readElement(buf: Buffer, start: number, end: number, into: Map<string, CounterValue>): void {
  let key: string | undefined;
  let keyEnd: string | undefined;
  let flags = 0;
  let counter: CounterValue | undefined;
  for (let at = start; at + 4 <= end; ) {
    const len = buf.readUInt16LE(at);
    if (len < 4 || at + len > end) break;
    const payload = at + 4;
    switch (buf.readUInt16LE(at + 2) & NLA_TYPE_MASK) {
      case C.NFTA_SET_ELEM_KEY:
        key = dataValue(buf, payload, at + len);
        break;
      case C.NFTA_SET_ELEM_KEY_END:
        keyEnd = dataValue(buf, payload, at + len);
        break;
      case C.NFTA_SET_ELEM_FLAGS:
        if (len >= 8) flags = buf.readUInt32BE(payload);
        break;
      case C.NFTA_SET_ELEM_EXPR:
        counter ??= counterExpr(buf, payload, at + len);
        break;
      case C.NFTA_SET_ELEM_EXPRESSIONS:
        // More than one expression per element: a list of them, in the set's order.
        for (const [type, exprAt, exprLen] of eachAttr(buf, payload, at + len)) {
          if (type === C.NFTA_LIST_ELEM) counter ??= counterExpr(buf, exprAt, exprAt + exprLen);
        }
        break;
    }
    at += align4(len);
  }
  if (flags & (C.NFT_SET_ELEM_INTERVAL_END | C.NFT_SET_ELEM_CATCHALL) || key === undefined || counter === undefined) return;
  into.set(keyEnd === undefined ? key : `${key}-${keyEnd}`, counter);
}

/** The elements of one NFT_MSG_NEWSETELEM message (the attributes in [start, end)) into `into`. */
export function readElementMessage(buf: Buffer, start: number, end: number, into: Map<string, CounterValue>): void {
  for (const [type, at, len] of eachAttr(buf, start, end)) {
    if (type !== C.NFTA_SET_ELEM_LIST_ELEMENTS) continue;
    for (let elem = at; elem + 4 <= at + len; ) {
      const elemLen = buf.readUInt16LE(elem);
      if (elemLen < 4 || elem + elemLen > at + len) break;
      if ((buf.readUInt16LE(elem + 2) & NLA_TYPE_MASK) === C.NFTA_LIST_ELEM) readElement(buf, elem + 4, elem + elemLen, into);
      elem += align4(elemLen);
    }
  }
}

const ATTEMPTS = 3;

class Dumper implements ElementCounterDumper {
  constructor(private readonly socket: DumpSocket) {}

  read(table: string, sets: readonly string[], family = C.NFPROTO_INET): Map<string, Map<string, CounterValue>> {
    // All the sets from one generation of the ruleset, or again: see DumpSocket.generation.
    for (let attempt = 1; ; attempt++) {
      const before = this.socket.generation();
      const out = new Map(sets.map((set) => [set, this.readSet(table, set, family)]));
      if (this.socket.generation() === before) return out;
      if (attempt >= ATTEMPTS) throw new Error(`netlink: the ruleset changed during each of ${ATTEMPTS} reads of the element counters of table ${table}`);
    }
  }

  private readSet(table: string, set: string, family: number): Map<string, CounterValue> {
    const name = `set ${FAMILY_NAMES[family] ?? `family ${family}`} ${table} ${set}`;
    let elements = new Map<string, CounterValue>();
    const errno = this.socket.dump(
      `element dump of ${name}`,
      (seq) => elementDumpRequest(table, set, family, seq),
      (message, buf, start, end) => {
        if (message === C.NFT_MSG_NEWSETELEM) readElementMessage(buf, start, end, elements);
      },
      () => (elements = new Map()),
    );
    // ENOENT: no such table or set (the kernel looks both up before dumping anything).
    if (errno === ENOENT) return new Map();
    if (errno !== 0) throw new Error(`netlink: the kernel refused the element dump of ${name}: ${errnoText(errno)}`);
    return elements;
  }

  close(): void {
    this.socket.close();
  }
}

/** A dumper on a netlink socket of this network namespace, or null (no koffi, libnftnl or libmnl; never throws). */
export function openElementCounterDumper(): ElementCounterDumper | null {
  const socket = openDumpSocket();
  return socket === null ? null : new Dumper(socket);
}
