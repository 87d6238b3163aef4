import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildRuleset, parseConfig } from "@switchyard/core";
import { canonicalJson, irHash, PutRulesetSchema, describeIssues } from "./schema.ts";
import { checkIr } from "@switchyard/core";

const ir = buildRuleset(
  parseConfig({ farms: [{ name: "web", "virtual-addr": "198.18.1.100", "virtual-ports": "80", backends: [{ name: "b1", "ip-addr": "198.18.2.11" }] }] }),
  { table: "switchyard" },
);

describe("canonicalJson", () => {
  it("sorts keys at every depth, keeps array order, drops undefined", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: "x" }, u: undefined })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson([undefined, null, true, "é\n"])).toBe('[null,null,true,"é\\n"]');
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/no JSON form/);
  });

  it("is the same text whatever the key order, and parses back to the same value", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        const shuffled = JSON.parse(JSON.stringify(value), function (this: unknown, _k, v: unknown) {
          if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
          return Object.fromEntries(Object.entries(v as Record<string, unknown>).reverse());
        }) as unknown;
        expect(canonicalJson(shuffled)).toBe(text);
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
      { numRuns: 200 },
    );
  });

  it("irHash is sha256 hex of the canonical JSON", () => {
    expect(irHash(ir)).toBe(createHash("sha256").update(canonicalJson(ir)).digest("hex"));
    expect(irHash(ir)).toMatch(/^[0-9a-f]{64}$/);
    const reordered = JSON.parse(JSON.stringify({ tables: ir.tables.map((t) => ({ counters: t.counters, chains: t.chains, maps: t.maps, name: t.name, family: t.family })) }));
    expect(irHash(reordered)).toBe(irHash(ir));
  });
});

describe("PutRulesetSchema", () => {
  const good = { revision: 1, hash: irHash(ir), ir };
  it("accepts a request, with or without force", () => {
    expect(PutRulesetSchema.safeParse(good).success).toBe(true);
    expect(PutRulesetSchema.safeParse({ ...good, force: true }).success).toBe(true);
  });
  it("refuses bad revisions, hashes, unknown keys and bad IR, naming the field", () => {
    const why = (body: unknown) => {
      const parsed = PutRulesetSchema.safeParse(body);
      return parsed.success ? "ok" : describeIssues(parsed.error);
    };
    expect(why({ ...good, revision: 0 })).toBe("revision: must be an integer >= 1");
    expect(why({ ...good, revision: 1.5 })).toMatch(/^revision: /);
    expect(why({ ...good, hash: "ABC" })).toBe("hash: must be a sha256 in lowercase hex (64 characters)");
    expect(why({ ...good, extra: 1 })).toMatch(/extra/);
    expect(why({ ...good, force: "yes" })).toMatch(/^force: /);
    expect(why({ ...good, ir: { tables: [{ family: "ip", name: "x", maps: [], chains: [] }] } })).toMatch(/^ir\.tables\.0\.family: /);
    expect(why(null)).toMatch(/^body: /);
  });
});

describe("the IR check managed mode runs (core's checkIr)", () => {
  it("accepts what buildRuleset renders", () => {
    expect(() => checkIr(ir, "switchyard")).not.toThrow();
  });
  it("refuses separators, escaping braces, foreign jumps, odd devices and other tables", () => {
    const withRule = (rule: string) => ({ tables: [{ family: "inet" as const, name: "switchyard", maps: [], chains: [{ name: "c", rules: [rule] }] }] });
    expect(() => checkIr(withRule("accept; flush ruleset"), "switchyard")).toThrow(/statement separator/);
    expect(() => checkIr(withRule("accept\ndelete table inet filter"), "switchyard")).toThrow(/command separator/);
    expect(() => checkIr(withRule("accept } } table inet filter {"), "switchyard")).toThrow(/a brace could open or close a block/);
    expect(() => checkIr(withRule("jump input"), "switchyard")).toThrow(/not a chain of table inet switchyard/);
    // Braces are refused outright (the renderer never writes anonymous sets), anonymous vmaps included.
    expect(() => checkIr(withRule("ip daddr vmap { 198.18.1.1 : goto c }"), "switchyard")).toThrow(/brace/);
    expect(() => checkIr(withRule("accept"), "other")).toThrow(/not the agent's table/);
    const dev = { tables: [{ family: "netdev" as const, name: "switchyard", maps: [], chains: [{ name: "c", hook: { type: "filter" as const, hook: "ingress" as const, priority: 0, device: 'x" ; flush ruleset' }, rules: [] }] }] };
    expect(() => checkIr(dev, "switchyard")).toThrow(/not an interface name/);
  });
});
