import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// bin/switchyard as an operator runs it: a data dir, users, an nftlb import (refused whole when
// invalid), revisions, export, diff, rollback. Real processes, a real SQLite file.

const BIN = resolve(import.meta.dirname, "../../../../bin/switchyard");
const dir = mkdtempSync(join(tmpdir(), "switchyard-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sy(args: string[], input?: string) {
  const run = spawnSync(BIN, [...args, "--data-dir", join(dir, "data")], { input, encoding: "utf8", timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const farms = (vip: string) => JSON.stringify({ farms: [{ name: "web", "virtual-addr": vip, "virtual-ports": "80", backends: [{ name: "b1", "ip-addr": "198.18.2.11" }] }] });

// Each command is a process of its own (about half a second): generous timeouts.
describe("bin/switchyard", { timeout: 60_000 }, () => {
  it("migrates, adds a user, imports, lists, exports, diffs and rolls back", () => {
    expect(sy(["migrate"]).stdout).toMatch(/applied 0001_init/);
    expect(statSync(join(dir, "data")).mode & 0o777).toBe(0o700);
    expect(sy(["user", "add", "admin", "--role", "admin"], "a long enough password\n")).toMatchObject({ code: 0, stdout: "user admin (admin) added\n" });
    expect(sy(["user", "add", "short", "--role", "admin"], "short\n")).toMatchObject({ code: 1, stderr: expect.stringContaining("password: must have at least 10 characters") });

    writeFileSync(join(dir, "one.json"), farms("198.18.1.100"));
    writeFileSync(join(dir, "two.json"), farms("198.18.1.101"));
    writeFileSync(join(dir, "bad.json"), farms("198.18.1.300"));
    expect(sy(["import", join(dir, "one.json")]).stdout).toBe("imported 1 farm(s) as revision 1\n");
    expect(sy(["import", join(dir, "two.json"), "-m", "move web"]).stdout).toBe("imported 1 farm(s) as revision 2\n");
    const bad = sy(["import", join(dir, "bad.json")]);
    expect([bad.code, bad.stderr]).toEqual([1, expect.stringContaining('farm "web", virtual-addr = "198.18.1.300"')]);

    const revisions = sy(["revisions"]).stdout.trim().split("\n");
    expect(revisions).toHaveLength(2);
    expect(revisions[0]).toMatch(/^\s*2 .* cli:\S+\s+import\s+move web$/);
    expect(JSON.parse(sy(["export", "1"]).stdout).farms[0]["virtual-addr"]).toBe("198.18.1.100");
    expect(JSON.parse(sy(["diff", "1", "2"]).stdout)).toEqual({
      farms: [{ name: "web", change: "changed", fields: [{ field: "virtual-addr", before: "198.18.1.100", after: "198.18.1.101" }], backends: [] }],
    });
    expect(sy(["rollback", "1"]).stdout).toBe("revision 3 rolls back to revision 1\n");
    expect(JSON.parse(sy(["export"]).stdout).farms[0]["virtual-addr"]).toBe("198.18.1.100");

    // A placement (x-placement) imports and exports; --plain leaves it out, for nftlb itself.
    writeFileSync(join(dir, "placed.json"), JSON.stringify({ farms: [{ ...JSON.parse(farms("198.18.1.100")).farms[0], "x-placement": "zone=a,role=edge" }] }));
    expect(sy(["import", join(dir, "placed.json")]).stdout).toBe("imported 1 farm(s) as revision 4\n");
    expect(JSON.parse(sy(["export"]).stdout).farms[0]["x-placement"]).toBe("role=edge,zone=a");
    expect(JSON.parse(sy(["export", "--plain"]).stdout)).toEqual(JSON.parse(sy(["export", "3"]).stdout));
  });

  it("shows a node's token and an API token once; refuses unknown commands with the usage", () => {
    const node = sy(["node", "add", "lb1", "http://198.18.250.1:5555"]);
    expect(node.code).toBe(0);
    expect(node.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(node.stderr).toContain(`echo '${node.stdout.trim()}' > /etc/switchyard/node-token`);
    expect(sy(["token", "create", "ci", "--role", "operator"]).stdout).toMatch(/^sy_[A-Za-z0-9_-]{43}\n$/);
    expect(sy(["bogus"])).toMatchObject({ code: 2, stderr: expect.stringContaining("unknown command bogus") });
  });
});
