import type { IncomingMessage } from "node:http";
import { keyMatches } from "../http/auth.ts";
import { HttpError, MAX_RULESET_BODY_BYTES, readJson, type Answer, type Handler } from "../http/server.ts";
import { countersMetrics, type CounterReader } from "../counters.ts";
import type { DriftWatcher } from "../drift/watcher.ts";
import type { Logger } from "../log.ts";
import { readHostFacts, type HostFacts } from "./host-facts.ts";
import type { ManagedAgent } from "./managed.ts";

// The managed API: what the control plane calls. Bearer token on every request (metrics
// included), JSON answers, errors as {"error": "..."}.

export const managedErrorBody = (message: string) => ({ error: message });

/** Paths this handler owns; everything else goes to the nftlb API. */
export function isManagedPath(url: string | undefined): boolean {
  const path = (url ?? "/").split("?")[0] ?? "/";
  return path === "/v1" || path.startsWith("/v1/") || path === "/metrics";
}

export interface ManagedApiOptions {
  token: string;
  agent: ManagedAgent;
  log: Logger;
  readFacts?: () => Promise<HostFacts>;
  drift?: DriftWatcher;
  /** Per-farm and per-backend counters for GET /v1/counters and /metrics. */
  counters?: CounterReader;
}

function bearer(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== "string") return undefined;
  const found = /^Bearer +(\S+) *$/i.exec(header);
  return found?.[1];
}

export function managedApi({ token, agent, log, readFacts = readHostFacts, drift, counters }: ManagedApiOptions): Handler {
  const route = async (req: IncomingMessage): Promise<Answer> => {
    const method = req.method ?? "GET";
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const presented = bearer(req);
    if (!keyMatches(presented, token)) {
      log.warn({ method, url: path, remote: req.socket.remoteAddress, tokenGiven: presented !== undefined }, "refused: bad token");
      throw new HttpError(401, presented === undefined ? "missing bearer token (Authorization: Bearer <token>)" : "the token is not valid", {
        "WWW-Authenticate": 'Bearer realm="switchyard-agent"',
      });
    }
    const only = (...allowed: string[]) => {
      if (!allowed.includes(method)) throw new HttpError(405, `method ${method} is not allowed on ${path} (allowed: ${allowed.join(", ")})`, { Allow: allowed.join(", ") });
    };
    switch (path.replace(/\/+$/, "")) {
      case "/v1/ruleset": {
        // PUT: the whole ruleset; PATCH: a patch of the applied one (see ManagedAgent.patch).
        only("PUT", "PATCH");
        const body = await readJson(req, MAX_RULESET_BODY_BYTES);
        const answer = method === "PATCH" ? await agent.patch(body) : await agent.put(body);
        return { status: answer.status, body: answer.body };
      }
      case "/v1/status":
        only("GET");
        return { status: 200, body: agent.status() };
      case "/v1/drift":
      case "/v1/repair": {
        only("POST");
        if (drift === undefined) throw new HttpError(409, "drift watching is off on this agent (--drift-interval 0 and no watcher)");
        const report = path.startsWith("/v1/drift") ? await drift.check() : await drift.repair();
        return { status: 200, body: report };
      }
      case "/v1/facts":
        only("GET");
        try {
          return { status: 200, body: await readFacts() };
        } catch (error) {
          throw new HttpError(500, `cannot read the host facts: ${(error as Error).message}`);
        }
      case "/v1/counters": {
        only("GET");
        if (counters === undefined) throw new HttpError(409, "counters are not read on this agent");
        try {
          return { status: 200, body: await counters.report() };
        } catch (error) {
          throw new HttpError(500, `cannot read the counters: ${(error as Error).message}`);
        }
      }
      case "/metrics": {
        only("GET");
        let text = agent.metrics();
        if (counters !== undefined) {
          try {
            text += `${countersMetrics((await counters.report()).farms).join("\n")}\n`;
          } catch (error) {
            // The agent's own metrics still go out; the scrape shows why the counters do not.
            log.warn({ err: error }, "cannot read the counters for /metrics");
            text += `# counters unavailable: ${(error as Error).message.replace(/\s+/g, " ").slice(0, 200)}\n`;
          }
        }
        return { status: 200, body: null, text, headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" } };
      }
      default:
        throw new HttpError(404, `unknown path ${path}`);
    }
  };
  return async (req) => {
    try {
      return await route(req);
    } catch (error) {
      if (error instanceof HttpError) return { status: error.status, body: managedErrorBody(error.message), headers: error.headers };
      log.error({ err: error, method: req.method, url: req.url }, "request failed");
      return { status: 500, body: managedErrorBody(`internal error: ${(error as Error).message}`) };
    }
  };
}
