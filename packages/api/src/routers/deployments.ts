import { on } from "node:events";
import { TRPCError } from "@trpc/server";
import type { DeploymentEvent } from "../deploy/deployer.ts";
import { z } from "zod";
import { notFound } from "../errors.ts";
import { operatorProcedure, router, viewerProcedure } from "../trpc.ts";

/** What a deploy did on one node. */
const nodeOutcome = z.object({
  node: z.string(),
  revision: z.number().int(),
  status: z.enum(["applied", "failed", "skipped", "held"]),
  error: z.string().optional(),
  attempts: z.number().int(),
  ms: z.number(),
  canary: z.boolean().optional(),
});

export const deploymentsRouter = router({
  /** Newest first, optionally of one revision or one node. */
  list: viewerProcedure
    .meta({ openapi: { method: "GET", path: "/deployments", tags: ["deployments"], summary: "Newest first" } })
    .input(z.object({ revision: z.coerce.number().int().min(1).optional(), node: z.string().optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }))
    .output(
      z.array(
        z.object({
          id: z.number().int(),
          revisionNumber: z.number().int(),
          status: z.string(),
          error: z.string().nullable(),
          attempts: z.number().int(),
          startedAt: z.date().nullable(),
          finishedAt: z.date().nullable(),
          node: z.object({ name: z.string() }),
          revision: z.object({ message: z.string(), authorName: z.string(), kind: z.string(), createdAt: z.date() }),
        }),
      ),
    )
    .query(({ ctx, input }) =>
      ctx.db.deployment.findMany({
        where: { ...(input.revision === undefined ? {} : { revisionNumber: input.revision }), ...(input.node === undefined ? {} : { node: { name: input.node } }) },
        orderBy: { id: "desc" },
        take: input.limit,
        select: {
          id: true,
          revisionNumber: true,
          status: true,
          error: true,
          attempts: true,
          startedAt: true,
          finishedAt: true,
          node: { select: { name: true } },
          revision: { select: { message: true, authorName: true, kind: true, createdAt: true } },
        },
      }),
    ),

  /**
   * Deploys the latest revision to every node now (a retry of the failed ones included), and
   * waits for the outcome. canary: one node first (labelled canary=true, else the first by
   * name), the others only if it applied (held otherwise); default: the control plane's (serve --canary).
   */
  deploy: operatorProcedure
    .meta({ openapi: { method: "POST", path: "/deployments", tags: ["deployments"], summary: "Deploys the latest revision to every node (optionally a canary node first) and waits for the outcome" } })
    .input(z.object({ canary: z.boolean().optional() }).optional())
    .output(z.array(nodeOutcome))
    .mutation(async ({ ctx, input }) => {
    if (ctx.deployer === undefined) throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "this control plane has no deployer" });
    return ctx.deployer.deployLatest({ everyNode: true, ...(input?.canary !== undefined ? { canary: input.canary } : {}) });
  }),

  /** Deploys the latest revision to one node now (a retry of its failed deploy), and waits for the outcome. */
  retry: operatorProcedure
    .meta({ openapi: { method: "POST", path: "/deployments/{node}", tags: ["deployments"], summary: "Deploys the latest revision to one node and waits for the outcome" } })
    .input(z.object({ node: z.string().min(1) }))
    .output(nodeOutcome)
    .mutation(async ({ ctx, input }) => {
      if (ctx.deployer === undefined) throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "this control plane has no deployer" });
      if ((await ctx.db.node.findUnique({ where: { name: input.node }, select: { id: true } })) === null) throw notFound(`node "${input.node}": no such node`);
      const outcome = await ctx.deployer.deployToNode(input.node);
      if (outcome === null) throw new TRPCError({ code: "PRECONDITION_FAILED", message: "nothing to deploy: there is no revision yet" });
      return outcome;
    }),

  /** Every deployment status change as it happens (per node: applying, applied, failed with the agent's words, held behind a failed canary), for live progress. */
  events: viewerProcedure.subscription(async function* ({ ctx, signal }) {
    if (ctx.deployer === undefined) throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "this control plane has no deployer" });
    for await (const [event] of on(ctx.deployer, "deployment", { signal })) yield event as DeploymentEvent;
  }),

  /** Asks every agent what it runs and redeploys where it is behind. */
  reconcile: operatorProcedure.mutation(async ({ ctx }) => {
    if (ctx.deployer === undefined) throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "this control plane has no deployer" });
    return ctx.deployer.reconcile();
  }),
});
