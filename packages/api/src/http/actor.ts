import type { IncomingMessage } from "node:http";
import type { Database } from "@switchyard/db";
import { actorOfApiToken, actorOfSession } from "../auth/tokens.ts";
import type { Actor } from "../trpc.ts";

export const SESSION_COOKIE = "sy_session";

export function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return undefined;
}

/** Who sent the request: an API token (Authorization: Bearer sy_…) or a session cookie; null for neither. */
export async function actorOf(db: Database, req: IncomingMessage): Promise<Actor | null> {
  const bearer = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? "")?.[1];
  if (bearer !== undefined) return actorOfApiToken(db, bearer);
  const session = cookie(req, SESSION_COOKIE);
  return session === undefined ? null : actorOfSession(db, session);
}
