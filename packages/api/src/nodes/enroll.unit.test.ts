import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sha256Hex } from "@switchyard/core";
import { scratchDatabase } from "../testing/database.ts";
import { enrollNodes, parseEnrollments } from "./enroll.ts";

let database: Awaited<ReturnType<typeof scratchDatabase>>;
let dir: string;
const key = randomBytes(32);

beforeEach(async () => {
  database = await scratchDatabase();
  dir = mkdtempSync(join(tmpdir(), "switchyard-enroll-"));
});
afterEach(async () => {
  await database.remove();
  rmSync(dir, { recursive: true, force: true });
});

describe("serve --enroll", () => {
  it("adds the node once and writes the token whose hash the database keeps, the same token at every start", async () => {
    const [file] = await enrollNodes(database.db, key, [{ name: "local", url: "http://198.18.0.1:5555" }], join(dir, "tokens"));
    const token = readFileSync(file ?? "", "utf8").trim();
    expect(statSync(file ?? "").mode & 0o777).toBe(0o600);
    const node = await database.db.node.findUniqueOrThrow({ where: { name: "local" } });
    expect(node.tokenHash).toBe(sha256Hex(token));
    expect(node.url).toBe("http://198.18.0.1:5555");

    await enrollNodes(database.db, key, [{ name: "local", url: "http://198.18.0.2:5555" }], join(dir, "tokens"));
    expect(readFileSync(file ?? "", "utf8").trim()).toBe(token);
    expect(await database.db.node.count()).toBe(1);
    expect((await database.db.node.findUniqueOrThrow({ where: { name: "local" } })).url).toBe("http://198.18.0.2:5555");
    expect((await database.db.auditEvent.findMany({ select: { action: true } })).map((e) => e.action)).toEqual(["node.add", "node.update"]);
  });

  it("reads NAME=URL lists and names what is wrong in a bad one", () => {
    expect(parseEnrollments(["a=http://198.18.0.1:5555,b=https://lb.example:5555", " "])).toEqual([
      { name: "a", url: "http://198.18.0.1:5555" },
      { name: "b", url: "https://lb.example:5555" },
    ]);
    expect(() => parseEnrollments(["Bad=http://x"])).toThrow(/--enroll Bad=http:\/\/x: expected NAME=URL/);
    expect(() => parseEnrollments(["a=ftp://x"])).toThrow(/expected NAME=URL/);
  });
});
