import { isAbsolute } from "node:path";
import { fileURLToPath } from "node:url";

/** packages/db/prisma/schema.prisma */
export const schemaPath = fileURLToPath(new URL("../prisma/schema.prisma", import.meta.url));

/** packages/db/prisma/migrations: the committed migrations, applied in name order. */
export const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));

/**
 * The database file's path as given, refused unless absolute: the driver adapter resolves a
 * relative path against the working directory (and strips `file:`), so a relative path would
 * silently open a different file depending on where the process was started.
 */
export function requireAbsolutePath(databasePath: string, what: string): string {
  if (typeof databasePath !== "string" || databasePath === "") {
    throw new Error(`${what}: a database path is required (an absolute path to the SQLite file)`);
  }
  if (!isAbsolute(databasePath)) {
    throw new Error(
      `${what}: the database path must be absolute, got ${JSON.stringify(databasePath)} ` +
        `(relative paths and "file:" URLs would resolve against the working directory)`,
    );
  }
  return databasePath;
}
