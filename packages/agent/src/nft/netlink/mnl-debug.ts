// Test support: the netlink messages nft sends, read back from `nft --debug=mnl` (libmnl's
// mnl_nlmsg_fprintf). That dump prints every byte of a message in 4-byte rows (header
// fields decoded, the nfgenmsg, each attribute's header, its payload), so the bytes are
// rebuilt row by row. Only nlmsg_flags is lost: the dump shows R, M, A and E, not CREATE,
// APPEND or EXCL, so callers compare flags separately (or not at all).

export interface DumpedMessage {
  type: number;
  /** NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK and NLM_F_ECHO only (what the dump shows). */
  flags: number;
  seq: number;
  /** The whole message, its nlmsg_flags as `flags` says. */
  bytes: Buffer;
}

const HEADER = /^\|\s+(\d+)\s+\|\s+\| message length \|/;
const TYPE = /^\| (\d{5}) \| ([RMAE-]{4}) \|/;
const SEQ = /^\|\s+(\d+)\s+\|\s+\| sequence number\|/;
const WORD = /^\| ([0-9a-f]{2}) ([0-9a-f]{2}) ([0-9a-f]{2}) ([0-9a-f]{2})\s+\|/;
const ATTR = /^\|(\d{5})\|([N-])([B-])\|(\d{5})\|/;

/** The messages of a `nft --debug=mnl` run's output (colours and other lines ignored), in order. */
export function parseMnlDebug(text: string): DumpedMessage[] {
  // eslint-disable-next-line no-control-regex
  const lines = text.replace(/\x1b\[[0-9;]*m/g, "").split("\n");
  const out: DumpedMessage[] = [];
  let current: { len: number; type: number; flags: number; seq: number; chunks: number[] } | null = null;
  const finish = () => {
    if (current === null) return;
    const b = Buffer.alloc(16 + current.chunks.length);
    b.writeUInt32LE(current.len, 0);
    b.writeUInt16LE(current.type, 4);
    b.writeUInt16LE(current.flags, 6);
    b.writeUInt32LE(current.seq, 8);
    Buffer.from(current.chunks).copy(b, 16);
    if (b.length !== current.len) throw new Error(`mnl dump: message of type ${current.type} seq ${current.seq} rebuilt to ${b.length} bytes, its header says ${current.len}`);
    out.push({ type: current.type, flags: current.flags, seq: current.seq, bytes: b });
    current = null;
  };
  for (const line of lines) {
    let m = HEADER.exec(line);
    if (m) {
      finish();
      current = { len: Number(m[1]), type: 0, flags: 0, seq: 0, chunks: [] };
      continue;
    }
    if (current === null) continue;
    if ((m = TYPE.exec(line))) {
      current.type = Number(m[1]);
      const f = m[2] as string;
      current.flags = (f[0] === "R" ? 1 : 0) | (f[1] === "M" ? 2 : 0) | (f[2] === "A" ? 4 : 0) | (f[3] === "E" ? 8 : 0);
    } else if ((m = SEQ.exec(line))) current.seq = Number(m[1]);
    else if ((m = ATTR.exec(line))) {
      const len = Number(m[1]);
      const type = Number(m[4]) | (m[2] === "N" ? 0x8000 : 0) | (m[3] === "B" ? 0x4000 : 0);
      current.chunks.push(len & 0xff, len >> 8, type & 0xff, type >> 8);
    } else if ((m = WORD.exec(line))) current.chunks.push(...m.slice(1, 5).map((h) => Number.parseInt(h, 16)));
  }
  finish();
  return out;
}

/** The messages of an encoded batch, in order (each a view of `batch`). */
export function splitMessages(batch: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + 16 <= batch.length; ) {
    const len = batch.readUInt32LE(at);
    if (len < 16 || at + len > batch.length) throw new Error(`batch: message at ${at} of length ${len} runs past the end (${batch.length})`);
    out.push(batch.subarray(at, at + len));
    at += (len + 3) & ~3;
  }
  return out;
}

/** nft's batch in a --debug=mnl dump: BATCH_BEGIN to BATCH_END (the cache reads before it left out). */
export function nftBatch(messages: readonly DumpedMessage[]): DumpedMessage[] {
  const begin = messages.findIndex((m) => m.type === 16);
  const end = messages.findIndex((m, i) => i > begin && m.type === 17);
  if (begin < 0 || end < 0) throw new Error("mnl dump: no batch (BATCH_BEGIN ... BATCH_END) in it");
  return messages.slice(begin, end + 1);
}

/**
 * Where two batches differ, message by message, sequence numbers and nlmsg_flags aside (the
 * dump does not show all flags; the encoder's are checked apart): at most `limit` lines.
 */
export function batchDifferences(ours: readonly Buffer[], theirs: readonly Buffer[], limit = 10): string[] {
  const out: string[] = [];
  const strip = (b: Buffer) => {
    const c = Buffer.from(b);
    c.writeUInt16LE(0, 6);
    c.writeUInt32LE(0, 8);
    return c;
  };
  if (ours.length !== theirs.length) out.push(`${ours.length} messages, nft sent ${theirs.length}`);
  for (let i = 0; i < Math.min(ours.length, theirs.length) && out.length < limit; i++) {
    const a = strip(ours[i] as Buffer);
    const b = strip(theirs[i] as Buffer);
    if (!a.equals(b)) out.push(`message ${i} (type ${a.readUInt16LE(4) & 0xff}): ours ${a.toString("hex")} nft ${b.toString("hex")}`);
  }
  return out;
}
