import Database from "better-sqlite3";
import { NO_FILTER, readMigrations, withSchemaEngine } from "./engine.ts";
import { migrationsDir as defaultMigrationsDir, requireAbsolutePath } from "./paths.ts";

export interface MigrateOptions {
  /** The migrations directory; by default the committed ones (packages/db/prisma/migrations). */
  migrationsDir?: string;
}

export interface MigrateResult {
  /** The migrations applied by this call, in order; empty when the database was up to date. */
  applied: string[];
}

/**
 * Applies the committed migrations that the SQLite file at `databasePath` (absolute; created if
 * missing) has not had yet, offline, as `prisma migrate deploy` would: same `_prisma_migrations`
 * table and checksums, so either tool can take over. Idempotent. Each migration runs in its own
 * transaction (see engine.ts for the foreign-key handling); a failed one is rolled back, recorded
 * as failed in `_prisma_migrations` and thrown, and later calls refuse to go on until it is
 * resolved, as with Prisma's CLI.
 *
 * The engine holds an exclusive lock on the file while it works: run this before the control
 * plane opens the database, not beside a live connection.
 */
export async function migrate(databasePath: string, options: MigrateOptions = {}): Promise<MigrateResult> {
  requireAbsolutePath(databasePath, "migrate");
  const migrationsList = await readMigrations(options.migrationsDir ?? defaultMigrationsDir);
  // Up to date: no engine, so no exclusive lock (a control plane restarts while a CLI command or
  // another process has the database open).
  const finished = finishedMigrations(databasePath);
  if (finished !== null && migrationsList.migrationDirectories.every((d) => finished.has(d.path))) return { applied: [] };
  try {
    const output = await withSchemaEngine(databasePath, undefined, (engine) =>
      engine.applyMigrations({ migrationsList, filters: NO_FILTER }),
    );
    return { applied: output.appliedMigrationNames };
  } catch (error) {
    throw namingFailedMigration(databasePath, error);
  }
}

/**
 * The migrations the file has finished, read without the engine; null when the engine must
 * look (no file, no table yet, or a migration that failed or never finished: it reports those).
 */
function finishedMigrations(databasePath: string): Set<string> | null {
  try {
    const db = new Database(databasePath, { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare("SELECT migration_name, finished_at, rolled_back_at FROM _prisma_migrations").all() as {
        migration_name: string;
        finished_at: string | null;
        rolled_back_at: string | null;
      }[];
      if (rows.some((row) => row.finished_at === null && row.rolled_back_at === null)) return null;
      return new Set(rows.filter((row) => row.finished_at !== null && row.rolled_back_at === null).map((row) => row.migration_name));
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}

/** Prefixes the engine's error with the migration that failed, when it does not name it. */
function namingFailedMigration(databasePath: string, error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  let failed: string[] = [];
  try {
    const db = new Database(databasePath, { readonly: true, fileMustExist: true });
    try {
      failed = (
        db
          .prepare("SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NULL AND rolled_back_at IS NULL")
          .all() as { migration_name: string }[]
      ).map((row) => row.migration_name);
    } finally {
      db.close();
    }
  } catch {
    return error; // no file or no _prisma_migrations table: nothing to add
  }
  if (failed.length === 0 || failed.some((name) => error.message.includes(name))) return error;
  error.message = `migration ${failed.join(", ")}: ${error.message}`;
  return error;
}
