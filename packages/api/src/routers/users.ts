import { ROLES } from "@switchyard/db";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { hashPassword, MIN_PASSWORD_LENGTH } from "../auth/passwords.ts";
import { notFound } from "../errors.ts";
import { adminProcedure, router } from "../trpc.ts";

export const username = z.string().regex(/^[a-z][a-z0-9._-]{0,63}$/, { error: () => "must start with a letter: lowercase letters, digits, '.', '_' or '-' (at most 64)" });

export const password = z.string().min(MIN_PASSWORD_LENGTH, { error: () => `must have at least ${MIN_PASSWORD_LENGTH} characters` }).max(1024);

export const usersRouter = router({
  list: adminProcedure.query(({ ctx }) => ctx.db.user.findMany({ orderBy: { username: "asc" }, select: { id: true, username: true, role: true, disabled: true, createdAt: true } })),

  add: adminProcedure
    .input(z.object({ username, password, role: z.enum(ROLES) }))
    .mutation(async ({ ctx, input }) => {
      if ((await ctx.db.user.findUnique({ where: { username: input.username } })) !== null) throw new TRPCError({ code: "CONFLICT", message: `user "${input.username}" exists` });
      const user = await ctx.db.user.create({ data: { username: input.username, passwordHash: await hashPassword(input.password), role: input.role }, select: { id: true, username: true, role: true } });
      await ctx.db.auditEvent.create({ data: { actorName: ctx.actor.name, actorId: ctx.actor.id, action: "user.add", entityType: "user", entityName: user.username, after: JSON.stringify({ role: user.role }) } });
      return user;
    }),

  /** Role changes and disabling end the user's sessions. */
  update: adminProcedure.input(z.object({ username, role: z.enum(ROLES).optional(), disabled: z.boolean().optional() })).mutation(async ({ ctx, input }) => {
    const user = await ctx.db.user.findUnique({ where: { username: input.username } });
    if (user === null) throw notFound(`user "${input.username}": no such user`);
    if (user.id === ctx.actor.id && (input.disabled === true || (input.role !== undefined && input.role !== "admin"))) {
      throw new TRPCError({ code: "BAD_REQUEST", message: "an admin cannot disable or demote themselves (another admin can)" });
    }
    const updated = await ctx.db.user.update({ where: { id: user.id }, data: { ...(input.role ? { role: input.role } : {}), ...(input.disabled !== undefined ? { disabled: input.disabled } : {}) } });
    await ctx.db.session.deleteMany({ where: { userId: user.id } });
    await ctx.db.auditEvent.create({
      data: { actorName: ctx.actor.name, actorId: ctx.actor.id, action: "user.update", entityType: "user", entityName: user.username, before: JSON.stringify({ role: user.role, disabled: user.disabled }), after: JSON.stringify({ role: updated.role, disabled: updated.disabled }) },
    });
    return { username: updated.username, role: updated.role, disabled: updated.disabled };
  }),
});
