import { backendsRouter } from "./routers/backends.ts";
import { farmsRouter } from "./routers/farms.ts";
import { revisionsRouter } from "./routers/revisions.ts";
import { createCallerFactory, router } from "./trpc.ts";

export const appRouter = router({
  farms: farmsRouter,
  backends: backendsRouter,
  revisions: revisionsRouter,
});

export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
