import { z } from "zod";
import { router, viewerProcedure } from "../trpc.ts";

const event = z.object({
  id: z.number().int(),
  actorName: z.string(),
  action: z.string(),
  entityType: z.string(),
  entityName: z.string(),
  before: z.string().nullable(),
  after: z.string().nullable(),
  revisionNumber: z.number().int().nullable(),
  createdAt: z.date(),
});

export const auditRouter = router({
  /** Newest first, filtered by actor, entity, action and time; `before` (an id) pages back. */
  list: viewerProcedure
    .meta({ openapi: { method: "GET", path: "/audit", tags: ["audit"], summary: "The audit log, newest first" } })
    .input(
      z.object({
        actor: z.string().optional(),
        entityType: z.string().optional(),
        entityName: z.string().optional(),
        action: z.string().optional(),
        since: z.coerce.date().optional(),
        until: z.coerce.date().optional(),
        before: z.coerce.number().int().optional(),
        limit: z.coerce.number().int().min(1).max(500).default(100),
      }),
    )
    .output(z.array(event))
    .query(({ ctx, input }) =>
      ctx.db.auditEvent.findMany({
        where: {
          ...(input.actor !== undefined ? { actorName: { startsWith: input.actor } } : {}),
          ...(input.entityType !== undefined ? { entityType: input.entityType } : {}),
          ...(input.entityName !== undefined ? { entityName: input.entityName } : {}),
          ...(input.action !== undefined ? { action: input.action } : {}),
          ...(input.since !== undefined || input.until !== undefined ? { createdAt: { ...(input.since ? { gte: input.since } : {}), ...(input.until ? { lte: input.until } : {}) } } : {}),
          ...(input.before !== undefined ? { id: { lt: input.before } } : {}),
        },
        orderBy: { id: "desc" },
        take: input.limit,
        select: { id: true, actorName: true, action: true, entityType: true, entityName: true, before: true, after: true, revisionNumber: true, createdAt: true },
      }),
    ),

  /** The actors, actions and entity types the log holds: what the dashboard's filters offer. */
  filters: viewerProcedure
    .meta({ openapi: { method: "GET", path: "/audit/filters", tags: ["audit"], summary: "The actors, actions and entity types in the audit log" } })
    .input(z.void())
    .output(z.object({ actors: z.array(z.string()), actions: z.array(z.string()), entityTypes: z.array(z.string()) }))
    .query(async ({ ctx }) => {
      // GROUP BY in SQL, not Prisma's distinct (which reads every row into the process).
      const [actors, actions, entityTypes] = await Promise.all([
        ctx.db.auditEvent.groupBy({ by: ["actorName"], orderBy: { actorName: "asc" } }),
        ctx.db.auditEvent.groupBy({ by: ["action"], orderBy: { action: "asc" } }),
        ctx.db.auditEvent.groupBy({ by: ["entityType"], orderBy: { entityType: "asc" } }),
      ]);
      return { actors: actors.map((r) => r.actorName), actions: actions.map((r) => r.action), entityTypes: entityTypes.map((r) => r.entityType) };
    }),
});
