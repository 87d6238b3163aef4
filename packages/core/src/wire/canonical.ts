import { createHash } from "node:crypto";

// One text for one value, whoever built it: what revisions, rulesets and their hashes are
// computed over, on the control plane and on the agent alike.

/**
 * JSON with every object's keys sorted (by UTF-16 code unit, as Array.prototype.sort does),
 * no whitespace, array order kept, keys whose value is undefined left out (as JSON.stringify
 * does). The same value always gives the same text, whatever order its keys were built in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} has no JSON form`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? "null" : canonicalJson(item))).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(",")}}`;
  }
  throw new TypeError(`canonicalJson: a ${typeof value} has no JSON form`);
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** sha256 (lowercase hex) of a text. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
