import { describe, expect, it } from "vitest";
import type { Database } from "@switchyard/db";
import { ChangeRefused } from "../errors.ts";
import { createCaller } from "../router.ts";
import { scratchDatabaseEachTest } from "../testing/database.ts";
import { farmInput } from "../testing/farms.ts";
import { everyRow, refusal } from "../testing/refusals.ts";
import type { Actor } from "../trpc.ts";

// What the dashboard's history screens call: import (a file becomes one revision, or nothing is
// written and each farm/field/reason comes back), export, and the timeline's change summary.

let db: Database;
scratchDatabaseEachTest([{ username: "alice", role: "operator" }], (d) => (db = d));

const as = (role: Actor["role"]) => createCaller({ db, actor: { id: 1, name: "alice", role } });

const farm = (name: string, addr: string, backends = [{ name: "b1", "ip-addr": "198.18.2.11", port: "8080" }]) => farmInput(name, addr, { backends });
const file = (...farms: object[]) => JSON.stringify({ farms });

describe("revisions.import", () => {
  it("makes a good file the whole config as one revision of kind import, with an audit event per farm", async () => {
    expect(await as("operator").revisions.import({ config: file(farm("web", "198.18.1.100"), farm("api", "198.18.1.101")), message: "from nftlb" })).toEqual({ revision: 1, changed: true, farms: 2 });
    const [revision] = await as("viewer").revisions.list({});
    expect(revision).toMatchObject({ number: 1, kind: "import", message: "from nftlb", authorName: "alice", changes: { added: 2, removed: 0, changed: 0 } });
    expect((await db.auditEvent.findMany()).map((e) => [e.action, e.entityName, e.revisionNumber])).toEqual([
      ["config.import", "web", 1],
      ["config.import", "api", 1],
    ]);

    // A parsed object works as the text does; farms the file leaves out are removed.
    expect(await as("operator").revisions.import({ config: { farms: [farm("web", "198.18.1.102")] }, baseRevision: 1 })).toEqual({ revision: 2, changed: true, farms: 1 });
    const latest = await as("viewer").revisions.get({ number: 2 });
    expect(latest).toMatchObject({ kind: "import", message: "import of 1 farm" });
    expect(latest.config.farms.map((f) => [f.name, f["virtual-addr"]])).toEqual([["web", "198.18.1.102"]]);
    // The same file again changes nothing.
    expect(await as("operator").revisions.import({ config: { farms: [farm("web", "198.18.1.102")] } })).toEqual({ revision: 2, changed: false, farms: 1 });
  });

  it("refuses a bad file whole, naming each farm, backend, field and reason, and writes nothing", async () => {
    await as("operator").revisions.import({ config: file(farm("web", "198.18.1.100")) });
    const before = await everyRow(db);
    const bad = file(farm("web", "198.18.1.300"), farm("api", "198.18.1.101", [{ name: "b1", "ip-addr": "198.18.2.11", port: "99999" }]));
    const error = await refusal(as("operator").revisions.import({ config: bad }));
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.cause).toBeInstanceOf(ChangeRefused);
    const issues = (error.cause as ChangeRefused).issues;
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ farm: "web", field: "virtual-addr", value: "198.18.1.300" }),
        expect.objectContaining({ farm: "api", backend: "b1", field: "port", value: "99999" }),
      ]),
    );
    expect(error.message).toContain('farm "web", virtual-addr = "198.18.1.300"');
    expect((await refusal(as("operator").revisions.import({ config: "{ not json" }))).message).toMatch(/not valid JSON/);
    expect(await everyRow(db)).toBe(before);
  });

  it("is for operators: a viewer's import is refused", async () => {
    expect((await refusal(as("viewer").revisions.import({ config: file(farm("web", "198.18.1.100")) }))).code).toBe("FORBIDDEN");
    expect(await db.revision.count()).toBe(0);
  });
});

describe("revisions.export", () => {
  it("gives a revision (default the latest) as nftlb JSON that imports back to the same config", async () => {
    await as("operator").revisions.import({ config: file(farm("web", "198.18.1.100")) });
    await as("operator").farms.update({ name: "web", attributes: { "virtual-addr": "198.18.1.105" } });
    expect((await as("viewer").revisions.export({})).farms[0]?.["virtual-addr"]).toBe("198.18.1.105");
    const first = await as("viewer").revisions.export({ revision: 1 });
    expect(first.farms[0]).toMatchObject({ name: "web", "virtual-addr": "198.18.1.100", backends: [expect.objectContaining({ name: "b1", port: "8080" })] });
    expect(await as("operator").revisions.import({ config: JSON.stringify(first) })).toMatchObject({ revision: 3, changed: true });
    expect((await db.revision.findUnique({ where: { number: 3 } }))?.hash).toBe((await db.revision.findUnique({ where: { number: 1 } }))?.hash);
    expect((await refusal(as("viewer").revisions.export({ revision: 9 }))).code).toBe("NOT_FOUND");
  });
});

describe("revisions.list changes", () => {
  it("counts the farms each revision added, removed and changed, and details the first few down to their backends", async () => {
    const many = Array.from({ length: 5 }, (_, i) => farm(`f${i}`, `198.18.1.${10 + i}`));
    await as("operator").revisions.import({ config: file(...many) });
    await as("operator").backends.setState({ farm: "f1", name: "b1", state: "down" });
    await as("operator").farms.remove({ name: "f4" });
    await as("operator").revisions.rollback({ to: 1 });

    const list = await as("viewer").revisions.list({});
    expect(list.map((r) => [r.number, r.kind, r.changes.added, r.changes.removed, r.changes.changed])).toEqual([
      [4, "rollback", 1, 0, 1],
      [3, "change", 0, 1, 0],
      [2, "change", 0, 0, 1],
      [1, "import", 5, 0, 0],
    ]);
    expect(list[3]?.changes.farms.map((f) => f.name)).toEqual(["f0", "f1", "f2"]);
    expect(list[2]?.changes.farms).toEqual([
      { name: "f1", change: "changed", fields: [], backends: [{ name: "b1", change: "changed", fields: [{ field: "state", before: "up", after: "down" }] }] },
    ]);
    // The brief summary agrees with the full diff against the parent.
    const full = await as("viewer").revisions.diff({ from: 3, to: 4 });
    expect(list[0]?.changes.farms).toEqual(full.farms);
    // Paging back.
    expect((await as("viewer").revisions.list({ before: 3, limit: 1 })).map((r) => r.number)).toEqual([2]);
  });
});

describe("audit for the dashboard", () => {
  it("offers the actors, actions and entity types the log holds, and pages back by id", async () => {
    await as("operator").revisions.import({ config: file(farm("web", "198.18.1.100"), farm("api", "198.18.1.101")) });
    await as("operator").farms.remove({ name: "api" });
    await db.auditEvent.create({ data: { actorName: "bob", action: "user.login-failed", entityType: "user", entityName: "bob" } });
    expect(await as("viewer").audit.filters()).toEqual({ actors: ["alice", "bob"], actions: ["config.import", "farm.remove", "user.login-failed"], entityTypes: ["farm", "user"] });
    const [newest, ...older] = await as("viewer").audit.list({ limit: 2 });
    expect([newest?.action, older.map((e) => e.action)]).toEqual(["user.login-failed", ["farm.remove"]]);
    expect((await as("viewer").audit.list({ before: older[0]?.id })).map((e) => [e.action, e.entityName])).toEqual([
      ["config.import", "api"],
      ["config.import", "web"],
    ]);
  });
});
