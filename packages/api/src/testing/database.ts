import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import { migrate, openDatabase, type Database, type Role } from "@switchyard/db";

/** A real SQLite file in a temp dir, migrated with the committed migrations; remove() deletes it. */
export async function scratchDatabase(): Promise<{ db: Database; path: string; remove: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-api-"));
  const path = join(dir, "switchyard.db");
  await migrate(path);
  const db = openDatabase({ path });
  return {
    db,
    path,
    remove: async () => {
      await db.$disconnect();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * For each test of the calling file: a scratch database holding these users (ids 1, 2, … in the
 * order given; the password hash is a placeholder, nobody signs in through these tests), handed
 * to `use` before the test and removed after it.
 */
export function scratchDatabaseEachTest(users: readonly { username: string; role: Role }[], use: (db: Database) => void): void {
  let remove = async (): Promise<void> => {};
  beforeEach(async () => {
    const scratch = await scratchDatabase();
    remove = scratch.remove;
    await scratch.db.user.createMany({ data: users.map((u) => ({ username: u.username, passwordHash: "x", role: u.role })) });
    use(scratch.db);
  });
  afterEach(async () => remove());
}
