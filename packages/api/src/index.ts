export { appRouter, createCaller, type AppRouter } from "./router.ts";
export type { Actor, Context } from "./trpc.ts";
export { commitChange, type ChangeOutcome, type ChangeRequest } from "./config/commit.ts";
export { loadConfig, snapshotOf } from "./config/store.ts";
