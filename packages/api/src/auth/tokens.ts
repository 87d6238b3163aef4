import { randomBytes } from "node:crypto";
import { sha256Hex } from "@switchyard/core";
import type { Database, Role } from "@switchyard/db";
import type { Actor } from "../trpc.ts";

// Sessions (the dashboard's cookie) and API tokens (automation's Bearer): random secrets shown
// once; the database keeps their sha256 only. A session lasts SESSION_HOURS from its last use.

export const SESSION_HOURS = 12;
export const API_TOKEN_PREFIX = "sy_";

const secret = () => randomBytes(32).toString("base64url");

export async function createSession(db: Database, userId: number): Promise<{ token: string; expiresAt: Date }> {
  const token = secret();
  const expiresAt = new Date(Date.now() + SESSION_HOURS * 3600_000);
  await db.session.create({ data: { id: sha256Hex(token), userId, expiresAt } });
  return { token, expiresAt };
}

export async function endSession(db: Database, token: string): Promise<void> {
  await db.session.deleteMany({ where: { id: sha256Hex(token) } });
}

export async function actorOfSession(db: Database, token: string): Promise<Actor | null> {
  const session = await db.session.findUnique({ where: { id: sha256Hex(token) }, include: { user: true } });
  if (session === null || session.user.disabled) return null;
  if (session.expiresAt.getTime() < Date.now()) {
    await db.session.delete({ where: { id: session.id } }).catch(() => {});
    return null;
  }
  // Sliding expiry, written at most once a minute.
  const renewed = new Date(Date.now() + SESSION_HOURS * 3600_000);
  if (renewed.getTime() - session.expiresAt.getTime() > 60_000) await db.session.update({ where: { id: session.id }, data: { expiresAt: renewed } });
  return { id: session.user.id, name: session.user.username, role: session.user.role as Role };
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export async function createApiToken(db: Database, userId: number, name: string, role: Role): Promise<{ token: string; id: number }> {
  const user = await db.user.findUniqueOrThrow({ where: { id: userId } });
  if (RANK[role] > RANK[user.role as Role]) throw new Error(`a token cannot have more than its owner's role (${user.role})`);
  const token = `${API_TOKEN_PREFIX}${secret()}`;
  const row = await db.apiToken.create({ data: { name, tokenHash: sha256Hex(token), userId, role } });
  return { token, id: row.id };
}

/** The actor a Bearer token stands for: its owner at the token's role (never more than the owner's current one). */
export async function actorOfApiToken(db: Database, token: string): Promise<Actor | null> {
  if (!token.startsWith(API_TOKEN_PREFIX)) return null;
  const row = await db.apiToken.findUnique({ where: { tokenHash: sha256Hex(token) }, include: { user: true } });
  if (row === null || row.revokedAt !== null || row.user.disabled) return null;
  await db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date() } });
  const role = RANK[row.role as Role] <= RANK[row.user.role as Role] ? (row.role as Role) : (row.user.role as Role);
  return { id: row.user.id, name: `${row.user.username} (token ${row.name})`, role };
}
