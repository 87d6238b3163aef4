import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../auth/passwords.ts";
import { Deployer } from "../deploy/deployer.ts";
import { scratchDatabase } from "../testing/database.ts";
import { serveControlPlane, type RunningServer } from "./server.ts";

// The control plane over real HTTP on loopback: nothing answers without credentials but login
// and health; a session cookie or an API token stands for a user at a role.

let database: Awaited<ReturnType<typeof scratchDatabase>>;
let server: RunningServer;

beforeAll(async () => {
  database = await scratchDatabase();
  await database.db.user.createMany({
    data: [
      { username: "admin", passwordHash: await hashPassword("correct horse battery"), role: "admin" },
      { username: "vera", passwordHash: await hashPassword("viewer password 1"), role: "viewer" },
    ],
  });
  server = await serveControlPlane({ db: database.db, deployer: new Deployer({ db: database.db, key: randomBytes(32) }), host: "127.0.0.1", port: 0 });
});
afterAll(async () => {
  await server?.close();
  await database?.remove();
});

interface Answer {
  status: number;
  body: { result?: { data: unknown }; error?: { message: string; data?: { code: string } } };
  cookie: string | null;
}

async function trpc(kind: "query" | "mutation", path: string, input: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const url = `${server.url}/trpc/${path}${kind === "query" && input !== undefined ? `?input=${encodeURIComponent(JSON.stringify(input))}` : ""}`;
  const response = await fetch(url, {
    method: kind === "query" ? "GET" : "POST",
    headers: { ...(kind === "mutation" ? { "Content-Type": "application/json" } : {}), ...headers },
    ...(kind === "mutation" ? { body: JSON.stringify(input ?? null) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Answer["body"], cookie: response.headers.get("set-cookie") };
}

describe("the control plane over HTTP", () => {
  it("answers health without credentials and nothing else", async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const anonymous = await trpc("query", "farms.list", undefined);
    expect([anonymous.status, anonymous.body.error?.data?.code]).toEqual([401, "UNAUTHORIZED"]);
  });

  it("logs in with a password into an HttpOnly cookie; a wrong password is 401 and audited", async () => {
    const wrong = await trpc("mutation", "auth.login", { username: "admin", password: "nope" });
    expect([wrong.status, wrong.body.error?.message]).toEqual([401, "wrong username or password"]);
    const nobody = await trpc("mutation", "auth.login", { username: "nobody", password: "nope" });
    expect(nobody.body.error?.message).toBe("wrong username or password");

    const ok = await trpc("mutation", "auth.login", { username: "admin", password: "correct horse battery" });
    expect(ok.status).toBe(200);
    expect(ok.body.result?.data).not.toHaveProperty("token");
    expect(ok.cookie).toMatch(/^sy_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Expires=/);
    const session = (ok.cookie ?? "").split(";")[0] ?? "";
    const me = await trpc("query", "auth.me", undefined, { Cookie: session });
    expect(me.body.result?.data).toEqual({ id: 1, name: "admin", role: "admin" });

    const created = await trpc("mutation", "farms.create", { farm: { name: "web", "virtual-addr": "198.18.1.100", "virtual-ports": "80" } }, { Cookie: session });
    expect(created.body.result?.data).toEqual({ revision: 1, changed: true });
    const plain = await fetch(`${server.url}/trpc/farms.remove`, { method: "POST", headers: { Cookie: session, "Content-Type": "text/plain" }, body: JSON.stringify({ name: "web" }) });
    expect(plain.status).toBe(415);

    expect((await trpc("mutation", "auth.logout", null, { Cookie: session })).status).toBe(200);
    expect((await trpc("query", "auth.me", undefined, { Cookie: session })).status).toBe(401);
    const audit = await database.db.auditEvent.findMany({ where: { entityType: "user" }, orderBy: { id: "asc" } });
    expect(audit.map((a) => [a.action, a.entityName])).toEqual([
      ["user.login-failed", "admin"],
      ["user.login-failed", "nobody"],
      ["user.login", "admin"],
    ]);
  });

  it("API tokens: Bearer at the token's role; a viewer token reads but cannot change; a revoked token is refused", async () => {
    const login = await trpc("mutation", "auth.login", { username: "admin", password: "correct horse battery" });
    const session = (login.cookie ?? "").split(";")[0] ?? "";
    const operator = (await trpc("mutation", "tokens.create", { name: "ci", role: "operator" }, { Cookie: session })).body.result?.data as { token: string; id: number };
    const viewer = (await trpc("mutation", "tokens.create", { name: "grafana", role: "viewer" }, { Cookie: session })).body.result?.data as { token: string };
    expect(operator.token).toMatch(/^sy_/);
    const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

    expect((await trpc("mutation", "backends.upsert", { farm: "web", backend: { name: "b1", "ip-addr": "198.18.2.11" } }, bearer(operator.token))).body.result?.data).toEqual({ revision: 2, changed: true });
    expect((await trpc("query", "farms.list", undefined, bearer(viewer.token))).status).toBe(200);
    const forbidden = await trpc("mutation", "backends.setState", { farm: "web", name: "b1", state: "down" }, bearer(viewer.token));
    expect([forbidden.status, forbidden.body.error?.data?.code]).toEqual([403, "FORBIDDEN"]);
    expect((await trpc("mutation", "users.add", { username: "eve", password: "0123456789", role: "admin" }, bearer(operator.token))).status).toBe(403);

    await trpc("mutation", "tokens.revoke", { id: operator.id }, { Cookie: session });
    expect((await trpc("query", "farms.list", undefined, bearer(operator.token))).status).toBe(401);
    const audit = await database.db.auditEvent.findFirst({ where: { action: "backend.upsert" } });
    expect(audit?.actorName).toBe("admin (token ci)");
  });
});

describe("the REST API at /api/v1", () => {
  it("serves its OpenAPI document, generated from the procedures", async () => {
    const doc = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/farms", "/farms/{name}", "/farms/states", "/farms/{farm}/backends", "/farms/{farm}/backends/{name}/state", "/revisions", "/revisions/{number}", "/revisions/{to}/diff", "/revisions/rollback", "/nodes", "/nodes/{name}/labels", "/deployments"]),
    );
    expect(Object.keys(doc.paths["/farms/{name}"] ?? {}).sort()).toEqual(["delete", "get", "patch", "put"]);
  });

  it("changes farms with a Bearer token: created, state set, a stale change is 409 naming who, a bad address 400 with the field", async () => {
    const login = await trpc("mutation", "auth.login", { username: "admin", password: "correct horse battery" });
    const session = (login.cookie ?? "").split(";")[0] ?? "";
    const { token } = (await trpc("mutation", "tokens.create", { name: "automation", role: "operator" }, { Cookie: session })).body.result?.data as { token: string };
    const rest = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${server.url}/api/v1${path}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    expect((await fetch(`${server.url}/api/v1/farms`)).status).toBe(401);
    const before = (await rest("GET", "/farms")).body as { revision: number };
    const created = await rest("POST", "/farms", { farm: { name: "api", "virtual-addr": "198.18.1.101", "virtual-ports": "443", backends: [{ name: "a1", "ip-addr": "198.18.2.21" }] } });
    expect(created).toEqual({ status: 200, body: { revision: before.revision + 1, changed: true } });
    const down = await rest("PUT", "/farms/api/backends/a1/state", { state: "down", baseRevision: before.revision + 1 });
    expect(down.body).toEqual({ revision: before.revision + 2, changed: true });
    const stale = await rest("PATCH", "/farms/api", { attributes: { scheduler: "weight" }, baseRevision: before.revision + 1 });
    expect(stale.status, JSON.stringify(stale.body)).toBe(409);
    expect(stale.body.message).toMatch(/^farm api was changed by admin \(token automation\) in revision \d+/);
    const bad = await rest("PUT", "/farms/api/backends", { backend: { name: "a2", "ip-addr": "198.18.2.300" } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('farm "api", backend "a2", ip-addr = "198.18.2.300"');
    const diff = await rest("GET", `/revisions/${before.revision + 2}/diff?from=${before.revision + 1}`);
    expect(diff.status, JSON.stringify(diff.body)).toBe(200);
    expect(diff.body).toEqual({ farms: [{ name: "api", change: "changed", fields: [], backends: [{ name: "a1", change: "changed", fields: [{ field: "state", before: "up", after: "down" }] }] }] });
    expect((await rest("GET", `/revisions/${before.revision + 2}`)).body).toMatchObject({ number: before.revision + 2, authorName: "admin (token automation)" });
  });
});
