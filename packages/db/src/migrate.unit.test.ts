import { mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffDatabaseToSchema, NO_FILTER, SCHEMA_ENGINE_HASH, withSchemaEngine } from "./engine.ts";
import { migrate } from "./migrate.ts";
import { schemaPath } from "./paths.ts";

const MODEL_TABLES = [
  "ApiToken",
  "AuditEvent",
  "Backend",
  "Deployment",
  "Farm",
  "Node",
  "Revision",
  "Session",
  "User",
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "switchyard-db-migrate-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function query<T>(file: string, sql: string): T[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

describe("migrate", () => {
  it("creates every table on a fresh file and records each committed migration as finished", async () => {
    const file = join(dir, "fresh.db");
    const committed = (await readdir(join(dirname(schemaPath), "migrations"), { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    expect(committed[0]).toBe("0001_init");
    expect(await migrate(file)).toEqual({ applied: committed });

    const tables = query<{ name: string }>(file, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").map(
      (row) => row.name,
    );
    expect(tables).toEqual(expect.arrayContaining([...MODEL_TABLES, "_prisma_migrations"]));

    const rows = query<{ migration_name: string; finished_at: string | null; rolled_back_at: string | null; applied_steps_count: number; checksum: string }>(
      file,
      "SELECT migration_name, finished_at, rolled_back_at, applied_steps_count, checksum FROM _prisma_migrations",
    );
    expect(rows).toHaveLength(committed.length);
    expect(rows[0]).toMatchObject({ migration_name: "0001_init", rolled_back_at: null, applied_steps_count: 1 });
    expect(rows[0]!.finished_at).not.toBeNull();
    // prisma migrate deploy's checksum: sha256 of the migration script, hex
    const { createHash } = await import("node:crypto");
    const script = await readFile(join(dirname(schemaPath), "migrations/0001_init/migration.sql"));
    expect(rows[0]!.checksum).toBe(createHash("sha256").update(script).digest("hex"));
  });

  it("is idempotent: a second run applies nothing and changes nothing", async () => {
    const file = join(dir, "twice.db");
    await migrate(file);
    const before = query(file, "SELECT * FROM _prisma_migrations");
    expect(await migrate(file)).toEqual({ applied: [] });
    expect(query(file, "SELECT * FROM _prisma_migrations")).toEqual(before);
  });

  it("an up-to-date file is not locked: migrate answers at once while another connection writes to it", async () => {
    const file = join(dir, "busy.db");
    await migrate(file);
    const other = new Database(file);
    try {
      other.pragma("journal_mode = WAL");
      other.exec("BEGIN IMMEDIATE; INSERT INTO User (username, passwordHash) VALUES ('held', 'x');");
      expect(await migrate(file)).toEqual({ applied: [] });
      other.exec("COMMIT");
    } finally {
      other.close();
    }
  });

  it("the committed migrations match schema.prisma (a schema edit without a migration fails here)", async () => {
    const file = join(dir, "matches.db");
    await migrate(file);
    const schema = await readFile(schemaPath, "utf8");
    expect(await diffDatabaseToSchema(file, schema, dirname(schemaPath))).toBe("");
    // and the check does see a difference when there is one
    const edited = schema.replace("model Node {", "model Node {\n  colour String?");
    expect(await diffDatabaseToSchema(file, edited, dirname(schemaPath))).toMatch(/colour/);
  });

  it("the schema stays portable: the same models make a PostgreSQL migration", async () => {
    const schema = (await readFile(schemaPath, "utf8")).replace(/provider\s*=\s*"sqlite"/, 'provider = "postgresql"');
    expect(schema).toContain('provider = "postgresql"');
    const files = [{ path: schemaPath, content: schema }];
    const { stdout } = await withSchemaEngine(join(dir, "pg-diff.db"), undefined, (engine) =>
      engine.diff({ from: { tag: "empty" }, to: { tag: "schemaDatamodel", files }, script: true, exitCode: null, filters: NO_FILTER }),
    );
    for (const table of MODEL_TABLES) expect(stdout).toContain(`CREATE TABLE "${table}"`);
    expect(stdout).toContain('"id" SERIAL NOT NULL');
    expect(stdout).toMatch(/FOREIGN KEY \("farmId"\) REFERENCES "Farm"\("id"\) ON DELETE CASCADE/);
  });

  it("refuses a relative path or a file: URL", async () => {
    await expect(migrate("switchyard.db")).rejects.toThrow(/must be absolute/);
    await expect(migrate("file:/tmp/x.db")).rejects.toThrow(/must be absolute/);
    await expect(migrate("")).rejects.toThrow(/database path is required/);
  });

  it("uses the engine that Prisma 7.10.0 pairs with", async () => {
    const require = createRequire(import.meta.url);
    const prismaDir = await realpath(dirname(require.resolve("prisma/package.json")));
    const enginesDir = await realpath(dirname(createRequire(join(prismaDir, "x")).resolve("@prisma/engines")));
    const enginesVersionDir = dirname(createRequire(join(enginesDir, "x")).resolve("@prisma/engines-version"));
    const enginesVersion = JSON.parse(await readFile(join(enginesVersionDir, "package.json"), "utf8")).version;
    const wasmDir = dirname(require.resolve("@prisma/schema-engine-wasm"));
    const wasmVersion = JSON.parse(await readFile(join(wasmDir, "package.json"), "utf8")).version;
    expect(wasmVersion).toBe(enginesVersion);
    expect(enginesVersion).toBe(`7.10.0-4.${SCHEMA_ENGINE_HASH}`);
  });
});

describe("migrate with later migrations", () => {
  async function migrationsDir(name: string, scripts: Record<string, string>): Promise<string> {
    const base = join(dir, name);
    for (const [migration, sql] of Object.entries(scripts)) {
      await mkdir(join(base, migration), { recursive: true });
      await writeFile(join(base, migration, "migration.sql"), sql);
    }
    await writeFile(join(base, "migration_lock.toml"), 'provider = "sqlite"\n');
    return base;
  }
  const first = `CREATE TABLE "P" ("id" INTEGER NOT NULL PRIMARY KEY, "x" TEXT);
CREATE TABLE "C" ("id" INTEGER NOT NULL PRIMARY KEY, "pId" INTEGER NOT NULL,
  CONSTRAINT "C_pId_fkey" FOREIGN KEY ("pId") REFERENCES "P" ("id") ON DELETE CASCADE ON UPDATE CASCADE);
INSERT INTO "P" VALUES (1, 'a'), (2, NULL);
INSERT INTO "C" VALUES (10, 1), (11, 1), (20, 2);
`;
  // What Prisma writes for a column change on SQLite: a table redefinition.
  const redefine = `-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_P" ("id" INTEGER NOT NULL PRIMARY KEY, "x" TEXT NOT NULL DEFAULT '');
INSERT INTO "new_P" ("id", "x") SELECT "id", coalesce("x", '') FROM "P";
DROP TABLE "P";
ALTER TABLE "new_P" RENAME TO "P";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
`;

  it("applies only the pending ones, and a table redefinition keeps the child rows", async () => {
    const file = join(dir, "redefine.db");
    expect(await migrate(file, { migrationsDir: await migrationsDir("m1", { "0001_a": first }) })).toEqual({ applied: ["0001_a"] });
    const both = await migrationsDir("m2", { "0001_a": first, "0002_b": redefine });
    expect(await migrate(file, { migrationsDir: both })).toEqual({ applied: ["0002_b"] });
    expect(query<{ id: number }>(file, "SELECT id FROM C ORDER BY id").map((row) => row.id)).toEqual([10, 11, 20]);
    expect(query<{ x: string }>(file, "SELECT x FROM P ORDER BY id").map((row) => row.x)).toEqual(["a", ""]);
    // the foreign key still cascades (and is on again for the connection that follows)
    const db = new Database(file);
    db.prepare("DELETE FROM P WHERE id = 1").run();
    expect(db.prepare("SELECT id FROM C ORDER BY id").all()).toEqual([{ id: 20 }]);
    db.close();
  });

  it("0003_node_placement (Farm redefined without its node group) keeps every farm's backends and deployments", async () => {
    const file = join(dir, "placement.db");
    const committed = join(dirname(schemaPath), "migrations");
    const read = (name: string) => readFile(join(committed, name, "migration.sql"), "utf8");
    const before = await migrationsDir("m-0002", { "0001_init": await read("0001_init"), "0002_node_token_salt": await read("0002_node_token_salt") });
    await migrate(file, { migrationsDir: before });
    const db = new Database(file);
    db.exec(`INSERT INTO User (id, username, passwordHash) VALUES (1, 'alice', 'x');
      INSERT INTO Revision (number, snapshot, hash, authorName) VALUES (1, '{}', 'h', 'alice');
      INSERT INTO NodeGroup (id, name) VALUES (1, 'edge');
      INSERT INTO Node (id, name, url, tokenHash) VALUES (1, 'lb1', 'http://lb1', 't');
      INSERT INTO _NodeToNodeGroup (A, B) VALUES (1, 1);
      INSERT INTO Farm (id, name, config, nodeGroupId, updatedRevision, updatedAt) VALUES (1, 'web', '{}', 1, 1, 0);
      INSERT INTO Backend (farmId, name, config, position) VALUES (1, 'b1', '{}', 0), (1, 'b2', '{}', 1);
      INSERT INTO Deployment (revisionNumber, nodeId, status) VALUES (1, 1, 'applied');`);
    db.close();
    expect((await migrate(file)).applied[0]).toBe("0003_node_placement");
    expect(query<{ name: string }>(file, "SELECT name FROM Backend ORDER BY position").map((row) => row.name)).toEqual(["b1", "b2"]);
    expect(query(file, "SELECT status FROM Deployment")).toEqual([{ status: "applied" }]);
    expect(query(file, "SELECT name, desiredRevision, desiredHash FROM Node")).toEqual([{ name: "lb1", desiredRevision: null, desiredHash: null }]);
  });

  it("rolls a failing migration back whole and records it as failed", async () => {
    const file = join(dir, "failing.db");
    const broken = `CREATE TABLE "Q" ("id" INTEGER NOT NULL PRIMARY KEY);\nINSERT INTO "nope" VALUES (1);\n`;
    const migrations = await migrationsDir("m3", { "0001_a": first, "0002_broken": broken });
    const failure = await migrate(file, { migrationsDir: migrations }).catch((error: Error) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/^migration 0002_broken: .*`nope`/);
    const tables = query<{ name: string }>(file, "SELECT name FROM sqlite_master WHERE type = 'table'").map((row) => row.name);
    expect(tables).toContain("P");
    expect(tables).not.toContain("Q");
    const rows = query<{ migration_name: string; finished_at: string | null }>(
      file,
      "SELECT migration_name, finished_at FROM _prisma_migrations ORDER BY started_at",
    );
    expect(rows.map((row) => [row.migration_name, row.finished_at === null])).toEqual([
      ["0001_a", false],
      ["0002_broken", true],
    ]);
    // as with prisma migrate deploy, a failed migration blocks later runs until resolved
    await expect(migrate(file, { migrationsDir: migrations })).rejects.toThrow(/0002_broken/);
  });

  it("refuses a migration that leaves rows referring to missing rows", async () => {
    const file = join(dir, "dangling.db");
    const dangling = `PRAGMA foreign_keys=OFF;\nDELETE FROM "P" WHERE "id" = 2;\nPRAGMA foreign_keys=ON;\n`;
    const migrations = await migrationsDir("m4", { "0001_a": first, "0002_dangling": dangling });
    await expect(migrate(file, { migrationsDir: migrations })).rejects.toThrow(/^migration 0002_dangling: migration left 1 row\(s\) referring to missing rows/);
    expect(query<{ id: number }>(file, "SELECT id FROM P ORDER BY id").map((row) => row.id)).toEqual([1, 2]);
  });
});
