import type { z } from "zod";

// The wire contract with the control plane lives in core (both sides use it); the agent's
// modules import it from here.
export { canonicalJson, irHash, PatchRulesetSchema, PutRulesetSchema, SHA256_HEX, type PatchRuleset, type PutRuleset } from "@switchyard/core";

/** The first issues of a failed parse, each located by its path ("ir.tables.0.name: ..."). */
export function describeIssues(error: z.ZodError, max = 5): string {
  return error.issues
    .slice(0, max)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "body"}: ${issue.message}`)
    .join("; ");
}
