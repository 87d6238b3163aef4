import { EventEmitter } from "node:events";
import { diffIr, type Config, type Labels } from "@switchyard/core";
import type { Database, Node } from "@switchyard/db";
import { configAt } from "../config/cache.ts";
import { nodeToken } from "../nodes/token.ts";
import { AgentCallError, agentStatus, patchRuleset, putRuleset, type AgentEndpoint } from "./agent-http.ts";
import { FleetRenderer, nodeIr, nodeLabels, renderedOf, type Rendered } from "./render.ts";

// Deploys: the latest revision rendered for each node (the farms placed on it) and sent to the
// nodes whose desired ruleset is not the one they last applied, in parallel (a bounded number
// at a time), with retries and backoff; a Deployment row per node and revision records
// pending → applying → applied | failed (with the agent's words). A staged deploy sends to one
// canary node first and to the others only once it applied; when it did not, they are held
// (a "held" row each, naming the canary's failure). One deploy runs at a time; changes that
// arrive meanwhile are folded into one more run. A reconcile asks every agent what it runs and
// redeploys to those that are behind (a node that was down catches up).
//
// What a node gets: while the deployer knows the ruleset the node applied last (it saw the
// agent say so, since this process started), the patch from that one to the new one (PATCH
// /v1/ruleset: a few hundred bytes for a backend's change at 10,000 farms, where the whole
// ruleset is megabytes for the agent to parse, check and diff); otherwise, or when the agent
// refuses the patch for any reason (its ruleset is not the base: 409), the whole ruleset (PUT)
// in the same try. The agent applies a patch only on top of the base it names, so a wrong
// guess costs one refused request, never a wrong ruleset.

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
  /** Stage deploys and reconciles unless a call says otherwise (serve --canary); see DeployOptions.canary. */
  canary?: boolean;
}

export interface DeployOptions {
  /**
   * Staged: one canary node first (the first by name of those labelled canary=true, else the
   * first by name, among the nodes the deploy sends to), the others only once it applied.
   * Default: the deployer's `canary`.
   */
  canary?: boolean;
  /**
   * Send to every node, also to those that already run their desired ruleset (an explicit
   * deploy); otherwise only to the nodes whose desired ruleset changed.
   */
  everyNode?: boolean;
}

export interface NodeOutcome {
  node: string;
  revision: number;
  /** skipped: it already runs its desired ruleset; held: not sent, the canary failed. */
  status: "applied" | "failed" | "skipped" | "held";
  error?: string;
  attempts: number;
  ms: number;
  /** The canary of a staged deploy. */
  canary?: boolean;
}

/** Emitted as "deployment" on every status change: what the dashboard's progress shows. */
export interface DeploymentEvent {
  node: string;
  revision: number;
  status: "pending" | "applying" | "applied" | "failed" | "held";
  error: string | null;
  attempt: number;
  /** The canary of a staged deploy: the others follow only if it applies. */
  canary?: boolean;
}

/** The label that marks the nodes a staged deploy prefers as its canary (canary=true). */
export const CANARY_LABEL = "canary";

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** A staged deploy's canary among `nodes`: the first by name of those labelled canary=true, else the first by name. */
export function chooseCanary<T extends { name: string; labels: Labels }>(nodes: readonly T[]): T | undefined {
  const sorted = [...nodes].sort(byName);
  return sorted.find((n) => n.labels[CANARY_LABEL] === "true") ?? sorted[0];
}

/** A node and its desired ruleset at the revision being deployed. */
interface Plan {
  node: Node;
  rendered: Rendered;
}

/**
 * The patches of one deploy run, as JSON, by (base, target) hash: nodes that had the same
 * ruleset and get the same one share one diff and one serialization.
 */
class PatchCache {
  private readonly texts = new Map<string, string>();

  json(base: Rendered, target: Rendered): string {
    const key = `${base.hash}>${target.hash}`;
    let text = this.texts.get(key);
    if (text === undefined) {
      text = JSON.stringify(diffIr(base.ir, target.ir));
      this.texts.set(key, text);
    }
    return text;
  }
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
  /** What the queued run (`next`) was asked for. */
  private queued: Required<DeployOptions> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /**
   * The ruleset each node (by id) was last seen to apply: the base of its next patch. Only in
   * memory: after a restart the first deploy to each node sends the whole ruleset.
   */
  private readonly applied = new Map<number, Rendered>();
  /** Nodes (by id, at the URL) whose agent has no PATCH /v1/ruleset (an older agent): sent whole. */
  private readonly wholeOnly = new Map<number, string>();

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
   * Deploys the latest revision to the nodes whose desired ruleset changed (or to every node).
   * A call made while a deploy runs gets the run after it (which sees the revision that call
   * was made for); calls made meanwhile share that one run, so a burst of changes costs at most
   * two runs. The shared run is staged if any of its calls asked for it, and goes to every node
   * if any asked for that.
   */
  deployLatest(options: DeployOptions = {}): Promise<NodeOutcome[]> {
    const wanted = { canary: options.canary ?? this.options.canary ?? false, everyNode: options.everyNode ?? false };
    if (this.running === null) return this.startRun(wanted);
    const queued = (this.queued ??= { canary: false, everyNode: false });
    queued.canary ||= wanted.canary;
    queued.everyNode ||= wanted.everyNode;
    this.next ??= this.running.catch(() => []).then(() => {
      const run = this.queued ?? wanted;
      this.next = null;
      this.queued = null;
      return this.startRun(run);
    });
    return this.next;
  }

  private startRun(options: Required<DeployOptions>): Promise<NodeOutcome[]> {
    const run = this.deployOnce(options).finally(() => {
      if (this.running === run) this.running = null;
    });
    this.running = run;
    return run;
  }

  /**
   * Asks every agent what it runs; deploys the latest revision to those whose ruleset is not
   * their desired one. Staged when the deployer stages, and for a revision that a canary has
   * held: a reconcile must not carry a revision past the canary that stopped it (an
   * unreachable canary stops it too).
   */
  async reconcile(): Promise<NodeOutcome[]> {
    const { db } = this.options;
    const latest = await db.revision.findFirst({ orderBy: { number: "desc" }, select: { number: true } });
    const config = latest === null ? null : await configAt(db, latest.number);
    if (latest === null || config === null) return [];
    const plans = await this.plan(latest.number, config);
    const outcomes = new Map<Plan, NodeOutcome>();
    const behind: Plan[] = [];
    const unreachable = new Map<Plan, NodeOutcome>();
    await inParallel(plans, this.options.concurrency ?? 8, async (plan) => {
      const { node } = plan;
      const { hash } = plan.rendered;
      try {
        const status = await agentStatus(this.endpoint(node));
        const drift = status.drift?.drifted === true;
        plan.node = await db.node.update({ where: { id: node.id }, data: { lastSeenAt: new Date(), appliedRevision: status.appliedRevision, appliedHash: status.appliedHash, drift } });
        // The hash, not the revision number: a node that no change since touched runs an older
        // revision's ruleset, which is its desired one.
        if (status.appliedHash === hash) {
          // It runs what it should: an error from before (it was down, a deploy failed) is over.
          if (node.lastError !== null) plan.node = await db.node.update({ where: { id: node.id }, data: { lastError: null } });
          outcomes.set(plan, { node: node.name, revision: latest.number, status: "skipped", attempts: 0, ms: 0 });
        } else behind.push(plan);
      } catch (error) {
        await db.node.update({ where: { id: node.id }, data: { lastError: message(error) } });
        const outcome: NodeOutcome = { node: node.name, revision: latest.number, status: "failed", error: message(error), attempts: 1, ms: 0 };
        outcomes.set(plan, outcome);
        unreachable.set(plan, outcome);
      }
    });
    const staged = (this.options.canary ?? false) || (await db.deployment.count({ where: { revisionNumber: latest.number, status: "held" } })) > 0;
    for (const [plan, outcome] of await this.send(latest.number, behind, staged, new PatchCache(), unreachable)) outcomes.set(plan, outcome);
    return plans.map((plan) => outcomes.get(plan) as NodeOutcome);
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
    const latest = await db.revision.findFirst({ orderBy: { number: "desc" }, select: { number: true } });
    const config = latest === null ? null : await configAt(db, latest.number);
    if (latest === null || config === null) return null;
    return this.deployNode(node, latest.number, renderedOf(nodeIr(config, node)), new PatchCache());
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

  private async deployOnce(options: Required<DeployOptions>): Promise<NodeOutcome[]> {
    const { db } = this.options;
    const latest = await db.revision.findFirst({ orderBy: { number: "desc" }, select: { number: true } });
    const config = latest === null ? null : await configAt(db, latest.number);
    if (latest === null || config === null) return [];
    const plans = await this.plan(latest.number, config);
    const targets = options.everyNode ? plans : plans.filter((p) => p.node.appliedHash !== p.rendered.hash);
    const outcomes = await this.send(latest.number, targets, options.canary, new PatchCache());
    return plans.map((plan) => outcomes.get(plan) ?? { node: plan.node.name, revision: latest.number, status: "skipped", attempts: 0, ms: 0 });
  }

  /** Every node (by id) with its desired ruleset at `revision`, recorded on its row (what nodes.list compares with what it runs). */
  private async plan(revision: number, config: Config): Promise<Plan[]> {
    const { db } = this.options;
    const nodes = await db.node.findMany({ orderBy: { id: "asc" } });
    const renderer = new FleetRenderer(config);
    const plans = nodes.map((node) => ({ node, rendered: renderer.render(node) }));
    const stale = plans.filter((p) => p.node.desiredRevision !== revision || p.node.desiredHash !== p.rendered.hash);
    if (stale.length > 0) {
      await db.$transaction(stale.map((p) => db.node.update({ where: { id: p.node.id }, data: { desiredRevision: revision, desiredHash: p.rendered.hash } })));
    }
    return plans;
  }

  /**
   * Deploys to `targets`, staged or not; the outcome of each. `unreachable`: nodes that did
   * not answer (a reconcile's status check), which may be the canary, and then failed already.
   */
  private async send(revision: number, targets: Plan[], canary: boolean, patches: PatchCache, unreachable = new Map<Plan, NodeOutcome>()): Promise<Map<Plan, NodeOutcome>> {
    const outcomes = new Map<Plan, NodeOutcome>();
    const concurrency = this.options.concurrency ?? 8;
    let rest = targets;
    const candidates = [...targets, ...unreachable.keys()];
    if (canary && targets.length > 0 && candidates.length > 1) {
      const first = chooseCanary(candidates.map((plan) => ({ plan, name: plan.node.name, labels: nodeLabels(plan.node.labels) })))?.plan as Plan;
      const outcome = unreachable.get(first) ?? (await this.deployNode(first.node, revision, first.rendered, patches, true));
      if (!unreachable.has(first)) outcomes.set(first, outcome);
      rest = targets.filter((p) => p !== first);
      if (outcome.status !== "applied") {
        for (const plan of rest) outcomes.set(plan, await this.hold(plan.node, revision, outcome));
        return outcomes;
      }
    }
    const done = await inParallel(rest, concurrency, (plan) => this.deployNode(plan.node, revision, plan.rendered, patches));
    rest.forEach((plan, i) => outcomes.set(plan, done[i] as NodeOutcome));
    return outcomes;
  }

  /**
   * Records that `node` was not sent `revision` because the canary failed. A reconcile that
   * finds the canary still failing holds the node again: that updates its held row rather
   * than adding one per reconcile.
   */
  private async hold(node: Node, revision: number, canary: NodeOutcome): Promise<NodeOutcome> {
    const { db } = this.options;
    const error = `held: the canary node ${canary.node} did not apply revision ${revision}: ${canary.error ?? canary.status}`;
    const last = await db.deployment.findFirst({ where: { nodeId: node.id, revisionNumber: revision }, orderBy: { id: "desc" } });
    const data = { status: "held", error, attempts: 0, finishedAt: new Date() };
    if (last?.status === "held") await db.deployment.update({ where: { id: last.id }, data });
    else await db.deployment.create({ data: { revisionNumber: revision, nodeId: node.id, ...data } });
    this.emitEvent({ node: node.name, revision, status: "held", error, attempt: 0 });
    return { node: node.name, revision, status: "held", error, attempts: 0, ms: 0 };
  }

  private emitEvent(event: DeploymentEvent): void {
    this.emit("deployment", event);
  }

  /** The ruleset `node` runs, as far as this deployer knows, when a patch of it may be sent. */
  private baseOf(node: Node): Rendered | undefined {
    const base = this.applied.get(node.id);
    if (base === undefined || this.wholeOnly.get(node.id) === node.url) return undefined;
    // The node's row is what a reconcile last heard from the agent: another hash there means
    // someone else changed the node (another control plane process, a hand-made PUT).
    return node.appliedHash === base.hash ? base : undefined;
  }

  /**
   * Sends `rendered` to the node: as a patch of the ruleset it runs when that is known, and
   * whole when not, or when the agent answers the patch with any refusal (then at once, in the
   * same try). A patch that got no answer at all is an error like any other (the next try sends
   * it again: the agent takes the same revision and hash twice as a no-op).
   */
  private async sendTo(node: Node, revision: number, rendered: Rendered, force: boolean, patches: PatchCache): Promise<void> {
    const endpoint = this.endpoint(node);
    const timeout = this.options.timeoutMs ?? 60_000;
    const fields = { revision, hash: rendered.hash, ...(force ? { force: true } : {}) };
    const base = this.baseOf(node);
    if (base !== undefined) {
      try {
        await patchRuleset(endpoint, { ...fields, baseHash: base.hash }, patches.json(base, rendered), timeout);
        return;
      } catch (error) {
        if (!(error instanceof AgentCallError) || error.status === null) throw error;
        // Refused (the agent has another ruleset, or could not take this patch): sent whole.
        this.applied.delete(node.id);
        if (error.status === 404 || error.status === 405) this.wholeOnly.set(node.id, node.url);
      }
    }
    await putRuleset(endpoint, fields, rendered.json, timeout);
  }

  private async deployNode(node: Node, revision: number, rendered: Rendered, patches: PatchCache, canary = false): Promise<NodeOutcome> {
    const { db } = this.options;
    const started = performance.now();
    const { hash } = rendered;
    const mark = canary ? { canary: true } : {};
    const deployment = await db.deployment.create({ data: { revisionNumber: revision, nodeId: node.id, status: "applying", startedAt: new Date() } });
    const attempts = this.options.attempts ?? 3;
    const backoff = this.options.backoffMs ?? [250, 1000, 4000];
    // An agent takes a revision it has applied again only with force. The control plane sends
    // one revision with another ruleset when the node's own inputs changed (its labels, hence
    // its farms, or its facts), never to go back: the deployer only sends the latest revision.
    let force = node.appliedRevision === revision && node.appliedHash !== hash;
    let lastError = "";
    let attempt = 0;
    while (attempt < attempts) {
      attempt++;
      this.emitEvent({ node: node.name, revision, status: "applying", error: null, attempt, ...mark });
      try {
        await this.sendTo(node, revision, rendered, force, patches);
        this.applied.set(node.id, rendered);
        const now = new Date();
        await db.deployment.update({ where: { id: deployment.id }, data: { status: "applied", attempts: attempt, finishedAt: now, error: null } });
        await db.node.update({ where: { id: node.id }, data: { appliedRevision: revision, appliedHash: hash, lastSeenAt: now, lastError: null } });
        this.emitEvent({ node: node.name, revision, status: "applied", error: null, attempt, ...mark });
        return { node: node.name, revision, status: "applied", attempts: attempt, ms: performance.now() - started, ...mark };
      } catch (error) {
        lastError = message(error);
        // The agent had this revision with another ruleset though our record of it was older
        // (we did not hear its answer): the case above, so again with force, at once.
        if (!force && error instanceof AgentCallError && error.status === 409 && (error.body as { appliedRevision?: unknown } | null)?.appliedRevision === revision) {
          force = true;
          attempt--;
          continue;
        }
        // The agent refused the ruleset itself (400) or its revision order (409): trying again changes nothing.
        const final = error instanceof AgentCallError && error.status !== null && error.status < 500;
        await db.deployment.update({ where: { id: deployment.id }, data: { attempts: attempt, error: lastError } });
        if (final || attempt === attempts) break;
        await sleep(backoff[Math.min(attempt - 1, backoff.length - 1)] ?? 1000);
      }
    }
    await db.deployment.update({ where: { id: deployment.id }, data: { status: "failed", finishedAt: new Date() } });
    await db.node.update({ where: { id: node.id }, data: { lastError } });
    this.emitEvent({ node: node.name, revision, status: "failed", error: lastError, attempt, ...mark });
    return { node: node.name, revision, status: "failed", error: lastError, attempts: attempt, ms: performance.now() - started, ...mark };
  }
}
