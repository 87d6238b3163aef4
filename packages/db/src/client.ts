import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import Database from "better-sqlite3";
import { PrismaClient } from "./generated/client.ts";
import { requireAbsolutePath } from "./paths.ts";

export interface OpenDatabaseOptions {
  /** Absolute path of the SQLite file (created if missing; run `migrate` on it first). */
  path: string;
  /** How long a statement waits for another connection's lock before failing (ms). Default 5000. */
  busyTimeoutMs?: number;
}

export type Database = PrismaClient;

/**
 * A PrismaClient over better-sqlite3 for the SQLite file at `path`, in WAL mode (readers do not
 * block the writer) with a busy timeout. Close it with `$disconnect()`.
 */
export function openDatabase({ path, busyTimeoutMs = 5000 }: OpenDatabaseOptions): PrismaClient {
  requireAbsolutePath(path, "openDatabase");
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new Error(`openDatabase: busyTimeoutMs must be a non-negative integer, got ${busyTimeoutMs}`);
  }
  // journal_mode=WAL is a property of the file, kept by every later connection; set it now on a
  // short-lived connection so that the client's (opened lazily by Prisma) starts in WAL mode.
  const setup = new Database(path, { timeout: busyTimeoutMs });
  try {
    const mode = setup.pragma("journal_mode = WAL", { simple: true });
    if (mode !== "wal") throw new Error(`openDatabase: could not put ${path} in WAL mode (journal_mode is ${String(mode)})`);
  } finally {
    setup.close();
  }
  // better-sqlite3's `timeout` is SQLite's busy timeout, set on the client's own connection.
  const adapter = new PrismaBetterSqlite3({ url: path, timeout: busyTimeoutMs });
  return new PrismaClient({ adapter });
}
