import { z } from "zod";

// The agent's environment, read here and nowhere else.

/** A variable set to the empty string counts as unset. */
const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === "" ? undefined : value));

const EnvSchema = z.object({
  /** nftlb's own variable for the REST API key. */
  NFTLB_SERVER_KEY: optionalText,
  SWITCHYARD_KEY: optionalText,
  /** Managed mode: the node token the control plane presents (else --token-file). */
  SWITCHYARD_NODE_TOKEN: optionalText,
  /** Set by the agent itself on the child it re-spawns for -d. */
  SWITCHYARD_AGENT_DAEMONIZED: z.literal("1").optional(),
});

export type AgentEnv = z.output<typeof EnvSchema>;

export class EnvError extends Error {}

export function readEnv(env: NodeJS.ProcessEnv = process.env): AgentEnv {
  const parsed = EnvSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new EnvError(`environment variable ${String(issue?.path[0] ?? "?")}: ${issue?.message ?? "invalid"}`);
}
