import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AGENT_BIN } from "./testing/index.ts";

// The start-up check that nft may change the ruleset, with the real nft and kernel: run as an
// unprivileged user (setpriv, no capabilities), the agent stops before it touches anything and
// says why. Nothing is listened on: it exits before.

describe("start-up without the privileges nft needs", () => {
  it("stops at once and names root or CAP_NET_ADMIN", () => {
    const dir = mkdtempSync(join(tmpdir(), "switchyard-access-"));
    try {
      const run = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", AGENT_BIN, "-k", "k".repeat(32), "--state-dir", dir, "-P", "0"], {
        encoding: "utf8",
        timeout: 30_000,
      });
      expect(run.status).not.toBe(0);
      expect(run.stderr).toMatch(/nft may not change the ruleset; the agent needs root or CAP_NET_ADMIN: .*Operation not permitted/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
