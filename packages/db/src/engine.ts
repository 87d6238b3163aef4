// Prisma's schema engine as WebAssembly (@prisma/schema-engine-wasm), driven through the
// better-sqlite3 driver adapter. The Prisma CLI wants a native schema engine binary that cannot
// be downloaded here; the wasm engine is the same engine (same version as Prisma 7.10.0's
// @prisma/engines-version) and writes the same `_prisma_migrations` table.
import { readFile, readdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import {
  bindMigrationAwareSqlAdapterFactory,
  type ErrorRegistry,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from "@prisma/driver-adapter-utils";
import type { MigrationList, SchemaEngine, SchemaFilter } from "@prisma/schema-engine-wasm";

/** The engine commit that Prisma 7.10.0 pairs with (`@prisma/engines-version` 7.10.0-4.<hash>). */
export const SCHEMA_ENGINE_HASH = "0edf323efd1d98336f3f0a68684b56f689b900d3";

export const NO_FILTER: SchemaFilter = { externalTables: [], externalEnums: [] };

// The tsconfig's lib has no DOM, hence no WebAssembly typings: the little used here.
type WasmExports = Record<string, unknown>;
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, object>) => { exports: WasmExports };
}
const { WebAssembly: wasmApi } = globalThis as unknown as { WebAssembly: WasmApi };

interface WasmRuntime {
  __wbg_set_wasm(exports: WasmExports): void;
  version(): string;
  SchemaEngine: {
    new: (
      options: { datamodels: [string, string][] | undefined },
      log: (line: string) => void,
      adapter: object,
    ) => Promise<SchemaEngine>;
  };
}

interface PanicRegistry {
  get(): string;
  set_message(message: string): void;
}

declare global {
  // Read by the wasm module's panic hook (wasm-bindgen glue: `global.PRISMA_WASM_PANIC_REGISTRY`).
  var PRISMA_WASM_PANIC_REGISTRY: PanicRegistry | undefined;
}

let runtimePromise: Promise<WasmRuntime> | undefined;

/**
 * Instantiates the wasm module once per process (wasm-bindgen keeps one instance; loading it
 * twice breaks it). Node 20 cannot `import` a .wasm file, so the glue module
 * (schema_engine_bg.js) is imported and the module is instantiated by hand with it as imports.
 */
function loadRuntime(): Promise<WasmRuntime> {
  runtimePromise ??= (async () => {
    if (globalThis.PRISMA_WASM_PANIC_REGISTRY === undefined) {
      let message = "";
      globalThis.PRISMA_WASM_PANIC_REGISTRY = {
        get: () => message,
        set_message: (value: string) => {
          message = `RuntimeError: ${value}`;
        },
      };
    }
    const runtime = (await import("@prisma/schema-engine-wasm/schema_engine_bg")) as unknown as WasmRuntime;
    const require = createRequire(import.meta.url);
    const wasmFile = join(require.resolve("@prisma/schema-engine-wasm").replace(/[^/]+$/, ""), "schema_engine_bg.wasm");
    const module = new wasmApi.Module(await readFile(wasmFile));
    const instance = new wasmApi.Instance(module, { "./schema_engine_bg.js": runtime });
    runtime.__wbg_set_wasm(instance.exports);
    (instance.exports["__wbindgen_start"] as () => void)();
    const version = runtime.version();
    if (version !== SCHEMA_ENGINE_HASH) {
      throw new Error(
        `@prisma/schema-engine-wasm is engine ${version}, but Prisma 7.10.0 needs ${SCHEMA_ENGINE_HASH}: ` +
          `install @prisma/schema-engine-wasm@7.10.0-4.${SCHEMA_ENGINE_HASH}`,
      );
    }
    return runtime;
  })();
  runtimePromise.catch(() => {
    runtimePromise = undefined;
  });
  return runtimePromise;
}

/**
 * A connection whose `executeScript` (how the engine runs a migration's SQL) is atomic and
 * safe for SQLite table redefinitions.
 *
 * The engine runs each migration script as it is, outside a transaction, so a script that fails
 * half-way would leave half a migration behind. Wrapping it in a transaction hits a landmine:
 * better-sqlite3 turns foreign keys on, `PRAGMA foreign_keys=OFF` is a no-op inside a transaction,
 * and the `DROP TABLE` of a redefinition (create new_X, copy, drop X, rename) then cascades
 * deletes into every child row. So: foreign keys off before BEGIN, the script, then
 * `PRAGMA foreign_key_check` (the migration is refused if it left a dangling reference), COMMIT,
 * and foreign keys back on whatever happened.
 */
function atomicScripts(inner: SqlDriverAdapter): SqlDriverAdapter {
  const raw = (sql: string) => inner.queryRaw({ sql, args: [], argTypes: [] });
  const adapter: SqlDriverAdapter = {
    provider: inner.provider,
    adapterName: inner.adapterName,
    queryRaw: (query) => inner.queryRaw(query),
    executeRaw: (query) => inner.executeRaw(query),
    startTransaction: (isolationLevel) => inner.startTransaction(isolationLevel),
    dispose: () => inner.dispose(),
    async executeScript(script: string): Promise<void> {
      await inner.executeScript("PRAGMA foreign_keys=OFF");
      try {
        await inner.executeScript("BEGIN IMMEDIATE");
        try {
          await inner.executeScript(script);
          const dangling = await raw("PRAGMA foreign_key_check");
          if (dangling.rows.length > 0) {
            const where = dangling.rows
              .slice(0, 5)
              .map((row) => `${String(row[0])} rowid ${String(row[1])} -> ${String(row[2])}`)
              .join(", ");
            throw new Error(
              `migration left ${dangling.rows.length} row(s) referring to missing rows (${where}); rolled back`,
            );
          }
          await inner.executeScript("COMMIT");
        } catch (error) {
          await inner.executeScript("ROLLBACK").catch(() => undefined);
          throw error;
        }
      } finally {
        await inner.executeScript("PRAGMA foreign_keys=ON");
      }
    },
  };
  if (inner.getConnectionInfo) adapter.getConnectionInfo = () => inner.getConnectionInfo!();
  return adapter;
}

/**
 * Runs `use` with a schema engine connected to the SQLite file at `databasePath` (absolute),
 * then frees the engine and closes its connections (the engine takes an exclusive lock on the
 * file, released only when its connection closes).
 */
export async function withSchemaEngine<T>(
  databasePath: string,
  datamodels: [string, string][] | undefined,
  use: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const runtime = await loadRuntime();
  const opened: SqlDriverAdapter[] = [];
  const base = new PrismaBetterSqlite3({ url: databasePath });
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: base.provider,
    adapterName: base.adapterName,
    async connect() {
      const connection = await base.connect();
      opened.push(connection);
      return atomicScripts(connection);
    },
    async connectToShadowDb() {
      const connection = await base.connectToShadowDb();
      opened.push(connection);
      return atomicScripts(connection);
    },
  };
  const bound = bindMigrationAwareSqlAdapterFactory(factory);
  let engine: SchemaEngine | undefined;
  try {
    engine = await runtime.SchemaEngine.new({ datamodels }, () => {}, bound);
    return await use(engine);
  } catch (error) {
    throw engineError(error, bound.errorRegistry);
  } finally {
    engine?.free();
    for (const connection of opened) await connection.dispose().catch(() => undefined);
  }
}

/**
 * The engine's errors carry a Rust span trace after the message; an error thrown on the JS side
 * (by the adapter) comes back as "External error id#N", kept in the adapter's registry. Give back
 * the first line, or the original error, prefixed with the migration it happened in.
 */
function engineError(error: unknown, registry: ErrorRegistry): unknown {
  if (!(error instanceof Error)) return error;
  const migration = /migration_name="([^"]+)"/.exec(error.message)?.[1];
  const where = migration === undefined ? "" : `migration ${migration}: `;
  const external = /External error id#(\d+)/.exec(error.message);
  const original = external ? registry.consumeError(Number(external[1]))?.error : undefined;
  const message = original instanceof Error ? original.message : error.message.split(/\n\s+0: /)[0]!.trim();
  const cleaned = new Error(`${where}${message}`, { cause: original ?? error });
  cleaned.name = error.name;
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) Object.assign(cleaned, { code });
  return cleaned;
}

/**
 * The migrations directory as `prisma migrate` reads it: every subdirectory, in name order, with
 * its `migration.sql`, and `migration_lock.toml` beside them.
 */
export async function readMigrations(dir: string): Promise<MigrationList> {
  const lockfile = await readFile(join(dir, "migration_lock.toml"), "utf8").catch(() => null);
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b));
  const migrationDirectories = await Promise.all(
    names.map(async (name) => ({
      path: name,
      migrationFile: {
        path: "migration.sql",
        content: await readFile(join(dir, name, "migration.sql"), "utf8").then(
          (value) => ({ tag: "ok" as const, value }),
          (error: Error) => ({ tag: "error" as const, value: error.message }),
        ),
      },
    })),
  );
  return {
    baseDir: dir,
    lockfile: { path: "migration_lock.toml", content: lockfile },
    shadowDbInitScript: "",
    migrationDirectories,
  };
}

/**
 * The SQL that would take the database at `databasePath` to the schema (`schemaText`), or ""
 * when they agree.
 */
export async function diffDatabaseToSchema(databasePath: string, schemaText: string, schemaDir: string): Promise<string> {
  const files = [{ path: join(schemaDir, "schema.prisma"), content: schemaText }];
  return withSchemaEngine(databasePath, [[files[0]!.path, schemaText]], async (engine) => {
    const result = await engine.diff({
      from: { tag: "schemaDatasource", files, configDir: schemaDir },
      to: { tag: "schemaDatamodel", files },
      script: true,
      exitCode: true,
      filters: NO_FILTER,
    });
    return result.exitCode === 2 ? (result.stdout ?? "") : "";
  });
}
