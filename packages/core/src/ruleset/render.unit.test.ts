import { describe, expect, it } from "vitest";
import { parseConfig } from "../nftlb/codec.ts";
import { buildRuleset } from "./build.ts";
import { OWNED_FAMILIES, type IrRuleset, type IrTable } from "./ir.ts";
import { renderReplaceScript, renderRuleset, renderTable } from "./render.ts";

const ir: IrRuleset = {
  tables: [
    {
      family: "inet",
      name: "t",
      maps: [
        { name: "m1", key: "inet_proto . ipv4_addr . inet_service", interval: false, elements: [["tcp . 198.18.1.1 . 80", "goto c1"], ["udp . 198.18.1.1 . 53", "goto c2"]] },
        { name: "m2", key: "ipv4_addr", interval: true, elements: [] },
      ],
      chains: [
        { name: "pre", hook: { type: "nat", hook: "prerouting", priority: -100 }, rules: ["ip daddr vmap @m2"] },
        { name: "c1", rules: ["drop"] },
        { name: "empty", rules: [] },
      ],
    },
    {
      family: "netdev",
      name: "t",
      maps: [],
      chains: [{ name: "in", hook: { type: "filter", hook: "ingress", priority: 101, device: "eth0" }, rules: ["accept"] }],
    },
  ],
};

describe("renderTable / renderRuleset", () => {
  it("writes maps (with type, interval flag, elements) then chains (with hook line, rules)", () => {
    expect(renderTable(ir.tables[0]!)).toBe(
      [
        "table inet t {",
        "\tmap m1 {",
        "\t\ttype inet_proto . ipv4_addr . inet_service : verdict",
        "\t\telements = {",
        "\t\t\ttcp . 198.18.1.1 . 80 : goto c1,",
        "\t\t\tudp . 198.18.1.1 . 53 : goto c2",
        "\t\t}",
        "\t}",
        "\tmap m2 {",
        "\t\ttype ipv4_addr : verdict",
        "\t\tflags interval",
        "\t}",
        "\tchain pre {",
        "\t\ttype nat hook prerouting priority -100; policy accept;",
        "\t\tip daddr vmap @m2",
        "\t}",
        "\tchain c1 {",
        "\t\tdrop",
        "\t}",
        "\tchain empty {",
        "\t}",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("writes a device for an ingress hook", () => {
    expect(renderTable(ir.tables[1]!)).toBe(
      'table netdev t {\n\tchain in {\n\t\ttype filter hook ingress device "eth0" priority 101; policy accept;\n\t\taccept\n\t}\n}\n',
    );
  });

  it("concatenates the tables in order", () => {
    expect(renderRuleset(ir)).toBe(renderTable(ir.tables[0]!) + renderTable(ir.tables[1]!));
    expect(renderRuleset({ tables: [] })).toBe("");
  });
});

describe("named counters", () => {
  const table: IrTable = { family: "inet", name: "t", maps: [], chains: [{ name: "c", rules: ["counter name c/web/a drop"] }], counters: ["c/web/a", "c/web/b"] };

  it("come first in the table, so that the rules after them can name them", () => {
    expect(renderTable(table)).toBe(
      ["table inet t {", "\tcounter c/web/a {", "\t}", "\tcounter c/web/b {", "\t}", "\tchain c {", "\t\tcounter name c/web/a drop", "\t}", "}", ""].join("\n"),
    );
  });

  it("start from the values given (a replace that carries counts over), zero otherwise", () => {
    const values = new Map([["c/web/a", { packets: 7, bytes: 420 }]]);
    const script = renderReplaceScript({ tables: [table] }, "t", values);
    expect(script).toContain("\tcounter c/web/a {\n\t\tpackets 7 bytes 420\n\t}\n\tcounter c/web/b {\n\t}");
    expect(renderReplaceScript({ tables: [table] }, "t", new Map([["c/web/a", { packets: -1, bytes: 0.5 }]]))).toContain("\tcounter c/web/a {\n\t}");
  });
});

describe("renderReplaceScript", () => {
  it("starts by creating and deleting the table of every owned family, then defines the IR's tables", () => {
    const script = renderReplaceScript(ir, "t");
    expect(OWNED_FAMILIES).toEqual(["inet", "netdev"]);
    expect(script.startsWith("table inet t\ndelete table inet t\ntable netdev t\ndelete table netdev t\n")).toBe(true);
    expect(script).toBe("table inet t\ndelete table inet t\ntable netdev t\ndelete table netdev t\n" + renderRuleset(ir));
  });

  it("resets the netdev table even when the IR has none, so that a removed dsr farm leaves nothing behind", () => {
    const config = parseConfig({ farms: [{ name: "web", "virtual-addr": "198.18.1.100", "virtual-ports": "80" }] });
    const script = renderReplaceScript(buildRuleset(config), "switchyard");
    const lines = script.split("\n");
    expect(lines.slice(0, 4)).toEqual(["table inet switchyard", "delete table inet switchyard", "table netdev switchyard", "delete table netdev switchyard"]);
    expect(script).not.toContain("table netdev switchyard {");
    expect(script).toContain("table inet switchyard {");
  });

  it("uses the table name it is given everywhere", () => {
    const config = parseConfig({ farms: [{ name: "web", "virtual-addr": "198.18.1.100" }] });
    const script = renderReplaceScript(buildRuleset(config, { table: "lb2" }), "lb2");
    expect(script).not.toContain("switchyard");
    expect(script).toContain("table inet lb2 {");
  });

  it("is deterministic: the same model gives the same bytes", () => {
    const raw = {
      farms: [
        { name: "web", "virtual-addr": "198.18.1.100", "virtual-ports": "80,443,8000-8100", scheduler: "weight", backends: [{ name: "a", "ip-addr": "198.18.2.11", weight: "2" }, { name: "b", "ip-addr": "198.18.2.12" }] },
        { name: "dns", family: "dual", "virtual-addr": "198.18.1.100", "virtual-addr6": "2001:db8:1::100", "virtual-ports": "53", protocol: "udp", scheduler: "hash" },
      ],
    };
    const once = renderReplaceScript(buildRuleset(parseConfig(raw)), "switchyard");
    const twice = renderReplaceScript(buildRuleset(parseConfig(structuredClone(raw))), "switchyard");
    expect(twice).toBe(once);
    expect(once).toContain("tcp . 198.18.1.100 . 8000-8100 : goto farm-web-4");
  });
});
