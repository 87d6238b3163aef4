import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
  it("hands nft the script as a whole file (never a pipe a crash could cut short) and removes it", async () => {
    const runner = execRunner(fakeBinary('echo "$1 $2"; cat "$2"; echo oops >&2; exit 3'));
    const result = await runner.run(["-f", "-"], "add table inet x\n");
    const [argsLine = "", ...rest] = result.stdout.split("\n");
    expect(argsLine).toMatch(/^-f \/.*switchyard-nft-.*\/script-\d+-1\.nft$/);
    expect(rest.join("\n")).toBe("add table inet x\n");
    expect([result.stderr, result.code]).toEqual(["oops\n", 3]);
    expect(existsSync(argsLine.slice(3))).toBe(false);
  });

  it("passes other arguments as they are", async () => {
    expect(await execRunner(fakeBinary('echo "$@"')).run(["list", "table", "inet", "x"])).toEqual({ stdout: "list table inet x\n", stderr: "", code: 0 });
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
