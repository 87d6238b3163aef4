import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { operatorProcedure, router, viewerProcedure } from "../trpc.ts";

export const deploymentsRouter = router({
  /** Newest first, optionally of one revision or one node. */
  list: viewerProcedure
    .input(z.object({ revision: z.number().int().min(1).optional(), node: z.string().optional(), limit: z.number().int().min(1).max(500).default(100) }))
    .query(({ ctx, input }) =>
      ctx.db.deployment.findMany({
        where: { ...(input.revision === undefined ? {} : { revisionNumber: input.revision }), ...(input.node === undefined ? {} : { node: { name: input.node } }) },
        orderBy: { id: "desc" },
        take: input.limit,
        select: { id: true, revisionNumber: true, status: true, error: true, attempts: true, startedAt: true, finishedAt: true, node: { select: { name: true } } },
      }),
    ),

  /** Deploys the latest revision to every node now (a retry of the failed ones included), and waits for the outcome. */
  deploy: operatorProcedure.mutation(async ({ ctx }) => {
    if (ctx.deployer === undefined) throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "this control plane has no deployer" });
    return ctx.deployer.deployLatest();
  }),

  /** Asks every agent what it runs and redeploys where it is behind. */
  reconcile: operatorProcedure.mutation(async ({ ctx }) => {
    if (ctx.deployer === undefined) throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "this control plane has no deployer" });
    return ctx.deployer.reconcile();
  }),
});
