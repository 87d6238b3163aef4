import { EventEmitter } from "node:events";
import { irHash } from "@switchyard/core";
import type { Database, Node } from "@switchyard/db";
import { configOfSnapshot } from "../config/store.ts";
import { nodeToken } from "../nodes/token.ts";
import { AgentCallError, agentStatus, putRuleset, type AgentEndpoint } from "./agent-http.ts";
import { nodeIr } from "./render.ts";

// Deploys: the latest revision rendered for each node and sent to its agent, in parallel (a
// bounded number at a time), with retries and backoff; a Deployment row per node and revision
// records pending → applying → applied | failed (with the agent's words). One deploy runs at a
// time; changes that arrive meanwhile are folded into one more run. A reconcile asks every
// agent what it runs and redeploys to those that are behind (a node that was down catches up).

export interface DeployerOptions {
  db: Database;
  /** The control plane key node tokens derive from (see nodes/token.ts). */
  key: Buffer;
  concurrency?: number;
  /** Tries per node and revision, the first included. */
  attempts?: number;
  /** Waits between tries, in ms (the last repeats). */
  backoffMs?: number[];
  timeoutMs?: number;
}

export interface NodeOutcome {
  node: string;
  revision: number;
  status: "applied" | "failed" | "skipped";
  error?: string;
  attempts: number;
  ms: number;
}

/** Emitted as "deployment" on every status change: what the dashboard's progress shows. */
export interface DeploymentEvent {
  node: string;
  revision: number;
  status: "pending" | "applying" | "applied" | "failed";
  error: string | null;
  attempt: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function inParallel<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export class Deployer extends EventEmitter {
  private running: Promise<NodeOutcome[]> | null = null;
  private next: Promise<NodeOutcome[]> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: DeployerOptions) {
    super();
    // Every dashboard tab that follows deploys listens here (deployments.events): more than
    // Node's default of 10 is normal, not a leak.
    this.setMaxListeners(0);
  }

  get key(): Buffer {
    return this.options.key;
  }

  endpoint(node: Pick<Node, "url" | "tokenSalt">): AgentEndpoint {
    return { url: node.url, token: nodeToken(this.options.key, node.tokenSalt) };
  }

  /**
   * Deploys the latest revision to every node. A call made while a deploy runs gets the run
   * after it (which sees the revision that call was made for); calls made meanwhile share that
   * one run, so a burst of changes costs at most two runs.
   */
  deployLatest(): Promise<NodeOutcome[]> {
    if (this.running === null) return this.startRun();
    this.next ??= this.running.catch(() => []).then(() => {
      this.next = null;
      return this.startRun();
    });
    return this.next;
  }

  private startRun(): Promise<NodeOutcome[]> {
    const run = this.deployOnce().finally(() => {
      if (this.running === run) this.running = null;
    });
    this.running = run;
    return run;
  }

  /** Asks every agent what it runs; deploys the latest revision to those behind or drifted. */
  async reconcile(): Promise<NodeOutcome[]> {
    const { db } = this.options;
    const latest = await db.revision.findFirst({ orderBy: { number: "desc" } });
    if (latest === null) return [];
    const config = configOfSnapshot(latest.snapshot);
    const nodes = await db.node.findMany({ orderBy: { id: "asc" } });
    return inParallel(nodes, this.options.concurrency ?? 8, async (node) => {
      const hash = irHash(nodeIr(config, node.facts));
      try {
        const status = await agentStatus(this.endpoint(node));
        const drift = status.drift?.drifted === true;
        await db.node.update({ where: { id: node.id }, data: { lastSeenAt: new Date(), appliedRevision: status.appliedRevision, appliedHash: status.appliedHash, drift } });
        if (status.appliedRevision === latest.number && status.appliedHash === hash) {
          // It runs what it should: an error from before (it was down, a deploy failed) is over.
          if (node.lastError !== null) await db.node.update({ where: { id: node.id }, data: { lastError: null } });
          return { node: node.name, revision: latest.number, status: "skipped" as const, attempts: 0, ms: 0 };
        }
      } catch (error) {
        await db.node.update({ where: { id: node.id }, data: { lastError: message(error) } });
        return { node: node.name, revision: latest.number, status: "failed" as const, error: message(error), attempts: 1, ms: 0 };
      }
      return this.deployNode(node, latest.number, config);
    });
  }

  /**
   * Deploys the latest revision to one node (a retry of its failed deploy), after the run in
   * progress if there is one; null when there is no revision yet.
   */
  async deployToNode(name: string): Promise<NodeOutcome | null> {
    await this.running?.catch(() => []);
    const { db } = this.options;
    const node = await db.node.findUnique({ where: { name } });
    if (node === null) throw new Error(`node "${name}": no such node`);
    const latest = await db.revision.findFirst({ orderBy: { number: "desc" } });
    if (latest === null) return null;
    return this.deployNode(node, latest.number, configOfSnapshot(latest.snapshot));
  }

  /** Reconciles every `intervalMs` until stop(). */
  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.reconcile().catch(() => {}), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private async deployOnce(): Promise<NodeOutcome[]> {
    const { db } = this.options;
    const latest = await db.revision.findFirst({ orderBy: { number: "desc" } });
    if (latest === null) return [];
    const config = configOfSnapshot(latest.snapshot);
    const nodes = await db.node.findMany({ orderBy: { id: "asc" } });
    return inParallel(nodes, this.options.concurrency ?? 8, (node) => this.deployNode(node, latest.number, config));
  }

  private emitEvent(event: DeploymentEvent): void {
    this.emit("deployment", event);
  }

  private async deployNode(node: Node, revision: number, config: ReturnType<typeof configOfSnapshot>): Promise<NodeOutcome> {
    const { db } = this.options;
    const started = performance.now();
    const ir = nodeIr(config, node.facts);
    const hash = irHash(ir);
    const deployment = await db.deployment.create({ data: { revisionNumber: revision, nodeId: node.id, status: "applying", startedAt: new Date() } });
    const attempts = this.options.attempts ?? 3;
    const backoff = this.options.backoffMs ?? [250, 1000, 4000];
    let lastError = "";
    for (let attempt = 1; attempt <= attempts; attempt++) {
      this.emitEvent({ node: node.name, revision, status: "applying", error: null, attempt });
      try {
        await putRuleset(this.endpoint(node), { revision, hash, ir }, this.options.timeoutMs ?? 60_000);
        const now = new Date();
        await db.deployment.update({ where: { id: deployment.id }, data: { status: "applied", attempts: attempt, finishedAt: now, error: null } });
        await db.node.update({ where: { id: node.id }, data: { appliedRevision: revision, appliedHash: hash, lastSeenAt: now, lastError: null } });
        this.emitEvent({ node: node.name, revision, status: "applied", error: null, attempt });
        return { node: node.name, revision, status: "applied", attempts: attempt, ms: performance.now() - started };
      } catch (error) {
        lastError = message(error);
        // The agent refused the ruleset itself (400) or its revision order (409): trying again changes nothing.
        const final = error instanceof AgentCallError && error.status !== null && error.status < 500;
        await db.deployment.update({ where: { id: deployment.id }, data: { attempts: attempt, error: lastError } });
        if (final || attempt === attempts) break;
        await sleep(backoff[Math.min(attempt - 1, backoff.length - 1)] ?? 1000);
      }
    }
    await db.deployment.update({ where: { id: deployment.id }, data: { status: "failed", finishedAt: new Date() } });
    await db.node.update({ where: { id: node.id }, data: { lastError } });
    this.emitEvent({ node: node.name, revision, status: "failed", error: lastError, attempt: attempts });
    return { node: node.name, revision, status: "failed", error: lastError, attempts, ms: performance.now() - started };
  }
}
