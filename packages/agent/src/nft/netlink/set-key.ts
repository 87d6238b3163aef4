import { IPPROTO } from "./constants.ts";
import { ipv6Bytes } from "./rule.ts";

// The key under which elements.ts reports an element's counter, computed from the element as
// the IR writes it: the hex of the bytes the kernel holds as the element's key, and for an
// element of a concatenated interval set "-" and the hex of its end key. Kernel layout
// (checked against the dump of sets nft loaded, elements.integration.test.ts):
// - a concatenation pads each field to 4 bytes (the kernel's 32-bit registers), zeros after;
//   a key of one field is not padded (an inet_service alone is 2 bytes);
// - ipv4_addr 4 bytes, ipv6_addr 16, inet_proto 1, inet_service 2, all in network order;
// - in a concatenated interval set (pipapo) each element holds its start key (the low of each
//   field's range, or its single value) and its end key (the highs). A non-concatenated
//   interval set (rbtree) keeps each interval as two elements, the start (which counts) and an
//   end flagged INTERVAL_END that the dump skips: its key is the start alone.

// Parsed field by field into caller-owned byte arrays, without allocating: the full replace
// (replace.ts) computes some 60,000 keys at 10,000 farms.

interface FieldType {
  width: number;
  /** Writes the value of `text` [from, to) at `at` of `out`; false when it is not one. */
  write(text: string, from: number, to: number, out: Uint8Array, at: number): boolean;
}

/** Decimal digits only, at most 10 of them, at most `max`: nft's integer forms here. */
function decimal(text: string, from: number, to: number, max: number): number {
  if (to <= from || to - from > 10) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n <= max ? n : -1;
}

/** Dotted quad as node's isIPv4 takes it: four 0-255, no leading zeros. */
function writeIPv4(text: string, from: number, to: number, out: Uint8Array, at: number): boolean {
  let part = 0;
  let i = from;
  while (part < 4) {
    const start = i;
    let n = 0;
    while (i < to) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
      i++;
    }
    const len = i - start;
    if (len === 0 || len > 3 || n > 255 || (len > 1 && text.charCodeAt(start) === 48)) return false;
    out[at + part] = n;
    part++;
    if (part < 4) {
      if (i >= to || text.charCodeAt(i) !== 46) return false;
      i++;
    }
  }
  return i === to;
}

const PROTOCOLS = new Map(Object.entries(IPPROTO));

const FIELD_TYPES: Record<string, FieldType> = {
  ipv4_addr: { width: 4, write: writeIPv4 },
  ipv6_addr: {
    width: 16,
    write: (text, from, to, out, at) => {
      const b = ipv6Bytes(text.slice(from, to));
      if (b === null) return false;
      out.set(b, at);
      return true;
    },
  },
  inet_proto: {
    width: 1,
    write: (text, from, to, out, at) => {
      const named = PROTOCOLS.get(text.slice(from, to));
      const n = named ?? decimal(text, from, to, 0xff);
      if (n < 0) return false;
      out[at] = n;
      return true;
    },
  },
  inet_service: {
    width: 2,
    write: (text, from, to, out, at) => {
      const n = decimal(text, from, to, 0xffff);
      if (n < 0) return false;
      out[at] = n >> 8;
      out[at + 1] = n & 0xff;
      return true;
    },
  },
};

/** A set's key type, parsed once for all its elements. */
export interface KeyLayout {
  fields: { type: FieldType; width: number; offset: number }[];
  concatenated: boolean;
  interval: boolean;
  /** The key's length in bytes (each field padded to 4 in a concatenation). */
  length: number;
}

/** The layout of a key type (`inet_proto . ipv4_addr . inet_service`), or null for a type not listed above. */
export function keyLayout(keyType: string, interval: boolean): KeyLayout | null {
  const names = keyType.trim().split(/\s+\.\s+/);
  const concatenated = names.length > 1;
  const fields: KeyLayout["fields"] = [];
  let offset = 0;
  for (const name of names) {
    const type = Object.hasOwn(FIELD_TYPES, name) ? FIELD_TYPES[name] : undefined;
    if (type === undefined) return null;
    const width = concatenated ? (type.width + 3) & ~3 : type.width;
    fields.push({ type, width, offset });
    offset += width;
  }
  return { fields, concatenated, interval, length: offset };
}

/** -1, 0 or 1 as a[at, at+n) is below, equal to or above b[at, at+n) (network order). */
function compare(a: Uint8Array, b: Uint8Array, at: number, n: number): number {
  for (let i = at; i < at + n; i++) if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number) ? -1 : 1;
  return 0;
}

/**
 * Writes one element's start key into low[0, length) and its end key into high (the highs of
 * its ranges; the same as low without one), zeroing the padding. False when the text does not
 * match the layout: field count, a value, a range outside an interval set or with its low
 * above its high.
 */
export function writeElementKey(layout: KeyLayout, keyText: string, low: Uint8Array, high: Uint8Array): boolean {
  low.fill(0, 0, layout.length);
  high.fill(0, 0, layout.length);
  const text = keyText.trim();
  let from = 0;
  const { fields } = layout;
  for (let f = 0; f < fields.length; f++) {
    const field = fields[f] as KeyLayout["fields"][number];
    let to = text.length;
    if (f < fields.length - 1) {
      // Fields are separated by " . " (spaces around a dot; no field has a space in it).
      const sep = text.indexOf(" . ", from);
      if (sep < 0) return false;
      to = sep;
      while (to > from && text.charCodeAt(to - 1) === 32) to--;
    } else if (text.indexOf(" . ", from) >= 0) return false;
    // No type here has a "-" in its text form (IPv6 neither): a dash is a range.
    const dash = text.indexOf("-", from);
    const ranged = dash >= 0 && dash < to;
    if (ranged && !layout.interval) return false;
    if (!field.type.write(text, from, ranged ? dash : to, low, field.offset)) return false;
    if (!field.type.write(text, ranged ? dash + 1 : from, to, high, field.offset)) return false;
    if (compare(low, high, field.offset, field.width) > 0) return false;
    from = f < fields.length - 1 ? text.indexOf(" . ", from) + 3 : to;
    while (from < text.length && text.charCodeAt(from) === 32) from++;
  }
  return true;
}

/**
 * The key of one element as elements.ts reads it back from the kernel (the hex of
 * elementKeyBytes, "-" and the end key's hex in a concatenated interval set), or null.
 */
export function elementKey(keyType: string, interval: boolean, keyText: string): string | null {
  return elementKeyer(keyType, interval)?.(keyText) ?? null;
}

/**
 * elementKey for the elements of one set: the layout parsed once and one pair of scratch
 * buffers (a counters report keys 40,000 elements at 10,000 farms, every few seconds). Null
 * for a key type not listed above.
 */
export function elementKeyer(keyType: string, interval: boolean): ((keyText: string) => string | null) | null {
  const layout = keyLayout(keyType, interval);
  if (layout === null) return null;
  const low = Buffer.alloc(layout.length);
  const high = Buffer.alloc(layout.length);
  const withEnd = interval && layout.concatenated;
  return (keyText) => {
    if (!writeElementKey(layout, keyText, low, high)) return null;
    return withEnd ? `${low.toString("hex")}-${high.toString("hex")}` : low.toString("hex");
  };
}
