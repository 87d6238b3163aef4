import {
  buildRuleset,
  configForNode,
  factsFromHost,
  HostFactsSchema,
  canonicalJson,
  irHash,
  LabelsSchema,
  NO_FACTS,
  placementMatches,
  PLACEMENT_ATTRIBUTE,
  type Config,
  type Facts,
  type IrRuleset,
  type Labels,
} from "@switchyard/core";
import type { Node } from "@switchyard/db";

// A node's desired ruleset: the farms of the desired config placed on that node (by its
// labels), rendered with the node's facts (the MACs its dsr farms need, from the agent's last
// /v1/facts).

/** The table name agents own by default (their --table). */
export const AGENT_TABLE = "switchyard";

/** What a node's desired ruleset depends on besides the config: its Node row's labels and facts. */
export type NodeRenderInput = Pick<Node, "labels" | "facts">;

export function nodeFacts(factsJson: string | null): Facts {
  if (factsJson === null) return NO_FACTS;
  const parsed = HostFactsSchema.safeParse(JSON.parse(factsJson));
  return parsed.success ? factsFromHost(parsed.data) : NO_FACTS;
}

/**
 * A node's labels from its row. Rows only get labels through LabelsSchema; one that does not
 * parse anyway (edited by hand) counts as no labels, which places on it only the farms that
 * go to every node, rather than failing every deploy.
 */
export function nodeLabels(labelsJson: string): Labels {
  let raw: unknown;
  try {
    raw = JSON.parse(labelsJson);
  } catch {
    return {};
  }
  const parsed = LabelsSchema.safeParse(raw);
  return parsed.success ? parsed.data : {};
}

export function nodeIr(config: Config, node: NodeRenderInput): IrRuleset {
  return buildRuleset(configForNode(config, nodeLabels(node.labels)), { table: AGENT_TABLE, facts: nodeFacts(node.facts) });
}

export interface Rendered {
  ir: IrRuleset;
  hash: string;
  /**
   * The IR's canonical JSON, the `ir` of the body every node that shares it receives when it
   * is sent whole; written when first asked for (a node sent a patch never needs it).
   */
  readonly json: string;
}

/**
 * The IR with its hash, and its JSON once it is needed, for every node that shares it. The
 * hash goes piece by piece over the farm chains core's builder shares between builds (frozen,
 * their canonical text remembered): after a one-farm change, ~10 ms at 10,000 farms rather
 * than ~90 ms for the whole text.
 */
export function renderedOf(ir: IrRuleset): Rendered {
  let json: string | undefined;
  return {
    ir,
    hash: irHash(ir),
    get json() {
      json ??= canonicalJson(ir);
      return json;
    },
  };
}

/**
 * Renders one config for many nodes. Nodes that get the same farms and have the same facts get
 * the same ruleset, so it is built (and hashed) once: a fleet of identical nodes costs one
 * build per deploy, not one per node.
 */
export class FleetRenderer {
  private readonly cache = new Map<string, Rendered>();

  constructor(private readonly config: Config) {}

  render(node: NodeRenderInput): Rendered {
    const labels = nodeLabels(node.labels);
    let placed = "";
    for (const farm of this.config.farms) placed += placementMatches(farm[PLACEMENT_ATTRIBUTE], labels) ? "1" : "0";
    const key = `${placed}\n${node.facts ?? ""}`;
    let rendered = this.cache.get(key);
    if (rendered === undefined) {
      rendered = renderedOf(buildRuleset(configForNode(this.config, labels), { table: AGENT_TABLE, facts: nodeFacts(node.facts) }));
      this.cache.set(key, rendered);
    }
    return rendered;
  }
}
