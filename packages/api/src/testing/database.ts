import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrate, openDatabase, type Database } from "@switchyard/db";

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
