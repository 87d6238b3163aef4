import type { IncomingMessage } from "node:http";
import type { Database } from "@switchyard/db";
import { actorOfApiToken, actorOfSession } from "../auth/tokens.ts";
import type { Actor } from "../trpc.ts";

export const SESSION_COOKIE = "sy_session";

/** A request as node:http gives it, or as a Fetch Request (the REST adapter hands its handlers one). */
type AnyRequest = IncomingMessage | Request;

function header(req: AnyRequest, name: string): string | undefined {
  if (req.headers instanceof Headers) return req.headers.get(name) ?? undefined;
  const value = (req as IncomingMessage).headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function cookie(req: AnyRequest, name: string): string | undefined {
  for (const part of (header(req, "cookie") ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return undefined;
}

/** Who sent the request: an API token (Authorization: Bearer sy_…) or a session cookie; null for neither. */
export async function actorOf(db: Database, req: AnyRequest): Promise<Actor | null> {
  const bearer = /^Bearer +(\S+) *$/i.exec(header(req, "authorization") ?? "")?.[1];
  if (bearer !== undefined) return actorOfApiToken(db, bearer);
  const session = cookie(req, SESSION_COOKIE);
  return session === undefined ? null : actorOfSession(db, session);
}
