import { ROLES } from "@switchyard/db";
import { z } from "zod";
import { createApiToken } from "../auth/tokens.ts";
import { notFound } from "../errors.ts";
import { adminProcedure, router } from "../trpc.ts";
import { TRPCError } from "@trpc/server";

export const tokensRouter = router({
  list: adminProcedure.query(({ ctx }) =>
    ctx.db.apiToken.findMany({ orderBy: { id: "asc" }, select: { id: true, name: true, role: true, createdAt: true, lastUsedAt: true, revokedAt: true, user: { select: { username: true } } } }),
  ),

  /** The token is in this answer and nowhere else. */
  create: adminProcedure.input(z.object({ name: z.string().min(1).max(64), role: z.enum(ROLES), owner: z.string().optional() })).mutation(async ({ ctx, input }) => {
    const owner = input.owner === undefined ? ctx.actor.id : (await ctx.db.user.findUnique({ where: { username: input.owner } }))?.id;
    if (owner === null || owner === undefined) throw notFound(`user "${input.owner ?? ctx.actor.name}": no such user`);
    const created = await createApiToken(ctx.db, owner, input.name, input.role).catch((error: unknown) => {
      throw new TRPCError({ code: "BAD_REQUEST", message: (error as Error).message });
    });
    await ctx.db.auditEvent.create({ data: { actorName: ctx.actor.name, actorId: ctx.actor.id, action: "token.create", entityType: "token", entityName: input.name, after: JSON.stringify({ role: input.role }) } });
    return created;
  }),

  revoke: adminProcedure.input(z.object({ id: z.number().int() })).mutation(async ({ ctx, input }) => {
    const token = await ctx.db.apiToken.findUnique({ where: { id: input.id } });
    if (token === null) throw notFound(`token ${input.id}: no such token`);
    await ctx.db.apiToken.update({ where: { id: token.id }, data: { revokedAt: new Date() } });
    await ctx.db.auditEvent.create({ data: { actorName: ctx.actor.name, actorId: ctx.actor.id, action: "token.revoke", entityType: "token", entityName: token.name } });
    return { revoked: token.id };
  }),
});
