import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { passwordMatches, wasteAVerify } from "../auth/passwords.ts";
import { createSession, endSession } from "../auth/tokens.ts";
import { publicProcedure, router, viewerProcedure } from "../trpc.ts";

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

  me: viewerProcedure.query(({ ctx }) => ctx.actor),

  logout: viewerProcedure.mutation(async ({ ctx }) => {
    if (ctx.sessionToken !== undefined) await endSession(ctx.db, ctx.sessionToken);
    ctx.setSessionCookie?.("", new Date(0));
    return { loggedOut: true };
  }),
});
