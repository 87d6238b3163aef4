import { applyPatch, createTwoFilesPatch } from "diff";
import { describe, expect, it } from "vitest";
import { rulesetDiff, segments } from "./ruleset-diff.ts";

// The shape of a rendered ruleset: counters, a service map, a chain per farm.
function ruleset(farms: number, port: (i: number) => number, extra = ""): string {
  const lines = ["table inet switchyard {"];
  for (let i = 0; i < farms; i++) lines.push(`\tcounter c/f${i}/b1 {`, "\t}");
  lines.push("\tmap svc4-ports {", "\t\ttype inet_proto . ipv4_addr . inet_service : verdict", "\t\telements = {");
  for (let i = 0; i < farms; i++) lines.push(`\t\t\ttcp . 198.18.${i >> 8}.${i & 255} . ${port(i)} : goto farm-f${i}-4,`);
  lines.push("\t\t}", "\t}");
  for (let i = 0; i < farms; i++) lines.push(`\tchain farm-f${i}-4 {`, `\t\tct mark set numgen inc mod 2 offset 0x80000000${i === 7 ? extra : ""}`, "\t}");
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

describe("rulesetDiff", () => {
  it("is the plain unified diff when little differs", () => {
    const before = ruleset(50, () => 80);
    const after = ruleset(50, (i) => (i === 3 ? 81 : 80), " # x");
    expect(rulesetDiff("a", "b", before, after)).toBe(createTwoFilesPatch("a", "b", before, after, undefined, undefined, { context: 3 }));
  });

  it("splits a ruleset into its blocks, keyed by table and header", () => {
    const keys = segments(ruleset(2, () => 80)).map((s) => s.key.split("\n")[1]);
    expect(keys).toEqual(["table inet switchyard {", "\tcounter c/f0/b1 {", "\tcounter c/f1/b1 {", "\tmap svc4-ports {", "\tchain farm-f0-4 {", "\tchain farm-f1-4 {", "}"]);
  });

  it("answers within a few seconds when everything differs at 10,000 farms, with a patch that still turns before into after", { timeout: 20_000 }, () => {
    const before = ruleset(10_000, () => 1000);
    const after = ruleset(9_990, () => 1001, " # changed");
    const started = Date.now();
    const patch = rulesetDiff("a", "b", before, after);
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(applyPatch(before, patch)).toBe(after);
    // Blocks that are equal on both sides are not in it.
    expect(patch).not.toContain("counter c/f5/b1");
    expect(patch).toContain("-\tcounter c/f9995/b1 {");
  });
});
