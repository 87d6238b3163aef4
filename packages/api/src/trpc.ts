import { initTRPC, TRPCError } from "@trpc/server";
import type { OpenApiMeta } from "trpc-to-openapi";
import type { Database, Role } from "@switchyard/db";
import type { Deployer } from "./deploy/deployer.ts";
import { ChangeRefused, describeError, inputIssues } from "./errors.ts";

// The procedures every router builds on. No procedure answers without an actor (a signed-in
// user or an API token's owner), and each says the least role it needs.

/** Who is asking: a user, or the owner of an API token (at the token's role). */
export interface Actor {
  id: number | null;
  name: string;
  role: Role;
}

export interface Context {
  db: Database;
  actor: Actor | null;
  /** Deploys after each change; absent where nothing is deployed (tests of the change pipeline). */
  deployer?: Deployer;
  /** This control plane's URL, as agents are told (--control-plane). */
  publicUrl?: string;
  /** Over HTTP: puts the session in an HttpOnly cookie (login then does not hand the token to scripts). */
  setSessionCookie?: (token: string, expiresAt: Date) => void;
  /** The session token the request came with, if it came with a cookie (for logout). */
  sessionToken?: string;
}

// Procedures that automation needs also answer REST at /api/v1 (their meta.openapi says
// where); the OpenAPI document is generated from the same procedures.
const t = initTRPC.context<Context>().meta<OpenApiMeta>().create({
  // No stack traces in answers, whatever NODE_ENV says.
  isDev: false,
  errorFormatter({ shape, error }) {
    // Field-level reasons travel to the client as data, so that a form can put each under its field.
    const cause = error.cause;
    const fields = inputIssues(error);
    return {
      ...shape,
      message: describeError(error),
      data: { ...shape.data, ...(cause instanceof ChangeRefused ? { issues: cause.issues, conflict: cause.conflict ?? null } : {}), ...(fields !== null ? { fields } : {}) },
    };
  },
});

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

const requireRole = (least: Role) =>
  t.middleware(({ ctx, next }) => {
    if (ctx.actor === null) throw new TRPCError({ code: "UNAUTHORIZED", message: "sign in or present an API token" });
    if (RANK[ctx.actor.role] < RANK[least]) {
      throw new TRPCError({ code: "FORBIDDEN", message: `${ctx.actor.name} is ${ctx.actor.role}; this needs ${least} or more` });
    }
    return next({ ctx: { ...ctx, actor: ctx.actor } });
  });

export const router = t.router;
/** Login and health only: everything else needs an actor. */
export const publicProcedure = t.procedure;
export const createCallerFactory = t.createCallerFactory;
/** Reads: any signed-in role. */
export const viewerProcedure = t.procedure.use(requireRole("viewer"));
/** Farms, backends, deploys, rollbacks. */
export const operatorProcedure = t.procedure.use(requireRole("operator"));
/** Users, tokens, nodes. */
export const adminProcedure = t.procedure.use(requireRole("admin"));
