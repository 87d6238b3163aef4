import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { hashPassword, passwordMatches, wasteAVerify } from "../auth/passwords.ts";
import { createSession, endSession } from "../auth/tokens.ts";
import { publicProcedure, router, viewerProcedure } from "../trpc.ts";
import { password, username } from "./users.ts";

export const authRouter = router({
  /** The only procedure that answers without credentials (with health). The session token goes in a cookie set by the HTTP layer. */
  login: publicProcedure.input(z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) })).mutation(async ({ ctx, input }) => {
    const user = await ctx.db.user.findUnique({ where: { username: input.username } });
    if (user === null) await wasteAVerify(input.password);
    const ok = user !== null && !user.disabled && (await passwordMatches(user.passwordHash, input.password));
    if (!ok || user === null) {
      await ctx.db.auditEvent.create({ data: { actorName: input.username, action: "user.login-failed", entityType: "user", entityName: input.username } });
      throw new TRPCError({ code: "UNAUTHORIZED", message: "wrong username or password" });
    }
    const session = await createSession(ctx.db, user.id);
    await ctx.db.auditEvent.create({ data: { actorName: user.username, actorId: user.id, action: "user.login", entityType: "user", entityName: user.username } });
    const answer = { expiresAt: session.expiresAt, user: { name: user.username, role: user.role } };
    if (ctx.setSessionCookie === undefined) return { ...answer, token: session.token };
    ctx.setSessionCookie(session.token, session.expiresAt);
    return answer;
  }),

  /** Whether this control plane still waits for its first admin (the sign-in page then offers setup). */
  status: publicProcedure.query(async ({ ctx }) => ({ needsSetup: (await ctx.db.user.count()) === 0 })),

  /**
   * First-run setup: creates the first admin and signs them in. Answers only while there is no
   * user at all, so it cannot be used to add a second admin.
   */
  setup: publicProcedure.input(z.object({ username, password })).mutation(async ({ ctx, input }) => {
    const passwordHash = await hashPassword(input.password);
    const user = await ctx.db.$transaction(async (tx) => {
      if ((await tx.user.count()) > 0) return null;
      const created = await tx.user.create({ data: { username: input.username, passwordHash, role: "admin" } });
      await tx.auditEvent.create({ data: { actorName: created.username, actorId: created.id, action: "user.setup", entityType: "user", entityName: created.username, after: JSON.stringify({ role: "admin" }) } });
      return created;
    });
    if (user === null) throw new TRPCError({ code: "FORBIDDEN", message: "this control plane already has users: sign in, or ask an admin for an account" });
    const session = await createSession(ctx.db, user.id);
    ctx.setSessionCookie?.(session.token, session.expiresAt);
    return { expiresAt: session.expiresAt, user: { name: user.username, role: user.role } };
  }),

  me: viewerProcedure.query(({ ctx }) => ctx.actor),

  logout: viewerProcedure.mutation(async ({ ctx }) => {
    if (ctx.sessionToken !== undefined) await endSession(ctx.db, ctx.sessionToken);
    ctx.setSessionCookie?.("", new Date(0));
    return { loggedOut: true };
  }),
});
