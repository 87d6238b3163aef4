import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../nftlb/codec.ts";
import { buildRuleset } from "../ruleset/build.ts";
import { diffIr, patchIr } from "../ruleset/ir-patch.ts";
import { canonicalJson, canonicalSha256, deepFreeze, sha256Hex } from "./canonical.ts";
import { irHash } from "./ruleset-request.ts";

// canonicalJson remembers the text of deeply frozen parts, and canonicalSha256 hashes it piece
// by piece: neither may ever give another text or hash than writing the value afresh.

/** canonicalJson as it was written before it remembered anything. */
function plain(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? "null" : plain(item))).join(",")}]`;
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record)
    .sort()
    .filter((k) => record[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${plain(record[k])}`)
    .join(",")}}`;
}

describe("canonicalJson and canonicalSha256", () => {
  it("give the plain text and its sha256, frozen or not, written once or again", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, freeze) => {
        const v = freeze ? deepFreeze(structuredClone(value)) : value;
        const text = plain(value);
        expect(canonicalJson(v)).toBe(text);
        expect(canonicalJson(v)).toBe(text);
        expect(canonicalSha256(v)).toBe(sha256Hex(text));
        expect(canonicalSha256({ wrapped: [v, v] })).toBe(sha256Hex(plain({ wrapped: [value, value] })));
      }),
      { numRuns: 300 },
    );
  });

  it("never remembers a frozen object whose inside can still change", () => {
    const inner = { n: 1 };
    const outer = Object.freeze({ inner, list: Object.freeze([1, 2]) });
    expect(canonicalJson(outer)).toBe('{"inner":{"n":1},"list":[1,2]}');
    inner.n = 2;
    expect(canonicalJson(outer)).toBe('{"inner":{"n":2},"list":[1,2]}');
    expect(canonicalSha256(outer)).toBe(sha256Hex('{"inner":{"n":2},"list":[1,2]}'));
  });

  it("irHash of a patched, frozen ruleset at 2,000 farms is that of the ruleset built whole", () => {
    const farms = (down: number) =>
      Array.from({ length: 2000 }, (_, i) => ({
        name: `f${i}`,
        "virtual-addr": `198.18.${100 + Math.floor(i / 250)}.${i % 250}`,
        "virtual-ports": "80",
        backends: [
          { name: "b1", "ip-addr": "198.18.2.11", state: i === down ? "down" : "up" },
          { name: "b2", "ip-addr": "198.18.2.12" },
        ],
      }));
    const a = deepFreeze(JSON.parse(JSON.stringify(buildRuleset(parseConfig({ farms: farms(-1) })))));
    irHash(a);
    for (const down of [5, 1999, 0]) {
      const b = buildRuleset(parseConfig({ farms: farms(down) }));
      const patched = deepFreeze(patchIr(a, JSON.parse(JSON.stringify(diffIr(a, b)))));
      expect(irHash(patched)).toBe(sha256Hex(plain(b)));
      expect(canonicalJson(patched)).toBe(plain(b));
    }
  });
});
