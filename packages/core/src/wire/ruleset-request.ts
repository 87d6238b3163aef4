import { z } from "zod";
import { IrRulesetSchema, type IrRuleset } from "../ruleset/ir.ts";
import { IrPatchSchema } from "../ruleset/ir-patch.ts";
import { canonicalSha256, SHA256_HEX } from "./canonical.ts";

// What the control plane sends to a managed agent (PUT /v1/ruleset), and the hash both sides
// compute over the IR.

/**
 * sha256 (lowercase hex) of the IR's canonical JSON: the `hash` of PUT /v1/ruleset. Cheap for
 * an IR whose unchanged parts are deeply frozen and were hashed before (see canonicalJson).
 */
export function irHash(ir: IrRuleset): string {
  return canonicalSha256(ir);
}

export const PutRulesetSchema = z.strictObject({
  revision: z.number().int().min(1, { error: () => "must be an integer >= 1" }),
  hash: z.string().regex(SHA256_HEX, { error: () => "must be a sha256 in lowercase hex (64 characters)" }),
  ir: IrRulesetSchema,
  force: z.boolean().optional(),
});

export type PutRuleset = z.output<typeof PutRulesetSchema>;

/**
 * What the control plane sends instead of a whole ruleset when it knows what the agent runs
 * (PATCH /v1/ruleset): the IR patch (core's diffIr) from the ruleset whose hash is `baseHash`
 * to the one whose hash is `hash`. The agent applies it only on top of `baseHash`; otherwise it
 * answers 409 and the control plane sends the whole ruleset (PUT).
 */
export const PatchRulesetSchema = z.strictObject({
  revision: PutRulesetSchema.shape.revision,
  baseHash: PutRulesetSchema.shape.hash,
  hash: PutRulesetSchema.shape.hash,
  patch: IrPatchSchema,
  force: z.boolean().optional(),
});

export type PatchRuleset = z.output<typeof PatchRulesetSchema>;
