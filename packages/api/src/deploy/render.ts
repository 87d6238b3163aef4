import { buildRuleset, factsFromHost, HostFactsSchema, NO_FACTS, type Config, type Facts, type IrRuleset } from "@switchyard/core";

// A node's desired ruleset: the desired config rendered with that node's facts (the MACs its
// dsr farms need, from the agent's last /v1/facts). Every farm goes to every node for now.

/** The table name agents own by default (their --table). */
export const AGENT_TABLE = "switchyard";

export function nodeFacts(factsJson: string | null): Facts {
  if (factsJson === null) return NO_FACTS;
  const parsed = HostFactsSchema.safeParse(JSON.parse(factsJson));
  return parsed.success ? factsFromHost(parsed.data) : NO_FACTS;
}

export function nodeIr(config: Config, factsJson: string | null): IrRuleset {
  return buildRuleset(config, { table: AGENT_TABLE, facts: nodeFacts(factsJson) });
}
