import { describe, expect, it } from "vitest";
import type { Database } from "@switchyard/db";
import { createCaller } from "../router.ts";
import { scratchDatabaseEachTest } from "../testing/database.ts";
import { farmInput } from "../testing/farms.ts";
import { everyRow, refusal } from "../testing/refusals.ts";
import type { Actor } from "../trpc.ts";

// The change pipeline against a real SQLite file: every change one transaction with its
// revision and audit events; conflicts, invalid input and roles refused with nothing written.

let db: Database;
scratchDatabaseEachTest([{ username: "alice", role: "operator" }, { username: "bob", role: "operator" }], (d) => (db = d));

const actor = (name: string, role: Actor["role"] = "operator"): Actor => ({ id: name === "alice" ? 1 : name === "bob" ? 2 : null, name, role });
const as = (name: string, role: Actor["role"] = "operator") => createCaller({ db, actor: actor(name, role) });

const web = farmInput("web", "198.18.1.100", { scheduler: "weight" });

describe("changes", () => {
  it("each change is a revision with the whole config, its author and message, and an audit event with before and after", async () => {
    expect(await as("alice").farms.create({ farm: web, message: "new web farm" })).toEqual({ revision: 1, changed: true });
    expect(await as("bob").backends.setState({ farm: "web", name: "b2", state: "down", baseRevision: 1 })).toEqual({ revision: 2, changed: true });
    // The same state again changes nothing and makes no revision.
    expect(await as("bob").backends.setState({ farm: "web", name: "b2", state: "down", baseRevision: 2 })).toEqual({ revision: 2, changed: false });

    const revisions = await as("alice", "viewer").revisions.list({});
    expect(revisions.map((r) => [r.number, r.authorName, r.message, r.parentNumber])).toEqual([
      [2, "bob", "", 1],
      [1, "alice", "new web farm", null],
    ]);
    const two = await as("alice", "viewer").revisions.get({ number: 2 });
    expect(two.config.farms[0]?.backends).toEqual([expect.objectContaining({ name: "b1", state: "up" }), expect.objectContaining({ name: "b2", state: "down" })]);
    expect(two.hash).toMatch(/^[0-9a-f]{64}$/);

    const audit = await db.auditEvent.findMany({ orderBy: { id: "asc" } });
    expect(audit.map((a) => [a.actorName, a.action, a.entityType, a.entityName, a.revisionNumber])).toEqual([
      ["alice", "farm.create", "farm", "web", 1],
      ["bob", "backend.state", "farm", "web", 2],
    ]);
    expect(audit[0]?.before).toBeNull();
    expect(JSON.parse(audit[1]?.before ?? "{}").backends[1].state).toBe("up");
    expect(JSON.parse(audit[1]?.after ?? "{}").backends[1].state).toBe("down");

    expect(await as("alice", "viewer").revisions.diff({ from: 1, to: 2 })).toEqual({
      farms: [{ name: "web", change: "changed", fields: [], backends: [{ name: "b2", change: "changed", fields: [{ field: "state", before: "up", after: "down" }] }] }],
    });
    const list = await as("alice", "viewer").farms.list();
    expect(list.revision).toBe(2);
    const byBob = await as("alice", "viewer").audit.list({ actor: "bob" });
    expect(byBob.map((a) => [a.action, a.entityName, a.revisionNumber])).toEqual([["backend.state", "web", 2]]);
    expect(await as("alice", "viewer").audit.list({ action: "farm.remove" })).toEqual([]);
    expect((await as("alice", "viewer").audit.list({ entityType: "farm", entityName: "web", limit: 1 })).map((a) => a.revisionNumber)).toEqual([2]);
  });

  it("a change based on a revision older than the farm's last change is a conflict naming who changed it; nothing is written", async () => {
    await as("alice").farms.create({ farm: web });
    await as("bob").backends.setState({ farm: "web", name: "b1", state: "off", baseRevision: 1 });
    const before = await everyRow(db);
    const error = await refusal(as("alice").farms.update({ name: "web", attributes: { scheduler: "rr" }, baseRevision: 1 }));
    expect(error.code).toBe("CONFLICT");
    expect(error.message).toMatch(/^farm web was changed by bob in revision 2 \(.*\) after revision 1, which this change is based on/);
    expect(await everyRow(db)).toBe(before);
    // Based on the latest, it goes through.
    expect(await as("alice").farms.update({ name: "web", attributes: { scheduler: "rr" }, baseRevision: 2 })).toEqual({ revision: 3, changed: true });
  });

  it("invalid input is refused with the farm, backend, field and reason, and nothing is written", async () => {
    await as("alice").farms.create({ farm: web });
    const before = await everyRow(db);
    const bad = await refusal(as("alice").backends.upsert({ farm: "web", backend: { name: "b3", "ip-addr": "198.18.2.300" } }));
    expect(bad.code).toBe("BAD_REQUEST");
    expect(bad.message).toContain('farm "web", backend "b3", ip-addr = "198.18.2.300"');
    const overlap = await refusal(as("alice").farms.create({ farm: { name: "api", "virtual-addr": "198.18.1.100", "virtual-ports": "80" } }));
    expect(overlap.message).toContain('port 80 of tcp 198.18.1.100 is already served by farm "web"');
    expect((await refusal(as("alice").farms.create({ farm: web }))).code).toBe("CONFLICT");
    expect((await refusal(as("alice").backends.remove({ farm: "web", name: "nope" }))).code).toBe("NOT_FOUND");
    expect((await refusal(as("alice").farms.update({ name: "nope", attributes: {} }))).code).toBe("NOT_FOUND");
    expect(await everyRow(db)).toBe(before);
  });

  it("a viewer reads but cannot change; without an actor nothing answers", async () => {
    await as("alice").farms.create({ farm: web });
    const before = await everyRow(db);
    expect((await refusal(as("carol", "viewer").backends.setState({ farm: "web", name: "b1", state: "down" }))).code).toBe("FORBIDDEN");
    expect((await refusal(createCaller({ db, actor: null }).farms.list())).code).toBe("UNAUTHORIZED");
    expect((await as("carol", "viewer").farms.get({ name: "web" })).farm?.name).toBe("web");
    expect(await everyRow(db)).toBe(before);
  });

  it("concurrent changes are serialized: 20 state toggles, 20 revisions in order, none lost", async () => {
    await as("alice").farms.create({ farm: web });
    const states = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? "down" : "up") as "down" | "up");
    const outcomes = await Promise.all(states.map((state, i) => as("bob").backends.setState({ farm: "web", name: i % 4 < 2 ? "b1" : "b2", state })));
    const changed = outcomes.filter((o) => o.changed).map((o) => o.revision);
    expect(new Set(changed).size).toBe(changed.length);
    const revisions = await db.revision.findMany({ orderBy: { number: "asc" }, select: { number: true, parentNumber: true } });
    expect(revisions).toHaveLength(1 + changed.length);
    revisions.forEach((r, i) => expect([r.number, r.parentNumber]).toEqual([i + 1, i === 0 ? null : i]));
    // The last toggle of each backend is what the config holds.
    const farm = (await as("bob", "viewer").farms.get({ name: "web" })).farm as { backends: { name: string; state: string }[] };
    expect(farm.backends.map((b) => b.state)).toEqual(["up", "up"]);
  });
});
