import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate, openDatabase, Prisma, type PrismaClient } from "./index.ts";

let dir: string;
let db: PrismaClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "switchyard-db-client-"));
  const path = join(dir, "control-plane.db");
  await migrate(path);
  db = openDatabase({ path });
});

afterAll(async () => {
  await db?.$disconnect();
  await rm(dir, { recursive: true, force: true });
});

const farmConfig = (address: string) =>
  JSON.stringify({ family: "ipv4", mode: "snat", protocol: "tcp", "virtual-addr": address, "virtual-ports": "80" });

/** A numeric pragma's value (raw queries give integers as bigint). */
async function pragma(client: PrismaClient, name: string): Promise<number> {
  const rows = await client.$queryRawUnsafe<Record<string, number | bigint>[]>(`PRAGMA ${name}`);
  return Number(Object.values(rows[0] ?? {})[0]);
}

async function expectPrismaError(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
  expect((error as Prisma.PrismaClientKnownRequestError).code).toBe(code);
}

describe("openDatabase", () => {
  it("runs SQLite in WAL mode with a busy timeout and foreign keys on", async () => {
    expect(await db.$queryRawUnsafe("PRAGMA journal_mode")).toEqual([{ journal_mode: "wal" }]);
    expect(await pragma(db, "busy_timeout")).toBe(5000);
    expect(await pragma(db, "foreign_keys")).toBe(1);
  });

  it("takes another busy timeout", async () => {
    const other = openDatabase({ path: join(dir, "control-plane.db"), busyTimeoutMs: 250 });
    try {
      expect(await pragma(other, "busy_timeout")).toBe(250);
    } finally {
      await other.$disconnect();
    }
  });

  it("a file in WAL mode that a client wrote to migrates again (nothing to apply) and keeps its data", async () => {
    const path = join(dir, "again.db");
    await migrate(path);
    const first = openDatabase({ path });
    await first.user.create({ data: { username: "kept", passwordHash: "x" } });
    await first.$disconnect();
    expect(await migrate(path)).toEqual({ applied: [] });
    const second = openDatabase({ path });
    try {
      expect(await second.user.findMany({ select: { username: true } })).toEqual([{ username: "kept" }]);
      expect(await second.$queryRawUnsafe("PRAGMA journal_mode")).toEqual([{ journal_mode: "wal" }]);
    } finally {
      await second.$disconnect();
    }
  });

  it("refuses a relative path, a file: URL or :memory:", () => {
    expect(() => openDatabase({ path: "control-plane.db" })).toThrow(/must be absolute/);
    expect(() => openDatabase({ path: "./data/cp.db" })).toThrow(/must be absolute/);
    expect(() => openDatabase({ path: "file:/var/lib/cp.db" })).toThrow(/must be absolute/);
    expect(() => openDatabase({ path: ":memory:" })).toThrow(/must be absolute/);
  });
});

describe("the models", () => {
  it("stores and reads back a user, a farm with backends, a revision and an audit event", async () => {
    const user = await db.user.create({ data: { username: "alice", passwordHash: "argon2id$x", role: "admin" } });
    expect(user).toMatchObject({ id: expect.any(Number), username: "alice", role: "admin", disabled: false });
    expect(user.createdAt).toBeInstanceOf(Date);

    const snapshot = JSON.stringify({ farms: [{ name: "web" }] });
    const revision = await db.revision.create({
      data: { number: 1, snapshot, hash: "a".repeat(64), authorId: user.id, authorName: user.username, message: "first", kind: "change" },
    });
    const farm = await db.farm.create({
      data: {
        name: "web",
        config: farmConfig("198.18.1.100"),
        updatedRevision: revision.number,
        backends: {
          create: [
            { name: "b1", config: JSON.stringify({ "ip-addr": "198.18.2.11" }), position: 0 },
            { name: "b2", config: JSON.stringify({ "ip-addr": "198.18.2.12", weight: "3" }), position: 1 },
          ],
        },
      },
    });
    await db.auditEvent.create({
      data: {
        actorName: user.username,
        actorId: user.id,
        action: "farm.create",
        entityType: "farm",
        entityName: "web",
        after: farm.config,
        revisionNumber: revision.number,
      },
    });

    const read = await db.farm.findUniqueOrThrow({
      where: { name: "web" },
      include: { backends: { orderBy: { position: "asc" } } },
    });
    expect(JSON.parse(read.config)).toMatchObject({ "virtual-addr": "198.18.1.100" });
    expect(read.backends.map((backend) => [backend.name, backend.position])).toEqual([
      ["b1", 0],
      ["b2", 1],
    ]);
    expect(read.updatedAt).toBeInstanceOf(Date);

    const rev = await db.revision.findUniqueOrThrow({ where: { number: 1 }, include: { author: true } });
    expect(rev).toMatchObject({ snapshot, authorName: "alice", parentNumber: null, message: "first" });
    expect(rev.author?.username).toBe("alice");

    const events = await db.auditEvent.findMany({ where: { entityType: "farm", entityName: "web" }, orderBy: { createdAt: "desc" } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: "farm.create", actorName: "alice", before: null, revisionNumber: 1 });
  });

  it("deleting a farm deletes its backends", async () => {
    const farm = await db.farm.create({
      data: {
        name: "doomed",
        config: farmConfig("198.18.1.101"),
        updatedRevision: 1,
        backends: { create: [0, 1, 2].map((position) => ({ name: `b${position}`, config: "{}", position })) },
      },
    });
    expect(await db.backend.count({ where: { farmId: farm.id } })).toBe(3);
    await db.farm.delete({ where: { id: farm.id } });
    expect(await db.backend.count({ where: { farmId: farm.id } })).toBe(0);
  });

  it("unique constraints refuse duplicates with P2002", async () => {
    await expectPrismaError(db.user.create({ data: { username: "alice", passwordHash: "x" } }), "P2002");
    await expectPrismaError(db.farm.create({ data: { name: "web", config: "{}", updatedRevision: 1 } }), "P2002");
    const web = await db.farm.findUniqueOrThrow({ where: { name: "web" } });
    await expectPrismaError(db.backend.create({ data: { farmId: web.id, name: "b1", config: "{}", position: 9 } }), "P2002");
    await expectPrismaError(
      db.revision.create({ data: { number: 1, snapshot: "{}", hash: "b".repeat(64), authorName: "alice" } }),
      "P2002",
    );
    // the same backend name in another farm is fine
    const other = await db.farm.create({ data: { name: "other", config: "{}", updatedRevision: 1 } });
    await db.backend.create({ data: { farmId: other.id, name: "b1", config: "{}", position: 0 } });
  });

  it("sessions and tokens go with their user; revisions and audit events keep the author's name", async () => {
    const bob = await db.user.create({ data: { username: "bob", passwordHash: "x", role: "operator" } });
    await db.session.create({ data: { id: "c".repeat(64), userId: bob.id, expiresAt: new Date(Date.now() + 3600_000) } });
    await db.apiToken.create({ data: { name: "ci", tokenHash: "d".repeat(64), userId: bob.id, role: "operator" } });
    await expectPrismaError(
      db.apiToken.create({ data: { name: "ci2", tokenHash: "d".repeat(64), userId: bob.id, role: "viewer" } }),
      "P2002",
    );
    await db.revision.create({ data: { number: 2, snapshot: "{}", hash: "e".repeat(64), authorId: bob.id, authorName: "bob", parentNumber: 1 } });
    await db.auditEvent.create({ data: { actorName: "bob", actorId: bob.id, action: "user.login", entityType: "user", entityName: "bob" } });

    await db.user.delete({ where: { id: bob.id } });
    expect(await db.session.count({ where: { userId: bob.id } })).toBe(0);
    expect(await db.apiToken.count({ where: { userId: bob.id } })).toBe(0);
    expect(await db.revision.findUniqueOrThrow({ where: { number: 2 } })).toMatchObject({ authorId: null, authorName: "bob" });
    expect(await db.auditEvent.findFirstOrThrow({ where: { action: "user.login" } })).toMatchObject({ actorId: null, actorName: "bob" });
  });

  it("nodes and deployments", async () => {
    const lb1 = await db.node.create({
      data: { name: "lb1", url: "https://lb1.example:5555", tokenHash: "f".repeat(64), labels: JSON.stringify({ zone: "a" }) },
    });
    expect(lb1).toMatchObject({ appliedRevision: null, appliedHash: null, desiredRevision: null, desiredHash: null });
    const farm = await db.farm.create({ data: { name: "placed", config: JSON.stringify({ "x-placement": "zone=a" }), updatedRevision: 2 } });

    const deployment = await db.deployment.create({ data: { revisionNumber: 2, nodeId: lb1.id } });
    expect(deployment).toMatchObject({ status: "pending", attempts: 0, error: null, startedAt: null, finishedAt: null });
    await db.deployment.update({
      where: { id: deployment.id },
      data: { status: "applied", attempts: { increment: 1 }, startedAt: new Date(), finishedAt: new Date() },
    });
    await db.node.update({ where: { id: lb1.id }, data: { appliedRevision: 2, appliedHash: "e".repeat(64), lastSeenAt: new Date() } });
    expect(await db.deployment.findMany({ where: { nodeId: lb1.id, revisionNumber: 2 } })).toMatchObject([{ status: "applied", attempts: 1 }]);
    // a deployment needs an existing revision
    await expectPrismaError(db.deployment.create({ data: { revisionNumber: 99, nodeId: lb1.id } }), "P2003");

    await db.farm.delete({ where: { id: farm.id } });
    await db.node.delete({ where: { id: lb1.id } });
    expect(await db.deployment.count({ where: { nodeId: lb1.id } })).toBe(0);
  });
});
