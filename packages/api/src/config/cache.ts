import type { Config } from "@switchyard/core";
import type { Database } from "@switchyard/db";
import { readRevisionConfig } from "./revision-store.ts";

// The desired config of the latest revision, kept in memory by the process that writes it.
// At 10,000 farms reading it back from the farm rows (or parsing a revision's snapshot) costs
// far more than the change itself; and handing the deployer the same farm objects, change after
// change, lets core's renderer reuse what it built for every farm that did not change.
// Correct across processes: the cache is used only while the database's latest revision is the
// one it holds (the CLI may commit from another process; then the next read loads again).

interface Entry {
  revision: number;
  config: Config;
}

const latestOf = new WeakMap<Database, Entry>();

async function latestRevision(db: Database): Promise<number> {
  return (await db.revision.findFirst({ orderBy: { number: "desc" }, select: { number: true } }))?.number ?? 0;
}

/** Records the config that `revision` made (called once its transaction has committed). */
export function remember(db: Database, revision: number, config: Config): void {
  const known = latestOf.get(db);
  if (known === undefined || known.revision <= revision) latestOf.set(db, { revision, config });
}

/** The config as `revision` left it, if this process knows it. */
export function known(db: Database, revision: number): Config | undefined {
  const entry = latestOf.get(db);
  return entry !== undefined && entry.revision === revision ? entry.config : undefined;
}

/** The latest desired config and its revision (0 before the first). */
export async function currentConfig(db: Database): Promise<Entry> {
  const revision = await latestRevision(db);
  const cached = known(db, revision);
  if (cached !== undefined) return { revision, config: cached };
  // A revision never changes once written: no transaction needed to read it whole.
  const config = await readRevisionConfig(db, revision);
  if (config === null) throw new Error(`revision ${revision} disappeared while it was being read`);
  remember(db, revision, config);
  return { revision, config };
}

/**
 * The config at `revision` (0: the empty config before the first), from memory when it is the
 * latest one this process knows, else from its snapshot; null when there is no such revision.
 */
export async function configAt(db: Database, revision: number): Promise<Config | null> {
  if (revision === 0) return { farms: [] };
  const cached = known(db, revision);
  if (cached !== undefined) return cached;
  return readRevisionConfig(db, revision);
}
