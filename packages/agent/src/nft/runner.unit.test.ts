import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { execRunner } from "./runner.ts";

// A stand-in binary (a shell script) plays a hung nft: the runner must kill it and say so.
const dir = mkdtempSync(join(tmpdir(), "switchyard-runner-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fakeBinary(body: string): string {
  const file = join(dir, `nft-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe("execRunner", () => {
  it("passes stdin through and reports exit code and output", async () => {
    const runner = execRunner(fakeBinary('cat; echo oops >&2; exit 3'));
    expect(await runner.run(["-f", "-"], "add table inet x\n")).toEqual({ stdout: "add table inet x\n", stderr: "oops\n", code: 3 });
  });

  it("kills a binary that does not finish in time and says so", async () => {
    const started = performance.now();
    const result = await execRunner(fakeBinary("exec sleep 30"), 200).run(["-f", "-"], "");
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/-f - did not finish in 200 ms and was killed/);
  });

  it("rejects when the binary cannot be run", async () => {
    await expect(execRunner(join(dir, "missing")).run(["--version"])).rejects.toThrow(/cannot run .*missing/);
  });
});
