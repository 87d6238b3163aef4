import { auditRouter } from "./routers/audit.ts";
import { authRouter } from "./routers/auth.ts";
import { backendsRouter } from "./routers/backends.ts";
import { deploymentsRouter } from "./routers/deployments.ts";
import { nodesRouter } from "./routers/nodes.ts";
import { farmsRouter } from "./routers/farms.ts";
import { revisionsRouter } from "./routers/revisions.ts";
import { tokensRouter } from "./routers/tokens.ts";
import { usersRouter } from "./routers/users.ts";
import { createCallerFactory, router } from "./trpc.ts";

export const appRouter = router({
  auth: authRouter,
  users: usersRouter,
  tokens: tokensRouter,
  farms: farmsRouter,
  backends: backendsRouter,
  revisions: revisionsRouter,
  nodes: nodesRouter,
  deployments: deploymentsRouter,
  audit: auditRouter,
});

export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
