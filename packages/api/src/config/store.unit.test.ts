import { expect, it } from "vitest";
import { parseConfig } from "@switchyard/core";
import type { Database } from "@switchyard/db";
import { scratchDatabaseEachTest } from "../testing/database.ts";
import { commitChange } from "./commit.ts";
import { loadConfig } from "./store.ts";

// Thousands of farms: every read and check of the change pipeline must stay clear of SQLite's
// limit on bound parameters in one statement (Prisma's `include` and `IN` lists pass one per row).

let db: Database;
scratchDatabaseEachTest([], (d) => (db = d));

const FARMS = 2_000;
const config = parseConfig({
  farms: Array.from({ length: FARMS }, (_, i) => ({
    name: `svc${i}`,
    "virtual-addr": `198.18.${128 + Math.floor(i / 250)}.${(i % 250) + 1}`,
    "virtual-ports": "80",
    backends: [{ name: "b1", "ip-addr": "198.18.2.11", port: "8080" }],
  })),
});

it(`loads, changes and conflict-checks ${FARMS.toLocaleString("en")} farms`, { timeout: 120_000 }, async () => {
  const actor = { id: null, name: "bench", role: "admin" as const };
  expect((await commitChange(db, actor, { action: "config.import", message: "many" }, () => config)).revision).toBe(1);
  const loaded = await loadConfig(db);
  expect(loaded.farms).toHaveLength(FARMS);
  expect(loaded.farms[FARMS - 1]?.backends.map((b) => b.name)).toEqual(["b1"]);
  // A change of every farm based on revision 1 goes through the conflict check of all of them.
  const down = { farms: loaded.farms.map((f) => ({ ...f, state: "down" as const })) };
  expect((await commitChange(db, actor, { action: "config.import", baseRevision: 1 }, () => down)).revision).toBe(2);
  await expect(commitChange(db, actor, { action: "config.import", baseRevision: 1 }, () => config)).rejects.toThrow(/was changed by bench in revision 2/);
});
