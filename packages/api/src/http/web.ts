import { existsSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// The dashboard is a Next.js app (apps/web) built with `next build`. The control plane serves
// it from its own HTTP server, as `next start` would, so that pages, tRPC and REST share one
// origin, one port and one process (the deploy service and its live events included).

/** apps/web of this checkout. */
export const DEFAULT_WEB_DIR = resolve(fileURLToPath(new URL("../../../../apps/web", import.meta.url)));

export type WebHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export function webIsBuilt(dir: string): boolean {
  return existsSync(join(dir, ".next", "BUILD_ID"));
}

interface NextServer {
  prepare(): Promise<void>;
  getRequestHandler(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  close(): Promise<void>;
}

/** Next's production server for the built app in `dir` (its own copy of next, from that app's dependencies). */
export async function loadWeb(dir: string, host: string, port: number): Promise<{ handle: WebHandler; close(): Promise<void> }> {
  if (!webIsBuilt(dir)) throw new Error(`${dir}: the dashboard is not built (pnpm --filter @switchyard/web build)`);
  const next = createRequire(join(dir, "package.json"))("next") as (options: { dev: boolean; dir: string; hostname: string; port: number; quiet?: boolean }) => NextServer;
  const app = next({ dev: false, dir, hostname: host, port, quiet: true });
  await app.prepare();
  const handle = app.getRequestHandler();
  return { handle: (req, res) => handle(req, res), close: () => app.close() };
}
