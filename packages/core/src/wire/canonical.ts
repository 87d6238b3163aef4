import { createHash } from "node:crypto";

// One text for one value, whoever built it: what revisions, rulesets and their hashes are
// computed over, on the control plane and on the agent alike.

/**
 * The text of every deeply frozen object or array written so far. A frozen value whose
 * descendants are all frozen (or primitives) cannot change, so its text never goes stale:
 * the ruleset of 10,000 farms is written again after a one-farm change by looking up the
 * 9,999 farm chains that are the same (frozen) objects as before, instead of writing 5 MB.
 * Anything not frozen is written afresh every time, exactly as before.
 */
const frozenText = new WeakMap<object, string>();

/** Set while writing a value when it or something inside it is not frozen (so not memoizable). */
let sawMutable = false;

const keyOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Texts shorter than this are not remembered: writing them again costs less than keeping them. */
const REMEMBER_FROM = 64;

/** Whether every item is a string, boolean, null or finite number: JSON.stringify writes such an array as canonicalJson does. */
function scalarItems(list: readonly unknown[]): boolean {
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (typeof item === "string" || typeof item === "boolean" || item === null) continue;
    if (typeof item === "number" && Number.isFinite(item)) continue;
    return false;
  }
  return true;
}

function write(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || typeof value === "boolean") return value === null ? "null" : value ? "true" : "false";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} has no JSON form`);
    return JSON.stringify(value);
  }
  if (typeof value !== "object") throw new TypeError(`canonicalJson: a ${typeof value} has no JSON form`);
  const frozen = Object.isFrozen(value);
  if (frozen) {
    const known = frozenText.get(value);
    if (known !== undefined) return known;
  }
  if (Array.isArray(value) && scalarItems(value)) {
    // The same text, written natively: an IR's counter names, a map element's key and verdict.
    const text = JSON.stringify(value);
    if (frozen && text.length >= REMEMBER_FROM) frozenText.set(value, text);
    if (!frozen) sawMutable = true;
    return text;
  }
  const outer = sawMutable;
  sawMutable = false;
  // Joined, not concatenated: join makes one flat string, where += leaves a tree of pieces that
  // would be kept as it is (several times the text's size) by the memory below.
  const parts: string[] = [];
  const children: object[] = [];
  const part = (item: unknown): string => {
    if (item !== null && typeof item === "object") children.push(item);
    return write(item);
  };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      parts.push(item === undefined ? "null" : part(item));
    }
  } else {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record).sort(keyOrder)) {
      const item = record[key];
      if (item !== undefined) parts.push(`${JSON.stringify(key)}:${part(item)}`);
    }
  }
  const text = Array.isArray(value) ? `[${parts.join(",")}]` : `{${parts.join(",")}}`;
  const deeplyFrozen = frozen && !sawMutable;
  if (deeplyFrozen && text.length >= REMEMBER_FROM) {
    frozenText.set(value, text);
    // Their text is inside this one now: one copy is kept, not one per level (a frozen part
    // met again on its own is written again).
    for (const child of children) frozenText.delete(child);
  }
  sawMutable = outer || !deeplyFrozen;
  return text;
}

/**
 * JSON with every object's keys sorted (by UTF-16 code unit, as Array.prototype.sort does),
 * no whitespace, array order kept, keys whose value is undefined left out (as JSON.stringify
 * does). The same value always gives the same text, whatever order its keys were built in.
 * Deeply frozen parts are written once and remembered (see frozenText).
 */
export function canonicalJson(value: unknown): string {
  const outer = sawMutable;
  try {
    return write(value);
  } finally {
    sawMutable = outer;
  }
}

/**
 * Freezes `value` and everything inside it (plain JSON data: objects and arrays), so that
 * canonicalJson remembers its parts. Stops at parts already frozen, which are taken to be
 * frozen all the way down (what deepFreeze and core's builder leave).
 */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return value;
  if (Array.isArray(value)) for (const item of value) deepFreeze(item);
  else for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return Object.freeze(value);
}

/** Writes are gathered into chunks of about this many characters before they are hashed. */
const HASH_CHUNK = 1 << 16;
/** How deep canonicalSha256 goes into containers before it writes a part whole (the IR's chains and maps are at depth 4). */
const HASH_DEPTH = 4;

class HashSink {
  private readonly hash = createHash("sha256");
  private pending: string[] = [];
  private size = 0;

  push(text: string): void {
    this.pending.push(text);
    this.size += text.length;
    if (this.size >= HASH_CHUNK) this.flush();
  }

  private flush(): void {
    this.hash.update(this.pending.join(""), "utf8");
    this.pending = [];
    this.size = 0;
  }

  digest(): string {
    if (this.size > 0) this.flush();
    return this.hash.digest("hex");
  }
}

/** An array whose items are not objects (an IR's counter names): written whole, and remembered when frozen. */
const scalars = (value: object) => Array.isArray(value) && value.length > 0 && (value[0] === null || typeof value[0] !== "object");

function feed(value: unknown, sink: HashSink, depth: number): void {
  if (value === null || typeof value !== "object" || depth >= HASH_DEPTH || scalars(value) || (Object.isFrozen(value) && frozenText.has(value))) {
    sink.push(canonicalJson(value));
    return;
  }
  if (Array.isArray(value)) {
    sink.push("[");
    for (let i = 0; i < value.length; i++) {
      if (i > 0) sink.push(",");
      const item: unknown = value[i];
      if (item === undefined) sink.push("null");
      else feed(item, sink, depth + 1);
    }
    sink.push("]");
    return;
  }
  const record = value as Record<string, unknown>;
  sink.push("{");
  let first = true;
  for (const key of Object.keys(record).sort(keyOrder)) {
    const item = record[key];
    if (item === undefined) continue;
    sink.push(`${first ? "" : ","}${JSON.stringify(key)}:`);
    first = false;
    feed(item, sink, depth + 1);
  }
  sink.push("}");
}

/**
 * sha256Hex(canonicalJson(value)), without the whole text as one string: the parts near the
 * top are written and hashed piece by piece (deeply frozen parts from memory), so that a
 * ruleset of megabytes is neither joined nor encoded in one go (at 10,000 farms: ~6 ms
 * instead of ~25 ms once its farm chains are remembered).
 */
export function canonicalSha256(value: unknown): string {
  const sink = new HashSink();
  feed(value, sink, 0);
  return sink.digest();
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** sha256 (lowercase hex) of a text. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
