import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { createOpenApiHttpHandler, generateOpenApiDocument } from "trpc-to-openapi";
import type { Database } from "@switchyard/db";
import type { Deployer } from "../deploy/deployer.ts";
import { appRouter } from "../router.ts";
import type { Context } from "../trpc.ts";
import { actorOf, cookie, SESSION_COOKIE } from "./actor.ts";
import { loadWeb } from "./web.ts";

// The control plane's HTTP face: tRPC at /trpc (what the dashboard calls), REST at /api/v1,
// /healthz, and every other path to the dashboard (apps/web, a built Next.js app) when given one.

export interface ControlPlaneServerOptions {
  db: Database;
  deployer: Deployer;
  host: string;
  port: number;
  /** How agents and users reach this control plane (named in node enrollment commands). */
  publicUrl?: string;
  /** A built dashboard (apps/web) to serve on every path that is not the API's (see web.ts). */
  webDir?: string;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
}

export const REST_BASE = "/api/v1";

/** The OpenAPI document of the REST API, generated from the procedures that declare a REST route. */
export function openApiDocument(baseUrl: string) {
  return generateOpenApiDocument(appRouter, {
    title: "Switchyard control plane",
    version: "1",
    baseUrl: `${baseUrl}${REST_BASE}`,
    description: "Farms, backends, revisions, nodes and deployments. Authorization: Bearer <API token> (bin/switchyard token create).",
  });
}

export async function serveControlPlane(options: ControlPlaneServerOptions): Promise<RunningServer> {
  const web = options.webDir !== undefined ? await loadWeb(options.webDir, options.host, options.port) : undefined;
  const createContext = async ({ req, res }: { req: IncomingMessage | Request; res: ServerResponse }): Promise<Context> => {
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
  };
  const trpc = createHTTPHandler({ router: appRouter, basePath: "/trpc/", createContext });
  const rest = createOpenApiHttpHandler({ router: appRouter, createContext });
  let document: string | null = null;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path === "/healthz") return json(res, 200, { ok: true });
    if (path === `${REST_BASE}/openapi.json`) {
      document ??= JSON.stringify(openApiDocument(options.publicUrl ?? `http://${req.headers.host ?? "localhost"}`));
      res.writeHead(200, { "Content-Type": "application/json" }).end(document);
      return;
    }
    if (path.startsWith("/trpc/") || path.startsWith(`${REST_BASE}/`)) {
      // Cookies ride along with cross-site form posts; JSON bodies cannot without CORS, which this server never allows.
      if (req.method === "POST" && !/^application\/json\b/i.test(req.headers["content-type"] ?? "")) {
        return json(res, 415, { error: "POST bodies must be application/json" });
      }
      if (path.startsWith("/trpc/")) return trpc(req, res);
      req.url = (req.url ?? "").slice(REST_BASE.length);
      return void rest(req, res);
    }
    if (web !== undefined) {
      web.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) json(res, 500, { error: `dashboard: ${error instanceof Error ? error.message : String(error)}` });
        else res.destroy();
      });
      return;
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
        close: async () => {
          await new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          });
          await web?.close();
        },
      });
    });
  });
}
