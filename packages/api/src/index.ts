export { appRouter, createCaller, type AppRouter } from "./router.ts";
export type { Actor, Context } from "./trpc.ts";
export { commitChange, type ChangeOutcome, type ChangeRequest } from "./config/commit.ts";
export { loadConfig, snapshotOf } from "./config/store.ts";
export { Deployer, type DeployerOptions, type NodeOutcome } from "./deploy/deployer.ts";
export { serveControlPlane, type ControlPlaneServerOptions, type RunningServer } from "./http/server.ts";
export { hashPassword } from "./auth/passwords.ts";
export { issueNodeToken, nodeToken } from "./nodes/token.ts";
export { DEFAULT_WEB_DIR, webIsBuilt } from "./http/web.ts";
