import { TRPCError } from "@trpc/server";
import type { DriftReport } from "@switchyard/core";
import type { Database, Node } from "@switchyard/db";
import { AgentCallError, type AgentEndpoint, type AgentStatus } from "../deploy/agent-http.ts";
import type { Deployer } from "../deploy/deployer.ts";
import { notFound } from "../errors.ts";

// What the node procedures share when they speak to agents: finding the node, and turning an
// agent that did not answer (or answered with an error) into words that name the node and the
// URL it was asked at, so that an operator knows which host to look at.

export async function findNode(db: Database, name: string): Promise<Node> {
  const node = await db.node.findUnique({ where: { name } });
  if (node === null) throw notFound(`node "${name}": no such node`);
  return node;
}

export function requireDeployer(deployer: Deployer | undefined): Deployer {
  if (deployer === undefined) throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "this control plane has no deployer (no key)" });
  return deployer;
}

/** Asks the named node's agent; one that fails is thrown as an error that names the node and the URL. */
export async function askAgent<T>(db: Database, deployer: Deployer | undefined, name: string, ask: (endpoint: AgentEndpoint) => Promise<T>): Promise<{ node: Node; answer: T }> {
  const node = await findNode(db, name);
  const answer = await ask(requireDeployer(deployer).endpoint(node)).catch((error: unknown) => {
    throw agentFailure(node, error);
  });
  return { node, answer };
}

/** The agent's failure as an operator reads it; the AgentCallError's text already names the method and URL. */
export function describeAgentFailure(node: Pick<Node, "name" | "url">, error: unknown): string {
  if (!(error instanceof AgentCallError)) return `node "${node.name}" (${node.url}): ${error instanceof Error ? error.message : String(error)}`;
  if (error.status === null) return `node "${node.name}": its agent cannot be reached: ${error.message}`;
  if (error.status === 404 && !/unknown path/.test(error.message)) return `node "${node.name}": ${error.message}; is ${node.url} the address of a switchyard agent?`;
  if (error.status === 401) return `node "${node.name}": its agent refused the node token (${error.message}); the agent must run with the token issued when the node was added`;
  return `node "${node.name}": ${error.message}`;
}

/** A TRPCError for an agent call that failed: 502 when the agent did not answer or failed, 412 when it refused (e.g. drift watching off). */
export function agentFailure(node: Pick<Node, "name" | "url">, error: unknown): TRPCError {
  const refused = error instanceof AgentCallError && error.status !== null && error.status >= 400 && error.status < 500;
  return new TRPCError({ code: refused ? "PRECONDITION_FAILED" : "BAD_GATEWAY", message: describeAgentFailure(node, error), cause: error });
}

/** Records what an agent said about itself: when it was seen, what it runs, whether it drifted. */
export async function recordStatus(db: Database, node: Pick<Node, "id">, status: Pick<AgentStatus, "appliedRevision" | "appliedHash" | "drift">): Promise<void> {
  await db.node.update({
    where: { id: node.id },
    data: { lastSeenAt: new Date(), appliedRevision: status.appliedRevision, appliedHash: status.appliedHash, drift: status.drift?.drifted === true },
  });
}

/** Records a drift check's or a repair's answer: whether the node's tables drifted, and that it was seen now. */
export async function recordDrift(db: Database, node: Pick<Node, "id">, report: Pick<DriftReport, "drifted">): Promise<void> {
  await db.node.update({ where: { id: node.id }, data: { drift: report.drifted === true, lastSeenAt: new Date() } });
}

export type Asked<T> = { name: string; url: string; ok: true; value: T; ms: number } | { name: string; url: string; ok: false; error: string; ms: number };

/** Asks every node's agent at once; one that fails or is slow is reported as such, not thrown. */
export async function askEveryAgent<T>(deployer: Deployer, nodes: readonly Node[], ask: (endpoint: AgentEndpoint, node: Node) => Promise<T>): Promise<Asked<T>[]> {
  return Promise.all(
    nodes.map(async (node): Promise<Asked<T>> => {
      const started = performance.now();
      const ms = () => Math.round(performance.now() - started);
      try {
        const value = await ask(deployer.endpoint(node), node);
        return { name: node.name, url: node.url, ok: true, value, ms: ms() };
      } catch (error) {
        return { name: node.name, url: node.url, ok: false, error: describeAgentFailure(node, error), ms: ms() };
      }
    }),
  );
}
