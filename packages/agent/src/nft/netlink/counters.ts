import type { CounterValue } from "@switchyard/core";
import * as C from "./constants.ts";
import { attrs, cString, errnoText, nftDumpRequest, openDumpSocket, scanDumpChunk, type DumpSocket } from "./dump.ts";

// Named counters read straight from the kernel: one NFT_MSG_GETOBJ dump (type counter, one
// table) on a netlink socket of this network namespace, parsed here. `nft -j list counters`
// loads nft's cache of the whole table first (every chain and rule): about 1 s at 10,000
// farms x 4 backends, where this dump takes a few tens of milliseconds.

export interface CounterDumper {
  /** The table's named counters by name; an empty map when the table has none or does not exist. Throws on a netlink error. */
  read(table: string, family?: number): Map<string, CounterValue>;
  close(): void;
}

/** The request: nlmsghdr + nfgenmsg + NFTA_OBJ_TABLE (string) + NFTA_OBJ_TYPE (counter, big-endian u32). */
export function dumpRequest(table: string, family: number, seq: number): Buffer {
  const type = Buffer.alloc(4);
  type.writeUInt32BE(C.NFT_OBJECT_COUNTER);
  return nftDumpRequest(C.NFT_MSG_GETOBJ, family, seq, [
    [C.NFTA_OBJ_TABLE, cString(table)],
    [C.NFTA_OBJ_TYPE, type],
  ]);
}

/** One NFT_MSG_NEWOBJ message's counter (other objects are skipped) into `into`, by name. */
function readCounterObject(buf: Buffer, start: number, end: number, into: Map<string, CounterValue>): void {
  const a = attrs(buf, start, end);
  const name = a.get(C.NFTA_OBJ_NAME);
  const type = a.get(C.NFTA_OBJ_TYPE);
  const data = a.get(C.NFTA_OBJ_DATA);
  if (name === undefined || type === undefined || buf.readUInt32BE(type[0]) !== C.NFT_OBJECT_COUNTER || data === undefined) return;
  const d = attrs(buf, data[0], data[0] + data[1]);
  const u64 = (attr: [number, number] | undefined) => (attr === undefined ? 0 : Number(buf.readBigUInt64BE(attr[0])));
  into.set(buf.toString("utf8", name[0], name[0] + name[1]).replace(/\0+$/, ""), {
    packets: u64(d.get(C.NFTA_COUNTER_PACKETS)),
    bytes: u64(d.get(C.NFTA_COUNTER_BYTES)),
  });
}

/**
 * Parses the messages of one recv into `into`; returns whether the dump is done and whether
 * the kernel flagged it as interrupted (the ruleset changed during it: start again).
 */
export function parseDumpChunk(buf: Buffer, n: number, seq: number, into: Map<string, CounterValue>): { done: boolean; interrupted: boolean } {
  const { done, interrupted, errno } = scanDumpChunk(buf, n, seq, (message, b, start, end) => {
    if (message === C.NFT_MSG_NEWOBJ) readCounterObject(b, start, end, into);
  });
  if (errno !== 0) throw refused(errno);
  return { done, interrupted };
}

const refused = (errno: number) => new Error(`netlink: the kernel refused the counter dump: errno ${errno}, ${errnoText(errno)}`);

class Dumper implements CounterDumper {
  constructor(private readonly socket: DumpSocket) {}

  read(table: string, family = C.NFPROTO_INET): Map<string, CounterValue> {
    let out = new Map<string, CounterValue>();
    const errno = this.socket.dump(
      `counter dump of table ${table}`,
      (seq) => dumpRequest(table, family, seq),
      (message, buf, start, end) => {
        if (message === C.NFT_MSG_NEWOBJ) readCounterObject(buf, start, end, out);
      },
      () => (out = new Map()),
    );
    if (errno !== 0) throw refused(errno);
    return out;
  }

  close(): void {
    this.socket.close();
  }
}

/** A dumper on a netlink socket of this network namespace, or null (no koffi, libnftnl or libmnl; never throws). */
export function openCounterDumper(): CounterDumper | null {
  const socket = openDumpSocket();
  return socket === null ? null : new Dumper(socket);
}
