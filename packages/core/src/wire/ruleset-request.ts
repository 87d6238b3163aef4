import { z } from "zod";
import { IrRulesetSchema, type IrRuleset } from "../ruleset/ir.ts";
import { canonicalJson, SHA256_HEX, sha256Hex } from "./canonical.ts";

// What the control plane sends to a managed agent (PUT /v1/ruleset), and the hash both sides
// compute over the IR.

/** sha256 (lowercase hex) of the IR's canonical JSON: the `hash` of PUT /v1/ruleset. */
export function irHash(ir: IrRuleset): string {
  return sha256Hex(canonicalJson(ir));
}

export const PutRulesetSchema = z.strictObject({
  revision: z.number().int().min(1, { error: () => "must be an integer >= 1" }),
  hash: z.string().regex(SHA256_HEX, { error: () => "must be a sha256 in lowercase hex (64 characters)" }),
  ir: IrRulesetSchema,
  force: z.boolean().optional(),
});

export type PutRuleset = z.output<typeof PutRulesetSchema>;
