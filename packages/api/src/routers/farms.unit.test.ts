import { describe, expect, it } from "vitest";
import { parseConfig } from "@switchyard/core";
import type { Database } from "@switchyard/db";
import { commitChange } from "../config/commit.ts";
import { createCaller } from "../router.ts";
import { scratchDatabaseEachTest } from "../testing/database.ts";
import { farmInput as farm } from "../testing/farms.ts";
import { everyRow, refusal } from "../testing/refusals.ts";
import type { Actor } from "../trpc.ts";

// The dashboard's farm procedures against a real SQLite file: the paged table (searched,
// filtered, sorted on the server, fresh after every revision), bulk state changes as one
// revision, a farm replaced whole, and the ruleset preview of a change before it is saved.

let db: Database;
scratchDatabaseEachTest([{ username: "alice", role: "operator" }], (d) => (db = d));

const as = (role: Actor["role"] = "operator", name = "alice") => createCaller({ db, actor: { id: name === "alice" ? 1 : null, name, role } });

async function seed(...farms: object[]): Promise<number> {
  const outcome = await commitChange(db, { id: 1, name: "alice", role: "operator" }, { action: "config.import", kind: "import" }, () => parseConfig({ farms }));
  return outcome.revision;
}

describe("farms.page", () => {
  it("searches names and addresses, filters, sorts and pages on the server; counts what matches", async () => {
    await seed(
      farm("web-a", "198.18.1.10"),
      farm("api", "198.18.1.9", { state: "down", protocol: "udp" }),
      farm("web-b", "198.18.1.100", { mode: "dnat", backends: [{ name: "b1", "ip-addr": "198.18.2.11", state: "off" }] }),
      farm("Mail", "2001:db8::25", { family: "ipv6", backends: [] }),
    );
    const page = (input: Parameters<ReturnType<typeof as>["farms"]["page"]>[0]) => as("viewer").farms.page(input);
    const names = async (input: Parameters<typeof page>[0]) => (await page(input)).rows.map((r) => r.name);

    const all = await page({});
    expect(all).toMatchObject({ revision: 1, total: 4, all: 4, states: { up: 3, down: 1, off: 0 }, offset: 0 });
    expect(all.rows.map((r) => r.name)).toEqual(["api", "Mail", "web-a", "web-b"]);
    expect(all.rows.find((r) => r.name === "web-b")).toEqual({
      name: "web-b", family: "ipv4", virtualAddr: "198.18.1.100", virtualAddr6: null, ports: "80", protocol: "tcp", mode: "dnat", scheduler: "rr", state: "up",
      backends: { total: 1, up: 0, down: 0, off: 1 },
    });

    expect(await names({ query: "WEB" })).toEqual(["web-a", "web-b"]);
    expect(await names({ query: "198.18.1.10" })).toEqual(["web-a", "web-b"]);
    expect(await names({ query: "2001:db8::" })).toEqual(["Mail"]);
    expect(await names({ state: "down" })).toEqual(["api"]);
    expect(await names({ mode: "dnat" })).toEqual(["web-b"]);
    expect(await names({ protocol: "udp" })).toEqual(["api"]);
    expect(await names({ degraded: true })).toEqual(["web-b"]);
    expect((await page({ query: "nothing like it" })).total).toBe(0);

    expect(await names({ sort: "-name" })).toEqual(["web-b", "web-a", "Mail", "api"]);
    expect(await names({ sort: "address" })).toEqual(["api", "web-a", "web-b", "Mail"]);
    expect(await names({ sort: "state" })).toEqual(["api", "Mail", "web-a", "web-b"]);
    expect(await names({ sort: "created" })).toEqual(["web-a", "api", "web-b", "Mail"]);
    expect(await page({ offset: 1, limit: 2 })).toMatchObject({ total: 4, offset: 1, rows: [{ name: "Mail" }, { name: "web-a" }] });
    await expect(page({ limit: 201 })).rejects.toThrow(/limit/);
  });

  it("answers from the latest revision: a change shows on the next page", async () => {
    await seed(farm("web", "198.18.1.10"));
    expect((await as("viewer").farms.page({})).rows[0]?.state).toBe("up");
    await as().farms.setStates({ names: ["web"], state: "off" });
    expect(await as("viewer").farms.page({})).toMatchObject({ revision: 2, states: { up: 0, down: 0, off: 1 }, rows: [{ name: "web", state: "off" }] });
  });

  it("without a revision yet: no farms at revision 0", async () => {
    expect(await as("viewer").farms.page({})).toEqual({ revision: 0, total: 0, all: 0, states: { up: 0, down: 0, off: 0 }, offset: 0, rows: [] });
  });
});

describe("farms.setStates", () => {
  it("puts several farms in one state as one revision, with an audit event per farm changed", async () => {
    await seed(farm("a", "198.18.1.1"), farm("b", "198.18.1.2", { state: "down" }), farm("c", "198.18.1.3"));
    expect(await as().farms.setStates({ names: ["a", "b", "c"], state: "down", baseRevision: 1, message: "maintenance" })).toEqual({ revision: 2, changed: true });
    const revision = await db.revision.findUnique({ where: { number: 2 } });
    expect([revision?.authorName, revision?.message]).toEqual(["alice", "maintenance"]);
    const audit = await db.auditEvent.findMany({ where: { revisionNumber: 2 }, orderBy: { entityName: "asc" } });
    // b was down already: only a and c changed.
    expect(audit.map((a) => [a.action, a.entityName])).toEqual([["farm.state", "a"], ["farm.state", "c"]]);
    expect((await as("viewer").farms.page({})).rows.map((r) => r.state)).toEqual(["down", "down", "down"]);
    // Nothing to change: no revision.
    expect(await as().farms.setStates({ names: ["a", "b"], state: "down" })).toEqual({ revision: 2, changed: false });
  });

  it("a name that does not exist refuses the whole change and writes nothing", async () => {
    await seed(farm("a", "198.18.1.1"), farm("b", "198.18.1.2"));
    const before = await everyRow(db);
    const error = await refusal(as().farms.setStates({ names: ["a", "nope", "b"], state: "off" }));
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toBe('no such farm: "nope"; no state was changed');
    expect(await everyRow(db)).toBe(before);
  });

  it("refuses a viewer, and a change based on a revision older than a farm's last change", async () => {
    await seed(farm("a", "198.18.1.1"), farm("b", "198.18.1.2"));
    const before = await everyRow(db);
    expect((await refusal(as("viewer").farms.setStates({ names: ["a"], state: "off" }))).code).toBe("FORBIDDEN");
    expect(await everyRow(db)).toBe(before);
    await as().backends.setState({ farm: "b", name: "b1", state: "down" });
    const after = await everyRow(db);
    const conflict = await refusal(as().farms.setStates({ names: ["a", "b"], state: "off", baseRevision: 1 }));
    expect(conflict.code).toBe("CONFLICT");
    expect(conflict.message).toMatch(/^farm b was changed by alice in revision 2/);
    expect(await everyRow(db)).toBe(after);
  });

  // Prisma loads an ordered relation with a bound parameter per parent row, which SQLite refused
  // from about 1,000 farms on: every change failed in loadConfig.
  it("works past a thousand farms", { timeout: 60_000 }, async () => {
    const farms = Array.from({ length: 1_200 }, (_, i) => farm(`f${i}`, `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`));
    await seed(...farms);
    expect(await as().farms.setStates({ names: ["f0", "f1199"], state: "off" })).toEqual({ revision: 2, changed: true });
    expect((await as("viewer").farms.page({ state: "off" })).rows.map((r) => r.name)).toEqual(["f0", "f1199"]);
  });
});

describe("farms.replace", () => {
  it("replaces attributes and backends as one revision; the name stays", async () => {
    await seed(farm("web", "198.18.1.10"));
    const next = { ...farm("web", "198.18.1.10"), scheduler: "weight", backends: [{ name: "b3", "ip-addr": "198.18.2.13", port: "8080", weight: "5" }] };
    expect(await as().farms.replace({ name: "web", farm: next, baseRevision: 1 })).toEqual({ revision: 2, changed: true });
    const got = await as("viewer").farms.get({ name: "web" });
    expect(got).toMatchObject({ revision: 2, updatedRevision: 2, farm: { scheduler: "weight", backends: [{ name: "b3", weight: "5" }] } });

    const before = await everyRow(db);
    const renamed = await refusal(as().farms.replace({ name: "web", farm: { ...next, name: "www" } }));
    expect(renamed.message).toContain('farm "web", name = "www": cannot be changed');
    const bad = await refusal(as().farms.replace({ name: "web", farm: { ...next, backends: [{ name: "b3", "ip-addr": "198.18.2.300" }] } }));
    expect(bad.code).toBe("BAD_REQUEST");
    expect(bad.cause).toMatchObject({ issues: [{ farm: "web", backend: "b3", field: "ip-addr", message: "must be an IPv4 or IPv6 address" }] });
    expect((await refusal(as().farms.replace({ name: "nope", farm: next }))).code).toBe("NOT_FOUND");
    expect(await everyRow(db)).toBe(before);
  });
});

describe("farms.preview", () => {
  it("shows the chains and map elements a new farm adds, and their diff, without writing anything", async () => {
    await seed(farm("web", "198.18.1.10"));
    const before = await everyRow(db);
    const preview = await as("viewer").farms.preview({ farm: farm("api", "198.18.1.20") });
    expect(preview).toMatchObject({ node: null, revision: 1, before: "table inet switchyard {\n}\n", issues: [], refused: false });
    expect(preview.after).toContain("chain farm-api-4 {");
    expect(preview.after).toContain("tcp . 198.18.1.20 . 80 : goto farm-api-4");
    expect(preview.after).not.toContain("198.18.1.10");
    expect(preview.diff).toContain("+\tchain farm-api-4 {");
    expect(await everyRow(db)).toBe(before);
  });

  it("shows what a change to an existing farm does, rendered with the first node's facts", async () => {
    await seed(farm("web", "198.18.1.10"));
    await db.node.create({ data: { name: "lb1", url: "http://198.18.0.1:5555", tokenHash: "h" } });
    const changed = { ...farm("web", "198.18.1.10"), backends: [{ name: "b1", "ip-addr": "198.18.2.11", port: "8080" }, { name: "b2", "ip-addr": "198.18.2.12", port: "8080", state: "off" }] };
    const preview = await as("viewer").farms.preview({ name: "web", farm: changed });
    expect(preview.node).toBe("lb1");
    // A backend set off changes the farm's scheduler chain only: b1 (id 0) alone is drawn from.
    // The farm chain comes along unchanged, as context: it says which address each id is.
    expect(preview.before).toContain("chain sched-web-4 {");
    expect(preview.after).toContain("chain farm-web-4 {");
    expect(preview.diff).not.toMatch(/^[-+].*dnat/m);
    expect(preview.diff).toMatch(/^---.*lb1 @ revision 1/m);
    expect(preview.diff).toMatch(/^\+.*ct mark set numgen random mod 1 offset 0x[c4]0000000$/m);
    // The same farm again changes nothing.
    expect(await as("viewer").farms.preview({ name: "web", farm: farm("web", "198.18.1.10") })).toMatchObject({ before: "", after: "", diff: "", issues: [] });
  });

  it("answers the reasons a save would be refused, per field", async () => {
    await seed(farm("web", "198.18.1.10"));
    const bad = await as("viewer").farms.preview({ farm: { ...farm("api", "198.18.1.10"), backends: [{ name: "b1", "ip-addr": "nope" }] } });
    expect(bad.issues).toEqual([{ farm: "api", backend: "b1", field: "ip-addr", message: "must be an IPv4 or IPv6 address" }]);
    expect(bad.refused).toBe(true);
    const overlap = await as("viewer").farms.preview({ farm: farm("api", "198.18.1.10") });
    expect(overlap.issues).toEqual([{ farm: "api", field: "virtual-ports", message: 'port 80 of tcp 198.18.1.10 is already served by farm "web"' }]);
    expect((await as("viewer").farms.preview({ farm: farm("web", "198.18.1.11") })).issues).toEqual([{ field: "name", message: "is taken: a farm of that name exists" }]);
    const dsr = { ...farm("edge", "198.18.1.30"), mode: "dsr", iface: "eth0", backends: [{ name: "b1", "ip-addr": "198.18.2.11" }] };
    // Valid, but no node's facts give the MACs dsr rewrites to: saved it would be, run it could not be.
    const noFacts = await as("viewer").farms.preview({ farm: dsr });
    expect(noFacts).toMatchObject({ refused: false, diff: "" });
    expect(noFacts.issues.map((i) => i.field)).toContain("ether-addr");
  });
});
