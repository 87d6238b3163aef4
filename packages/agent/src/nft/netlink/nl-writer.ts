// A growable buffer that netlink messages are written into, attribute by attribute, as
// libmnl writes them (header, payload, zero padding to 4 bytes). The full replace writes some
// 130,000 messages in one go: no per-attribute allocation, one Buffer that doubles, and bytes
// written one by one (Buffer's write and set are native calls, slower for a few bytes).

const NLMSG_HDRLEN = 16;
const NLA_HDRLEN = 4;
const NLA_F_NESTED = 0x8000;
const align4 = (n: number) => (n + 3) & ~3;

export class NlWriter {
  buf: Buffer;
  off = 0;

  /** Not zero-filled (30 MB at 10,000 farms): every byte up to `off` is written, padding included. */
  constructor(size = 1 << 20) {
    this.buf = Buffer.allocUnsafe(size);
  }

  reserve(n: number): void {
    if (this.off + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.off + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.off);
    this.buf = next;
  }

  private le16(at: number, v: number): void {
    this.buf[at] = v & 0xff;
    this.buf[at + 1] = (v >>> 8) & 0xff;
  }

  private le32(at: number, v: number): void {
    const b = this.buf;
    b[at] = v & 0xff;
    b[at + 1] = (v >>> 8) & 0xff;
    b[at + 2] = (v >>> 16) & 0xff;
    b[at + 3] = (v >>> 24) & 0xff;
  }

  private be32(at: number, v: number): void {
    const b = this.buf;
    b[at] = (v >>> 24) & 0xff;
    b[at + 1] = (v >>> 16) & 0xff;
    b[at + 2] = (v >>> 8) & 0xff;
    b[at + 3] = v & 0xff;
  }

  /** nlmsghdr + nfgenmsg (family, version 0, res_id); returns where the message starts, for end(). */
  begin(type: number, flags: number, seq: number, family: number, resId = 0): number {
    this.reserve(NLMSG_HDRLEN + 4);
    const at = this.off;
    this.le32(at, 0);
    this.le16(at + 4, type);
    this.le16(at + 6, flags);
    this.le32(at + 8, seq);
    this.le32(at + 12, 0);
    this.buf[at + 16] = family;
    this.buf[at + 17] = 0;
    this.buf[at + 18] = resId >>> 8;
    this.buf[at + 19] = resId & 0xff;
    this.off = at + NLMSG_HDRLEN + 4;
    return at;
  }

  /** Writes the message's length into its header. */
  end(start: number): void {
    this.le32(start, this.off - start);
  }

  /** An attribute header for `payload` bytes; returns where the payload goes. */
  private header(type: number, payload: number): number {
    const total = NLA_HDRLEN + align4(payload);
    this.reserve(total);
    const at = this.off;
    this.le16(at, NLA_HDRLEN + payload);
    this.le16(at + 2, type);
    // Padding is zero, as libmnl leaves it (the bytes are compared with nft's).
    for (let i = at + NLA_HDRLEN + payload; i < at + total; i++) this.buf[i] = 0;
    this.off = at + total;
    return at + NLA_HDRLEN;
  }

  u8(type: number, v: number): void {
    this.buf[this.header(type, 1)] = v;
  }

  /** A u32 in network order, as nf_tables takes every integer attribute. */
  u32(type: number, v: number): void {
    this.be32(this.header(type, 4), v >>> 0);
  }

  /** A u64 in network order (counters), from a safe integer. */
  u64(type: number, v: number): void {
    const at = this.header(type, 8);
    this.be32(at, Math.floor(v / 2 ** 32));
    this.be32(at + 4, v >>> 0);
  }

  /** A NUL-terminated string (libmnl's mnl_attr_put_strz). Names here are ASCII (checked by the caller). */
  strz(type: number, s: string): void {
    const at = this.header(type, s.length + 1);
    for (let i = 0; i < s.length; i++) this.buf[at + i] = s.charCodeAt(i);
    this.buf[at + s.length] = 0;
  }

  /** s from index `from` on, NUL-terminated (a name inside a longer text, without slicing it out). */
  strzFrom(type: number, s: string, from: number): void {
    const n = s.length - from;
    const at = this.header(type, n + 1);
    for (let i = 0; i < n; i++) this.buf[at + i] = s.charCodeAt(from + i);
    this.buf[at + n] = 0;
  }

  /** A string without its NUL (mnl_attr_put_str: libnftnl's objref name). */
  str(type: number, s: string): void {
    const at = this.header(type, s.length);
    for (let i = 0; i < s.length; i++) this.buf[at + i] = s.charCodeAt(i);
  }

  bytes(type: number, data: Uint8Array): void {
    this.bytesOf(type, data, data.length);
  }

  /** The first `len` bytes of `data` (a scratch array reused from call to call). */
  bytesOf(type: number, data: Uint8Array, len: number): void {
    const at = this.header(type, len);
    for (let i = 0; i < len; i++) this.buf[at + i] = data[i] as number;
  }

  /** Opens a nested attribute; returns its start for nestEnd(). */
  nest(type: number): number {
    this.reserve(NLA_HDRLEN);
    const at = this.off;
    this.le16(at + 2, type | NLA_F_NESTED);
    this.off += NLA_HDRLEN;
    return at;
  }

  nestEnd(start: number): void {
    const len = this.off - start;
    // An attribute's length is 16 bits: the caller splits what could grow past it (set elements).
    if (len > 0xffff) throw new Error(`netlink: nested attribute of ${len} bytes (at most 65535)`);
    this.le16(start, len);
  }

  /** Appends a copy of [start, end) of what was written before (a rule's expressions, encoded once for many rules). */
  again(start: number, end: number): void {
    const n = end - start;
    this.reserve(n);
    const b = this.buf;
    const at = this.off;
    if (n > 256) b.copyWithin(at, start, end);
    else for (let i = 0; i < n; i++) b[at + i] = b[start + i] as number;
    this.off = at + n;
  }

  /** Appends bytes written elsewhere. */
  raw(data: Uint8Array): void {
    const n = data.length;
    this.reserve(n);
    const b = this.buf;
    const at = this.off;
    if (n > 256) b.set(data, at);
    else for (let i = 0; i < n; i++) b[at + i] = data[i] as number;
    this.off = at + n;
  }
}
