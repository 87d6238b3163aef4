import { createHash } from "node:crypto";
import { z } from "zod";
import { IrRulesetSchema, type IrRuleset } from "@switchyard/core";

// What the control plane sends to a managed agent, and the hash both sides compute over it.

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

/** sha256 (lowercase hex) of the IR's canonical JSON: the `hash` of PUT /v1/ruleset. */
export function irHash(ir: IrRuleset): string {
  return createHash("sha256").update(canonicalJson(ir), "utf8").digest("hex");
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;

export const PutRulesetSchema = z.strictObject({
  revision: z.number().int().min(1, { error: () => "must be an integer >= 1" }),
  hash: z.string().regex(SHA256_HEX, { error: () => "must be a sha256 in lowercase hex (64 characters)" }),
  ir: IrRulesetSchema,
  force: z.boolean().optional(),
});

export type PutRuleset = z.output<typeof PutRulesetSchema>;

/** The first issues of a failed parse, each located by its path ("ir.tables.0.name: ..."). */
export function describeIssues(error: z.ZodError, max = 5): string {
  return error.issues
    .slice(0, max)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "body"}: ${issue.message}`)
    .join("; ");
}
