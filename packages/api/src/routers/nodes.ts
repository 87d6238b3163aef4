import { configForNode, CountersReportSchema, DriftReportSchema, FarmCountersSchema, HostFactsSchema, LabelsSchema, type HostFacts } from "@switchyard/core";
import { z } from "zod";
import { currentConfig } from "../config/cache.ts";
import { agentCheckDrift, agentCounters, agentFacts, agentRepair, agentStatus } from "../deploy/agent-http.ts";
import { notFound } from "../errors.ts";
import { askAgent, askEveryAgent, recordDrift, recordStatus, requireDeployer } from "../nodes/agents.ts";
import { sumCounters } from "../nodes/counters.ts";
import { issueNodeToken } from "../nodes/token.ts";
import { adminProcedure, operatorProcedure, router, viewerProcedure } from "../trpc.ts";
import { TRPCError } from "@trpc/server";

const nodeName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: () => "must be lowercase letters, digits and '-' (at most 63)" });
const agentUrl = z.url({ protocol: /^https?$/, error: () => "must be the agent's http:// or https:// URL" });
/** Every label is one that a farm's placement (x-placement) can select. */
const labels = LabelsSchema.default({});

const view = { id: true, name: true, url: true, labels: true, lastSeenAt: true, appliedRevision: true, appliedHash: true, drift: true, lastError: true, createdAt: true } as const;

/** The facts as last read from the agent; null until read (or if what is stored no longer parses). */
function storedFacts(text: string | null): HostFacts | null {
  if (text === null) return null;
  try {
    const parsed = HostFactsSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** An agent's answer as the per-node procedures report it: the value, or why there is none (naming the node and URL). */
const perNode = <T extends z.ZodType>(value: T) =>
  z.discriminatedUnion("ok", [
    z.object({ name: z.string(), url: z.string(), ok: z.literal(true), value, ms: z.number() }),
    z.object({ name: z.string(), url: z.string(), ok: z.literal(false), error: z.string(), ms: z.number() }),
  ]);

const liveStatus = z.object({
  appliedRevision: z.number().nullable(),
  appliedHash: z.string().nullable(),
  lastError: z.object({ message: z.string(), at: z.string() }).nullable(),
  nftVersion: z.string(),
  uptimeSeconds: z.number().nullable(),
  drift: DriftReportSchema.nullable(),
});

/** How long the per-node reads wait for an agent: a page polls them, so a dead node must not hold it up. */
const LIVE_TIMEOUT_MS = 2_000;

export const nodesRouter = router({
  list: viewerProcedure
    .meta({ openapi: { method: "GET", path: "/nodes", tags: ["nodes"], summary: "Every node with the revision it runs and the one it should" } })
    .input(z.void())
    .output(
      z.array(
        z.object({
          id: z.number().int(),
          name: z.string(),
          url: z.string(),
          labels: z.record(z.string(), z.string()),
          lastSeenAt: z.date().nullable(),
          appliedRevision: z.number().int().nullable(),
          appliedHash: z.string().nullable(),
          desiredRevision: z.number().int().nullable(),
          upToDate: z.boolean(),
          drift: z.boolean(),
          lastError: z.string().nullable(),
          createdAt: z.date(),
          /** Interfaces, addresses and neighbours as last read from the agent (refreshFacts), null until then. */
          facts: HostFactsSchema.nullable(),
        }),
      ),
    )
    .query(async ({ ctx }) => {
    const [nodes, latest] = await Promise.all([
      ctx.db.node.findMany({ orderBy: { name: "asc" }, select: { ...view, facts: true, desiredRevision: true, desiredHash: true } }),
      ctx.db.revision.findFirst({ orderBy: { number: "desc" }, select: { number: true } }),
    ]);
    const desired = latest?.number ?? null;
    // Up to date: it runs the ruleset the deployer rendered for it at the latest revision. By
    // hash, not revision number: a revision that changes none of the farms placed on a node
    // is not sent to it.
    return nodes.map(({ desiredRevision, desiredHash, ...n }) => ({
      ...n,
      facts: storedFacts(n.facts),
      labels: JSON.parse(n.labels) as Record<string, string>,
      desiredRevision: desired,
      upToDate: desired === null || (desiredRevision === desired && n.appliedHash === desiredHash),
    }));
  }),

  /** Enrolls a node: its token is in this answer and nowhere else, with the command that starts its agent. */
  add: adminProcedure.input(z.object({ name: nodeName, url: agentUrl, labels })).mutation(async ({ ctx, input }) => {
    if ((await ctx.db.node.findUnique({ where: { name: input.name } })) !== null) {
      throw new TRPCError({ code: "CONFLICT", message: `node "${input.name}": a node of that name exists` });
    }
    if (ctx.deployer === undefined) throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "this control plane has no deployer (no key)" });
    const issued = issueNodeToken(ctx.deployer.key);
    const node = await ctx.db.node.create({
      data: { name: input.name, url: input.url, labels: JSON.stringify(input.labels), tokenHash: issued.hash, tokenSalt: issued.salt },
      select: view,
    });
    await ctx.db.auditEvent.create({ data: { actorName: ctx.actor.name, actorId: ctx.actor.id, action: "node.add", entityType: "node", entityName: node.name, after: JSON.stringify({ url: node.url, labels: input.labels }) } });
    const port = new URL(input.url).port || "5555";
    return {
      node,
      token: issued.token,
      agentCommand: `mkdir -p /etc/switchyard && (umask 077 && echo '${issued.token}' > /etc/switchyard/node-token) && bin/switchyard-agent --managed --token-file /etc/switchyard/node-token${ctx.publicUrl ? ` --control-plane ${ctx.publicUrl}` : ""} -H 0.0.0.0 -P ${port}`,
    };
  }),

  /**
   * Replaces a node's labels, which place farms on it (a farm's x-placement), then deploys: the
   * node gets the farms its new labels select, and loses the others.
   */
  setLabels: adminProcedure
    .meta({ openapi: { method: "PUT", path: "/nodes/{name}/labels", tags: ["nodes"], summary: "Replaces a node's labels (which farms are placed on it) and deploys to it" } })
    .input(z.object({ name: nodeName, labels: LabelsSchema }))
    .output(z.object({ name: z.string(), labels: z.record(z.string(), z.string()), farms: z.array(z.string()) }))
    .mutation(async ({ ctx, input }) => {
      const node = await ctx.db.node.findUnique({ where: { name: input.name } });
      if (node === null) throw notFound(`node "${input.name}": no such node`);
      const labels = JSON.stringify(input.labels);
      if (labels !== node.labels) {
        await ctx.db.$transaction([
          ctx.db.node.update({ where: { id: node.id }, data: { labels } }),
          ctx.db.auditEvent.create({ data: { actorName: ctx.actor.name, actorId: ctx.actor.id, action: "node.labels", entityType: "node", entityName: node.name, before: JSON.stringify({ labels: JSON.parse(node.labels) }), after: JSON.stringify({ labels: input.labels }) } }),
        ]);
        void ctx.deployer?.deployLatest().catch(() => {});
      }
      const farms = configForNode((await currentConfig(ctx.db)).config, input.labels).farms.map((f) => f.name);
      return { name: node.name, labels: { ...input.labels }, farms };
    }),

  remove: adminProcedure.input(z.object({ name: nodeName })).mutation(async ({ ctx, input }) => {
    const node = await ctx.db.node.findUnique({ where: { name: input.name } });
    if (node === null) throw notFound(`node "${input.name}": no such node`);
    await ctx.db.node.delete({ where: { id: node.id } });
    await ctx.db.auditEvent.create({ data: { actorName: ctx.actor.name, actorId: ctx.actor.id, action: "node.remove", entityType: "node", entityName: node.name, before: JSON.stringify({ url: node.url }) } });
    return { removed: node.name };
  }),

  /** Reads the node's interfaces and neighbours from its agent (what dsr farms are rendered with). */
  refreshFacts: operatorProcedure.input(z.object({ name: nodeName })).mutation(async ({ ctx, input }) => {
    const { node, answer: facts } = await askAgent(ctx.db, ctx.deployer, input.name, agentFacts);
    await ctx.db.node.update({ where: { id: node.id }, data: { facts: JSON.stringify(facts), lastSeenAt: new Date() } });
    return facts;
  }),

  /**
   * What every node's agent says about itself now (GET /v1/status, at most 2 s each, all at
   * once): the revision it runs, its last error, the drift it found and what differs. What an
   * agent answers is recorded (last seen, applied revision, drift), as a reconcile would.
   */
  status: viewerProcedure
    .meta({ openapi: { method: "GET", path: "/nodes/status", tags: ["nodes"], summary: "What every node's agent says about itself now" } })
    .input(z.void())
    .output(z.object({ at: z.string(), nodes: z.array(perNode(liveStatus)) }))
    .query(async ({ ctx }) => {
      const deployer = requireDeployer(ctx.deployer);
      const nodes = await ctx.db.node.findMany({ orderBy: { name: "asc" } });
      const answers = await askEveryAgent(deployer, nodes, async (endpoint, node) => {
        const status = await agentStatus(endpoint, LIVE_TIMEOUT_MS);
        await recordStatus(ctx.db, node, status);
        return {
          appliedRevision: status.appliedRevision,
          appliedHash: status.appliedHash,
          lastError: status.lastError,
          nftVersion: status.nftVersion,
          uptimeSeconds: typeof status.uptimeSeconds === "number" ? status.uptimeSeconds : null,
          drift: status.drift ?? null,
        };
      });
      return { at: new Date().toISOString(), nodes: answers };
    }),

  /** Has the node's agent compare its tables in the kernel with what it applied now (POST /v1/drift). */
  checkDrift: operatorProcedure
    .meta({ openapi: { method: "POST", path: "/nodes/{name}/drift", tags: ["nodes"], summary: "Checks the node's kernel for drift now" } })
    .input(z.object({ name: nodeName }))
    .output(DriftReportSchema)
    .mutation(async ({ ctx, input }) => {
      const { node, answer: report } = await askAgent(ctx.db, ctx.deployer, input.name, agentCheckDrift);
      await recordDrift(ctx.db, node, report);
      return report;
    }),

  /** Has the node's agent put its last applied ruleset back whole (POST /v1/repair), then check again. */
  repair: operatorProcedure
    .meta({ openapi: { method: "POST", path: "/nodes/{name}/repair", tags: ["nodes"], summary: "Puts the node's last applied ruleset back in its kernel" } })
    .input(z.object({ name: nodeName }))
    .output(DriftReportSchema)
    .mutation(async ({ ctx, input }) => {
      const { node, answer: report } = await askAgent(ctx.db, ctx.deployer, input.name, agentRepair);
      await recordDrift(ctx.db, node, report);
      await ctx.db.auditEvent.create({
        data: { actorName: ctx.actor.name, actorId: ctx.actor.id, action: "node.repair", entityType: "node", entityName: node.name, after: JSON.stringify({ drifted: report.drifted, repairs: report.repairs }) },
      });
      return report;
    }),

  /**
   * New connections, packets and bytes per farm and backend, from every node's kernel counters
   * (GET /v1/counters, at most 2 s each, all at once), per node and summed over the nodes that
   * answered. Connections are counted by the NAT chains (a connection's first packet); packets
   * and bytes, both directions, by the agent's forward chain, per real backend. All since the
   * counter was created (dsr farms have none: their replies never pass the balancer).
   */
  counters: viewerProcedure
    .meta({ openapi: { method: "GET", path: "/nodes/counters", tags: ["nodes"], summary: "New connections, packets and bytes per farm and backend, per node and summed" } })
    .input(z.void())
    .output(z.object({ at: z.string(), nodes: z.array(perNode(CountersReportSchema)), farms: z.array(FarmCountersSchema) }))
    .query(async ({ ctx }) => {
      const deployer = requireDeployer(ctx.deployer);
      const nodes = await ctx.db.node.findMany({ orderBy: { name: "asc" } });
      const answers = await askEveryAgent(deployer, nodes, (endpoint) => agentCounters(endpoint, LIVE_TIMEOUT_MS));
      return { at: new Date().toISOString(), nodes: answers, farms: sumCounters(answers.flatMap((a) => (a.ok ? [a.value] : []))) };
    }),
});
