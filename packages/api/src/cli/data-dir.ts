import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

// The control plane's data dir: the SQLite database and the key node tokens derive from (kept
// out of the database on purpose: see nodes/token.ts).

export const DEFAULT_DATA_DIR = "switchyard-data";

export interface DataDir {
  dir: string;
  database: string;
  keyFile: string;
}

export function dataDir(given: string | undefined): DataDir {
  const dir = resolve(given ?? process.env.SWITCHYARD_DATA_DIR ?? DEFAULT_DATA_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return { dir, database: join(dir, "switchyard.db"), keyFile: join(dir, "control-plane.key") };
}

/** The control plane key: 32 random bytes, made on first use, readable by its owner only. */
export function controlPlaneKey(data: DataDir): Buffer {
  try {
    const key = Buffer.from(readFileSync(data.keyFile, "utf8").trim(), "base64");
    if (key.length !== 32) throw new Error(`${data.keyFile}: not a 32-byte key`);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    const key = randomBytes(32);
    writeFileSync(data.keyFile, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
    chmodSync(data.keyFile, 0o600);
    return key;
  }
}
