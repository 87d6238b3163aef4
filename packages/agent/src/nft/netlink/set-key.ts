import { isIPv4 } from "node:net";
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

interface FieldType {
  width: number;
  bytes(text: string): Uint8Array | null;
}

const decimal = (text: string, max: number): number | null => {
  if (!/^\d{1,10}$/.test(text)) return null;
  const n = Number(text);
  return n <= max ? n : null;
};

const FIELD_TYPES: Record<string, FieldType> = {
  ipv4_addr: {
    width: 4,
    bytes: (text) => (isIPv4(text) ? Uint8Array.from(text.split(".").map(Number)) : null),
  },
  ipv6_addr: { width: 16, bytes: ipv6Bytes },
  inet_proto: {
    width: 1,
    bytes: (text) => {
      const n = Object.hasOwn(IPPROTO, text) ? IPPROTO[text as keyof typeof IPPROTO] : decimal(text, 0xff);
      return n === null ? null : Uint8Array.of(n);
    },
  },
  inet_service: {
    width: 2,
    bytes: (text) => {
      const n = decimal(text, 0xffff);
      return n === null ? null : Uint8Array.of(n >> 8, n & 0xff);
    },
  },
};

/** -1, 0 or 1 as a is below, equal to or above b (same length, network order). */
function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number) ? -1 : 1;
  return 0;
}

/**
 * The key of one element as elements.ts reads it back from the kernel, or null when a type is
 * not one of ipv4_addr, ipv6_addr, inet_proto, inet_service, the text does not match the
 * type (field count, a value, a range outside an interval set or with its low above its high).
 */
export function elementKey(keyType: string, interval: boolean, keyText: string): string | null {
  const types = keyType.trim().split(/\s+\.\s+/);
  const texts = keyText.trim().split(/\s+\.\s+/);
  if (types.length !== texts.length) return null;
  const concatenated = types.length > 1;
  const fields: { width: number; low: Uint8Array; high: Uint8Array }[] = [];
  for (const [i, name] of types.entries()) {
    const type = Object.hasOwn(FIELD_TYPES, name) ? FIELD_TYPES[name] : undefined;
    if (type === undefined) return null;
    const text = texts[i] as string;
    // No type here has a "-" in its text form (IPv6 neither): a dash is a range.
    const dash = text.indexOf("-");
    if (dash >= 0 && !interval) return null;
    const low = type.bytes(dash < 0 ? text : text.slice(0, dash));
    const high = dash < 0 ? low : type.bytes(text.slice(dash + 1));
    if (low === null || high === null || compare(low, high) > 0) return null;
    fields.push({ width: concatenated ? (type.width + 3) & ~3 : type.width, low, high });
  }
  const key = (bound: "low" | "high") => {
    const out = Buffer.alloc(fields.reduce((sum, f) => sum + f.width, 0));
    let at = 0;
    for (const f of fields) {
      out.set(f[bound], at);
      at += f.width;
    }
    return out.toString("hex");
  };
  return interval && concatenated ? `${key("low")}-${key("high")}` : key("low");
}
