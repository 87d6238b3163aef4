import { describe, expect, it } from "vitest";
import { canonicalJson } from "../wire/canonical.ts";
import { buildRuleset } from "../ruleset/build.ts";
import { parseNftlbJson, safeParseConfig, toNftlb } from "../nftlb/codec.ts";
import { diffConfigs } from "./config-diff.ts";
import type { Config } from "./farm.ts";
import { configForNode, formatPlacement, LabelsSchema, parsePlacement, placementMatches } from "./placement.ts";

function ok(raw: unknown): Config {
  const result = safeParseConfig(raw);
  if (!result.ok) throw new Error(`expected the config to be valid, got:\n${JSON.stringify(result.issues, null, 2)}`);
  return result.config;
}

const farm = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  "virtual-addr": "198.18.1.100",
  "virtual-ports": ({ web: "80", dns: "53", ntp: "123" } as Record<string, string>)[name] ?? "8080",
  backends: [{ name: "b1", "ip-addr": "198.18.2.11" }],
  ...extra,
});

describe("the selector", () => {
  it("reads key=value terms joined by commas, spaces around them allowed, keys sorted", () => {
    expect(parsePlacement("zone=a, role=edge")).toEqual({ ok: true, placement: { role: "edge", zone: "a" } });
    expect(parsePlacement("topology/zone=eu-west.1")).toEqual({ ok: true, placement: { "topology/zone": "eu-west.1" } });
    // the same term twice says nothing more
    expect(parsePlacement("role=edge,role=edge")).toEqual({ ok: true, placement: { role: "edge" } });
    expect(formatPlacement({ zone: "a", role: "edge" })).toBe("role=edge,zone=a");
  });

  it("takes the empty selector as every node", () => {
    expect(parsePlacement("")).toEqual({ ok: true, placement: undefined });
    expect(parsePlacement("  ")).toEqual({ ok: true, placement: undefined });
  });

  it("refuses what is not a selector, saying why", () => {
    const reason = (text: string) => {
      const parsed = parsePlacement(text);
      return parsed.ok ? null : parsed.reason;
    };
    expect(reason("role")).toMatch(/^"role" is not key=value/);
    expect(reason("role=edge=x")).toMatch(/^"role=edge=x" is not key=value/);
    expect(reason("role=edge,,zone=a")).toMatch(/empty term/);
    expect(reason("role=edge,")).toMatch(/empty term/);
    expect(reason("=edge")).toMatch(/^label key "" must be/);
    expect(reason("ro le=edge")).toMatch(/^label key "ro le" must be/);
    expect(reason("role=")).toMatch(/^the value "" of label role must be/);
    expect(reason("role=ed/ge")).toMatch(/^the value "ed\/ge" of label role must be/);
    expect(reason("role=edge,role=core")).toBe("gives label role twice (edge and core): a node has one value per label, so no node could match");
  });

  it("matches a node that has every key=value (other labels do not matter); none matches every node", () => {
    const edgeA = { role: "edge", zone: "a", canary: "true" };
    expect(placementMatches({ role: "edge", zone: "a" }, edgeA)).toBe(true);
    expect(placementMatches({ role: "edge", zone: "b" }, edgeA)).toBe(false);
    expect(placementMatches({ rack: "1" }, edgeA)).toBe(false);
    expect(placementMatches({ role: "edge" }, {})).toBe(false);
    expect(placementMatches(undefined, {})).toBe(true);
    // inherited properties are not labels
    expect(placementMatches({ constructor: "x" }, {})).toBe(false);
  });
});

describe("x-placement in a farm", () => {
  it("is optional: a farm without it (every plain nftlb config) has no such key", () => {
    const config = ok({ farms: [farm("web")] });
    expect(Object.keys(config.farms[0] as object)).not.toContain("x-placement");
    expect(toNftlb(config).farms[0]).not.toHaveProperty("x-placement");
  });

  it("is read into the model, written back in canonical form, and imports back as the same farm", () => {
    const config = ok({ farms: [farm("web", { "x-placement": " zone=a,role=edge " })] });
    expect(config.farms[0]?.["x-placement"]).toEqual({ role: "edge", zone: "a" });
    const written = toNftlb(config);
    expect(written.farms[0]?.["x-placement"]).toBe("role=edge,zone=a");
    expect(parseNftlbJson(JSON.stringify(written))).toEqual(config);
  });

  it("is left out of the output for nftlb itself (which refuses keys it does not know)", () => {
    const config = ok({ farms: [farm("web", { "x-placement": "role=edge" })] });
    const plain = toNftlb(config, { extensions: false });
    expect(plain.farms[0]).not.toHaveProperty("x-placement");
    expect(plain).toEqual(toNftlb(ok({ farms: [farm("web")] })));
  });

  it("empty is every node, the same farm as one without it", () => {
    expect(ok({ farms: [farm("web", { "x-placement": "" })] })).toEqual(ok({ farms: [farm("web")] }));
    expect(canonicalJson(toNftlb(ok({ farms: [farm("web", { "x-placement": "" })] })))).toBe(canonicalJson(toNftlb(ok({ farms: [farm("web")] }))));
  });

  it("is refused with a per-field issue that names the farm and says why", () => {
    const result = safeParseConfig({ farms: [farm("web"), farm("dns", { "x-placement": "role=edge,role=core" }), farm("ntp", { "x-placement": 7 })] });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toEqual([
      { farm: "dns", field: "x-placement", value: "role=edge,role=core", message: "gives label role twice (edge and core): a node has one value per label, so no node could match" },
      { farm: "ntp", field: "x-placement", value: 7, message: 'must be a label selector such as "role=edge,zone=a" (a string; empty: every node)' },
    ]);
  });

  it("is a field of the revision diff", () => {
    const before = ok({ farms: [farm("web")] });
    const placed = ok({ farms: [farm("web", { "x-placement": "role=edge" })] });
    const moved = ok({ farms: [farm("web", { "x-placement": "role=core" })] });
    expect(diffConfigs(before, placed).farms).toEqual([{ name: "web", change: "changed", fields: [{ field: "x-placement", before: "", after: "role=edge" }], backends: [] }]);
    expect(diffConfigs(placed, moved).farms[0]?.fields).toEqual([{ field: "x-placement", before: "role=edge", after: "role=core" }]);
    expect(diffConfigs(moved, before).farms[0]?.fields).toEqual([{ field: "x-placement", before: "role=core", after: "" }]);
  });

  it("changes which nodes get a farm, never the farm's rules", () => {
    const everywhere = ok({ farms: [farm("web"), farm("dns")] });
    const placed = ok({ farms: [farm("web", { "x-placement": "role=edge" }), farm("dns")] });
    expect(buildRuleset(placed)).toEqual(buildRuleset(everywhere));
    expect(configForNode(placed, { role: "edge" }).farms.map((f) => f.name)).toEqual(["web", "dns"]);
    expect(configForNode(placed, { role: "core" }).farms.map((f) => f.name)).toEqual(["dns"]);
    expect(buildRuleset(configForNode(placed, { role: "core" }))).toEqual(buildRuleset(ok({ farms: [farm("dns")] })));
    // every farm placed: the config itself
    expect(configForNode(placed, { role: "edge" })).toBe(placed);
  });
});

describe("node labels", () => {
  it("are key=value pairs a selector can name, sorted by key", () => {
    expect(LabelsSchema.parse({ zone: "a", role: "edge" })).toEqual({ role: "edge", zone: "a" });
    expect(Object.keys(LabelsSchema.parse({ zone: "a", role: "edge" }))).toEqual(["role", "zone"]);
  });

  it("are refused per label when a selector could not name them", () => {
    const result = LabelsSchema.safeParse({ role: "edge", "bad key": "x", zone: "a,b" });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["bad key", 'label key "bad key" must be 1-63 letters, digits, \'_\', \'.\', \'-\' or \'/\', starting and ending with a letter or digit'],
      ["zone", "the value \"a,b\" of label zone must be 1-63 letters, digits, '_', '.' or '-', starting and ending with a letter or digit"],
    ]);
  });
});
