import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import type { Database } from "@switchyard/db";
import type { Deployer } from "../deploy/deployer.ts";
import { appRouter } from "../router.ts";
import type { Context } from "../trpc.ts";
import { actorOf, cookie, SESSION_COOKIE } from "./actor.ts";

// The control plane's HTTP face: tRPC at /trpc (what the dashboard calls) and /healthz. The
// dashboard (apps/web) will mount the same handler; until then this serves it alone.

export interface ControlPlaneServerOptions {
  db: Database;
  deployer: Deployer;
  host: string;
  port: number;
  /** How agents and users reach this control plane (named in node enrollment commands). */
  publicUrl?: string;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
}

export function serveControlPlane(options: ControlPlaneServerOptions): Promise<RunningServer> {
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: "/trpc/",
    createContext: async ({ req, res }): Promise<Context> => {
      const secure = options.publicUrl?.startsWith("https:") === true;
      const sessionToken = cookie(req, SESSION_COOKIE);
      return {
        ...(sessionToken !== undefined ? { sessionToken } : {}),
        db: options.db,
        deployer: options.deployer,
        actor: await actorOf(options.db, req),
        ...(options.publicUrl !== undefined ? { publicUrl: options.publicUrl } : {}),
        setSessionCookie: (token, expiresAt) =>
          res.setHeader("Set-Cookie", `${SESSION_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict; Expires=${expiresAt.toUTCString()}${secure ? "; Secure" : ""}`),
      };
    },
  });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path === "/healthz") return json(res, 200, { ok: true });
    if (path.startsWith("/trpc/")) {
      // Cookies ride along with cross-site form posts; JSON bodies cannot without CORS, which this server never allows.
      if (req.method === "POST" && !/^application\/json\b/i.test(req.headers["content-type"] ?? "")) {
        return json(res, 415, { error: "POST bodies must be application/json" });
      }
      return trpc(req, res);
    }
    return json(res, 404, { error: `unknown path ${path}` });
  });
  server.requestTimeout = 120_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off("error", reject);
      const address = server.address() as AddressInfo;
      const host = address.address.includes(":") ? `[${address.address}]` : address.address;
      resolve({
        url: `http://${host}:${address.port}`,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
