import type { LiveDeploys } from "@/lib/deploy-events";
import type { Outputs } from "@/lib/trpc";

type Deployment = Outputs["deployments"]["list"][number];
type Node = Outputs["nodes"]["list"][number];

/** Where the latest revision stands on each node, from the stored deploys, the nodes and the live events. */
export interface Rollout {
  revision: number;
  total: number;
  applied: number;
  failed: number;
  applying: number;
  /** Held behind a canary node that failed (a staged deploy). */
  held: number;
  perNode: { node: string; status: "applied" | "failed" | "applying" | "held" | "waiting"; attempt: number | null; error: string | null }[];
}

/** The newest revision anything knows of: a live event may announce it before the lists are read again. */
export function latestRevision(nodes: readonly Node[] | undefined, deployments: readonly Deployment[] | undefined, live: LiveDeploys): number | null {
  const known = [nodes?.[0]?.desiredRevision, deployments?.[0]?.revisionNumber, live.revision].filter((n): n is number => typeof n === "number");
  return known.length === 0 ? null : Math.max(...known);
}

export function rolloutOf(revision: number | null, nodes: readonly Node[], deployments: readonly Deployment[], live: LiveDeploys): Rollout | null {
  if (revision === null) return null;
  const perNode = nodes.map((node): Rollout["perNode"][number] => {
    const event = live.revision === revision ? live.byNode.get(node.name) : undefined;
    // deployments are newest first: the first row of this node and revision is its latest try.
    const row = deployments.find((d) => d.node.name === node.name && d.revisionNumber === revision);
    // upToDate: the node runs what it should at this revision (by hash: a revision that changes
    // none of the farms placed on it is not sent to it, and it is in step all the same).
    if ((node.appliedRevision === revision || node.upToDate) && event?.status !== "applying") return { node: node.name, status: "applied" as const, attempt: event?.attempt ?? row?.attempts ?? null, error: null };
    if (event !== undefined) {
      const status = event.status === "pending" ? ("applying" as const) : event.status;
      return { node: node.name, status, attempt: event.attempt, error: event.error };
    }
    if (row !== undefined) {
      const status = row.status === "applied" || row.status === "failed" || row.status === "held" ? row.status : "applying";
      return { node: node.name, status, attempt: row.attempts, error: row.error };
    }
    return { node: node.name, status: "waiting" as const, attempt: null, error: null };
  });
  const count = (s: Rollout["perNode"][number]["status"]) => perNode.filter((p) => p.status === s).length;
  return { revision, total: nodes.length, applied: count("applied"), failed: count("failed"), applying: count("applying"), held: count("held"), perNode };
}
