import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../nftlb/codec.ts";
import { buildRuleset } from "./build.ts";
import { configPairs, TEST_FACTS } from "./fake-nft.ts";
import { checkIr, findTextProblems, IrRejected, referencesOf, textProblems } from "./guard.ts";
import type { IrChain, IrMap, IrRuleset, IrTable } from "./ir.ts";

const T = "switchyard";

function rejected(ir: unknown, table = T): IrRejected {
  try {
    checkIr(ir as IrRuleset, table);
  } catch (error) {
    if (error instanceof IrRejected) return error;
    throw error;
  }
  throw new Error("expected IrRejected, but the IR passed");
}

/** A small valid IR in the renderer's shape, with one farm chain to tamper with. */
function base(): IrRuleset {
  const ir = buildRuleset(
    parseConfig({
      farms: [
        {
          name: "web",
          "virtual-addr": "198.18.1.100",
          "virtual-ports": "80,8000-8100",
          scheduler: "weight",
          backends: [
            { name: "a", "ip-addr": "198.18.2.11", port: 8080, weight: 2 },
            { name: "b", "ip-addr": "198.18.2.12", port: 8080 },
          ],
        },
        {
          name: "fast",
          "virtual-addr": "198.18.1.101",
          mode: "dsr",
          iface: "eth-in",
          oface: "eth-out",
          backends: [{ name: "a", "ip-addr": "198.18.2.11", "ether-addr": "02:00:00:00:00:0a" }],
        },
      ],
    }),
    { facts: TEST_FACTS },
  );
  checkIr(ir, T);
  // Built IRs share frozen chains with later builds: tamper with a copy.
  return structuredClone(ir);
}

const inet = (ir: IrRuleset): IrTable => ir.tables.find((t) => t.family === "inet") as IrTable;
const netdev = (ir: IrRuleset): IrTable => ir.tables.find((t) => t.family === "netdev") as IrTable;
const chainOf = (t: IrTable, name: string): IrChain => t.chains.find((c) => c.name === name) as IrChain;
const mapOf = (t: IrTable, name: string): IrMap => t.maps.find((m) => m.name === name) as IrMap;

/** The base IR with one rule of farm-web-4 replaced. */
function withRule(rule: string): IrRuleset {
  const ir = base();
  chainOf(inet(ir), "farm-web-4").rules[1] = rule;
  return ir;
}

/** The base IR with one element of svc4-ports replaced. */
function withElement(key: string, value: string): IrRuleset {
  const ir = base();
  mapOf(inet(ir), "svc4-ports").elements[0] = [key, value];
  return ir;
}

const RULE_AT = "table inet switchyard, chain farm-web-4, rule 2";

describe("checkIr passes what the renderer writes", () => {
  it("random valid configs (every family, mode, protocol, scheduler, port shape, dsr)", () => {
    fc.assert(
      fc.property(configPairs, ({ a, b }) => {
        checkIr(buildRuleset(a, { facts: TEST_FACTS }), T);
        checkIr(buildRuleset(b, { facts: TEST_FACTS }), T);
      }),
      { numRuns: 300 },
    );
  });

  it("farm names that are nft command words, IPv6 addresses with words in hex, another table name", () => {
    const farms = ["list", "table", "add", "flush", "delete", "ruleset", "include", "reset"].map((name, i) => ({
      name,
      family: "dual",
      "virtual-addr": `198.18.1.${i + 1}`,
      "virtual-addr6": `2001:db8:add::${i + 1}`,
      "virtual-ports": "80",
      scheduler: "hash",
      "sched-param": "srcip srcport",
      backends: [
        { name: "a", "ip-addr": "2001:db8:2::add", port: 8080 },
        { name: "b", "ip-addr": "2001:db8:2::dead:beef", port: 8080 },
        { name: "c", "ip-addr": "198.18.2.1" },
      ],
    }));
    farms.push({
      name: "define",
      family: "ipv6",
      "virtual-addr": "2001:db8:1::fade",
      "virtual-ports": "",
      scheduler: "rr",
      "sched-param": "",
      backends: [{ name: "a", "ip-addr": "2001:db8:2::acc", port: "" as unknown as number }],
      mode: "dsr",
      iface: "eth-in",
    } as never);
    const ir = buildRuleset(parseConfig({ farms }), { table: "lb-flush.1", facts: { ...TEST_FACTS, neighbours: { "2001:db8:2::acc": "02:00:00:00:00:0c" } } });
    expect(() => checkIr(ir, "lb-flush.1")).not.toThrow();
    expect(JSON.stringify(ir)).toContain("goto farm-list-4");
    expect(JSON.stringify(ir)).toContain("2001:db8:2::add");
  });

  it("a 1,000-farm config", () => {
    const farms = Array.from({ length: 1000 }, (_, i) => ({
      name: `f${i}`,
      "virtual-addr": `198.18.${4 + Math.floor(i / 250)}.${(i % 250) + 1}`,
      "virtual-ports": i % 3 === 0 ? "80,443" : "8000-8100",
      backends: [
        { name: "a", "ip-addr": "198.18.2.1", port: 8080, weight: 3 },
        { name: "b", "ip-addr": "198.18.2.2", port: 8080 },
      ],
    }));
    const started = performance.now();
    checkIr(buildRuleset(parseConfig({ farms })), T);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe("checkIr refuses rule text that would act outside its rule", () => {
  const cases: [string, string, RegExp[]][] = [
    ["flush ruleset smuggled in as a rule", "flush ruleset", [/word "flush"/, /word "ruleset"/]],
    ["a second command after ;", "accept; delete table inet filter", [/contains ";"/, /word "delete"/, /word "table"/]],
    ["a second command after a newline", "accept\ndelete table inet filter", [/line break/]],
    ["a carriage return", "accept\rdelete table inet filter", [/line break/]],
    ["a brace that closes the chain block", "accept } table inet filter { chain input { type filter hook input priority 0", [/contains "}"/, /contains "{"/]],
    ["a comment hiding the rest", "accept # and the rest", [/contains "#"/]],
    ["an nft variable", "ip saddr $trusted accept", [/contains "\$"/]],
    ["an include", 'include "/etc/nftables.conf"', [/word "include"/, /double quote/]],
    ["a define", "define x = 1", [/word "define"/]],
    ["a backslash (line continuation)", "accept \\", [/contains "\\"/]],
    ["a backtick", "accept `id`", [/contains "`"/]],
    ["a NUL", "accept\0delete", [/NUL/]],
    ["a tab", "ct mark\tset 1", [/control character U\+0009/]],
    ["an escape character", "accept\x1b[2J", [/control character U\+001B/]],
    ["a non-ASCII character", "accept \u2028 drop", [/non-ASCII character U\+2028/]],
    ["a single quote", "meta iifname 'eth0' accept", [/contains "'"/]],
    ["a quote that is not around an interface name", 'meta iifname "eth0 flush" accept', [/double quote/]],
    ["an unbalanced quote", 'fwd to "eth-b', [/double quote/]],
    ["a quoted name longer than an interface name", 'fwd to "abcdefghijklmnop"', [/double quote/]],
    ["a jump to another table's chain", "jump filter", [/jumps to "filter", which is not a chain of table inet switchyard/]],
    ["a goto to another table's chain", "ip daddr 198.18.1.1 goto input", [/jumps to "input", which is not a chain/]],
    ["a quoted jump target", 'jump "filter"', [/jumps to ""filter"", which is not a chain/]],
    ["a jump to a base chain", "jump prerouting", [/jumps to "prerouting", a base chain/]],
    ["a jump with no target", "ip daddr 198.18.1.1 jump", [/"jump" has no target chain/]],
    ["a foreign set", "ip saddr @blocklist drop", [/"@blocklist" is not a map of table inet switchyard/]],
    ["a raw payload expression (not a map)", "@th,0,16 80 accept", [/"@th,0,16" is not a map/]],
    ["a word glued to a number", "ct mark 1list", [/word "list"/]],
    ["a word after a colon", "ct mark x:reset", [/word "reset"/]],
    ["a word before a single colon (not an address)", "ct mark set 1 add:1", [/word "add"/]],
    ["insert / replace / create / add", "insert rule replace create add", [/"insert"/, /"replace"/, /"create"/, /"add"/]],
    ["an empty rule", "   ", [/is empty/]],
    ["a rule longer than 4096 characters", `ct mark set 0x1 ${"counter ".repeat(600)}`, [/characters long \(at most 4096\)/]],
  ];

  for (const [what, rule, reasons] of cases) {
    it(what, () => {
      const error = rejected(withRule(rule));
      const mine = error.reasons.filter((r) => r.startsWith(RULE_AT));
      expect(mine.length, error.message).toBeGreaterThan(0);
      for (const reason of reasons) expect(mine.some((r) => reason.test(r)), `${reason} in\n${error.message}`).toBe(true);
    });
  }

  it("names table, chain and rule, and quotes the rule", () => {
    const error = rejected(withRule("accept; delete table inet filter"));
    expect(error.name).toBe("IrRejected");
    expect(error.reasons[0]).toBe(`${RULE_AT} ("accept; delete table inet filter"): contains ";" (a statement separator)`);
    expect(error.reasons).toHaveLength(3);
    expect(error.message).toBe(error.reasons.join("\n"));
  });

  it("shows a rule with a line break escaped, and long rules cut short", () => {
    expect(rejected(withRule("accept\ndelete table inet filter")).reasons[0]).toContain('("accept\\ndelete table inet filter")');
    expect(rejected(withRule(`${"x".repeat(100)};`)).reasons[0]).toContain(`("${"x".repeat(57)}...")`);
  });

  it("lists every problem in `reasons` but at most 20 in the message", () => {
    const ir = base();
    chainOf(inet(ir), "farm-web-4").rules = Array.from({ length: 30 }, () => "jump filter");
    const error = rejected(ir);
    expect(error.reasons).toHaveLength(30);
    expect(error.message).toContain("(and 10 more)");
  });

  it("lets the renderer's quoted interface names through (fwd, iifname)", () => {
    const ir = withRule('meta iifname "eth-in.10" fwd to "eth-out"');
    expect(() => checkIr(ir, T)).not.toThrow();
  });
});

describe("checkIr refuses tables, chains and hooks that are not the agent's", () => {
  it("a table with another name (filter)", () => {
    const ir = base();
    inet(ir).name = "filter";
    expect(rejected(ir).reasons).toContain("table inet filter: is not the agent's table (switchyard)");
  });

  it("a table of family ip (not one the agent owns)", () => {
    const ir = base();
    (inet(ir) as { family: string }).family = "ip";
    const reasons = rejected(ir).reasons;
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/^table ip switchyard, family: .*inet.*netdev/);
  });

  it("two tables of one family", () => {
    const ir = base();
    ir.tables.push(structuredClone(inet(ir)));
    expect(rejected(ir).reasons).toContain("table inet switchyard: a second inet table (at most one per family)");
  });

  it("duplicate chain and map names", () => {
    const ir = base();
    inet(ir).chains.push({ name: "farm-web-4", rules: ["accept"] });
    inet(ir).maps.push({ name: "svc4-ports", key: "ipv4_addr", interval: false, elements: [] });
    const reasons = rejected(ir).reasons;
    expect(reasons).toContain("table inet switchyard, chain farm-web-4: is a duplicate chain name");
    expect(reasons).toContain("table inet switchyard, map svc4-ports: is a duplicate map name");
  });

  it("a nat chain in the netdev table, and a netdev chain on a hook other than ingress", () => {
    const ir = base();
    netdev(ir).chains.push({ name: "sneaky", hook: { type: "nat", hook: "prerouting", priority: -100 }, rules: [] });
    const reasons = rejected(ir).reasons.join("\n");
    expect(reasons).toContain("chain sneaky: hook type nat belongs in the inet table, not in netdev");
    expect(reasons).toContain("chain sneaky: hook prerouting is not a netdev hook (only ingress is)");
  });

  it("an ingress chain in inet, an ingress chain without device, a device that is not an interface name", () => {
    const ir = base();
    inet(ir).chains.push({ name: "in", hook: { type: "filter", hook: "ingress", priority: 0, device: "eth0" }, rules: [] });
    netdev(ir).chains.push({ name: "nodev", hook: { type: "filter", hook: "ingress", priority: 0 }, rules: [] });
    netdev(ir).chains.push({ name: "baddev", hook: { type: "filter", hook: "ingress", priority: 0, device: 'eth0" ; flush ruleset' }, rules: [] });
    const reasons = rejected(ir).reasons.join("\n");
    expect(reasons).toContain("table inet switchyard, chain in: hook ingress belongs in a netdev table, not in inet");
    expect(reasons).toContain("table inet switchyard, chain in: hook names a device");
    expect(reasons).toContain("table netdev switchyard, chain nodev: hook ingress needs a device");
    expect(reasons).toContain('table netdev switchyard, chain baddev: hook device "eth0\\" ; flush ruleset" is not an interface name');
  });

  it("a priority outside 32 bits", () => {
    const ir = base();
    (chainOf(inet(ir), "prerouting").hook as { priority: number }).priority = 2 ** 40;
    expect(rejected(ir).reasons.join("\n")).toContain("chain prerouting: hook priority 1099511627776 is not a 32-bit integer");
  });

  it("structure: unknown attributes, wrong types, names that are not identifiers, located by name", () => {
    const ir = base() as unknown as { tables: Record<string, unknown>[] };
    const table = ir.tables[0] as { chains: Record<string, unknown>[]; maps: Record<string, unknown>[] };
    (table.chains[3] as Record<string, unknown>).policy = "drop";
    (table.chains[0] as { rules: unknown[] }).rules[1] = 42;
    (table.maps[0] as Record<string, unknown>).name = "svc4 ports";
    const reasons = rejected(ir).reasons;
    expect(reasons).toHaveLength(3);
    expect(reasons.join("\n")).toMatch(/table inet switchyard, chain sched-web-4: .*policy/);
    expect(reasons.join("\n")).toMatch(/table inet switchyard, chain prerouting, rule 2: .*string/);
    expect(reasons.join("\n")).toMatch(/table inet switchyard, map svc4 ports, name: must be an nft identifier/);
  });

  it("not an object at all", () => {
    expect(rejected(null).reasons[0]).toMatch(/^ruleset: /);
    expect(rejected({ tables: "x" }).reasons[0]).toMatch(/^tables: /);
  });
});

describe("checkIr refuses map elements that are not plain keys and verdicts", () => {
  const cases: [string, string, string, RegExp][] = [
    ["a value that jumps to another table's chain", "tcp . 198.18.1.100 . 80", "goto filter", /value "goto filter": jumps to "filter", which is not a chain/],
    ["a value that jumps to a base chain", "tcp . 198.18.1.100 . 80", "jump postrouting", /value "jump postrouting": jumps to "postrouting", a base chain/],
    ["a value with a second command", "tcp . 198.18.1.100 . 80", "accept; flush ruleset", /value "accept; flush ruleset": contains ";"/],
    ["a value that is not a verdict", "tcp . 198.18.1.100 . 80", "queue", /value "queue": must be "goto <chain>"/],
    ["a verdict with extra words", "tcp . 198.18.1.100 . 80", "goto farm-web-4 extra", /must be "goto <chain>"/],
    ["a key that closes the element block", "tcp . 198.18.1.100 . 80 }", "accept", /key "tcp . 198.18.1.100 . 80 }": contains "}"/],
    ["a key that smuggles a second element", "tcp . 198.18.1.100 . 80 : accept, tcp . 198.18.1.9 . 22", "accept", /key .*: has 5 parts/],
    ["a key with a comma in a part", "tcp . 198.18.1.100 . 80,22", "accept", /a part is not an address, port, range, protocol or MAC/],
    ["a key with a newline", "tcp . 198.18.1.100 . 80\nflush ruleset", "accept", /line break/],
    ["a key with a forbidden word", "tcp . 198.18.1.100 . flush", "accept", /word "flush"/],
    ["an empty key", "", "accept", /key "": is empty/],
  ];
  for (const [what, key, value, reason] of cases) {
    it(what, () => {
      const reasons = rejected(withElement(key, value)).reasons;
      expect(reasons.every((r) => r.startsWith("table inet switchyard, map svc4-ports, element 1 ")), reasons.join("\n")).toBe(true);
      expect(reasons.some((r) => reason.test(r)), reasons.join("\n")).toBe(true);
    });
  }

  it("a duplicate key", () => {
    const ir = base();
    const map = mapOf(inet(ir), "svc4-ports");
    map.elements.push([map.elements[0]?.[0] as string, "drop"]);
    expect(rejected(ir).reasons.join("\n")).toMatch(/map svc4-ports, element 2 key "tcp . 198.18.1.100 . 80": is a duplicate key/);
  });

  it("accept, drop and return are plain verdicts; the netdev table's elements are checked against its own chains", () => {
    expect(() => checkIr(withElement("tcp . 198.18.1.100 . 80", "drop"), T)).not.toThrow();
    const ir = base();
    mapOf(netdev(ir), "svc4-proto-eth-in").elements[0] = ["tcp . 198.18.1.101", "goto farm-web-4"];
    expect(rejected(ir).reasons.join("\n")).toContain('table netdev switchyard, map svc4-proto-eth-in, element 1 value "goto farm-web-4": jumps to "farm-web-4", which is not a chain of table netdev switchyard');
  });
});

describe("checkIr: named counters", () => {
  it("the renderer's counters pass: one per backend, named by the farm's rules; the traffic sets' elements count for themselves", () => {
    const ir = base();
    expect(inet(ir).counters).toEqual(["c/web/a", "c/web/b"]);
    expect((inet(ir).maps.find((m) => m.name === "traffic4-ports") as IrMap).value).toBe("counted");
    expect(chainOf(inet(ir), "farm-web-4").rules.slice(1, -1).every((r) => / counter name c\/web\/[ab] dnat /.test(r))).toBe(true);
    expect(() => checkIr(ir, T)).not.toThrow();
  });

  it("an IR without counters (from before them) still passes", () => {
    const ir: IrRuleset = { tables: [{ family: "inet", name: T, maps: [], chains: [{ name: "c", rules: ["counter drop"] }] }] };
    expect(() => checkIr(ir, T)).not.toThrow();
  });

  it("refuses counter name pointing at a counter that is not the table's own", () => {
    expect(rejected(withRule("ct mark 0x80000001 counter name c/web/zzz dnat ip to 198.18.2.12")).reasons).toEqual([
      `${RULE_AT} ("ct mark 0x80000001 counter name c/web/zzz dnat ip to 198...."): "counter name c/web/zzz" is not a counter of table inet switchyard (only the table's own counters, by name)`,
    ]);
    // Another table's counter: the netdev table has none, and names are per table.
    const ir = base();
    const dev = netdev(ir);
    dev.chains[1] = { ...(dev.chains[1] as IrChain), rules: ["counter name c/web/a drop"] };
    expect(rejected(ir).reasons.join("\n")).toMatch(/table netdev switchyard, chain .*: "counter name c\/web\/a" is not a counter of table netdev switchyard/);
  });

  it("refuses counter name with no name, or with an expression (a counter map) instead of a name", () => {
    expect(rejected(withRule("counter name")).reasons.join("\n")).toContain('"counter name" has no counter');
    expect(rejected(withRule("counter name ip daddr map @svc4-ports")).reasons.join("\n")).toContain('"counter name … map @svc4-ports" looks a counter up in a map of verdicts');
    expect(rejected(withRule("counter name ip daddr")).reasons.join("\n")).toContain('"counter name" looks a counter up with no "map @name"');
    expect(rejected(withRule("counter name ct original ip daddr . ct reply ip saddr map @nope")).reasons.join("\n")).toContain('"@nope" is not a map of table inet switchyard');
  });

  it("passes a counter looked up in a counter map (an IR from before counted sets), and refuses a counter map's value that is not the table's counter", () => {
    const legacy = () => {
      const ir = base();
      const table = inet(ir);
      table.counters = [...(table.counters ?? []), "t/web/a"];
      table.maps = [...table.maps, { name: "old-traffic", key: "ipv4_addr . ipv4_addr", interval: false, value: "counter", elements: [["198.18.1.1 . 198.18.2.1", "t/web/a"]] }];
      return ir;
    };
    const ir = legacy();
    chainOf(inet(ir), "farm-web-4").rules[1] = "counter name ct original ip daddr . ct reply ip saddr map @old-traffic";
    expect(() => checkIr(ir, T)).not.toThrow();
    const wrong = legacy();
    (inet(wrong).maps.at(-1) as IrMap).elements.push(["198.18.1.2 . 198.18.2.1", "c/other/x"]);
    expect(rejected(wrong).reasons.join("\n")).toMatch(/map old-traffic, element 2 value "c\/other\/x": is not a counter of table inet switchyard/);
    // A counted set holds no counters by name: a `counter name … map` into it is refused.
    expect(rejected(withRule("counter name ct original ip daddr . ct reply ip saddr map @traffic4-addr")).reasons.join("\n")).toContain('"counter name … map @traffic4-addr" looks a counter up in a map of counteds');
  });

  it("a counted set: looked up by a rule, its elements' names are report names only, and must be counter names", () => {
    expect(() => checkIr(withRule("ct original ip daddr . ct reply ip saddr @traffic4-addr accept"), T)).not.toThrow();
    const ir = base();
    const map = inet(ir).maps.find((m) => m.name === "traffic4-ports") as IrMap;
    map.elements = [...map.elements, ["198.18.1.1 . tcp . 1 . 198.18.2.1 . 1", "t/not-a-counter-of/the-table"]];
    expect(() => checkIr(ir, T)).not.toThrow();
    map.elements = [...map.elements, ["198.18.1.1 . tcp . 2 . 198.18.2.1 . 2", "9 bad"]];
    expect(rejected(ir).reasons.join("\n")).toMatch(/map traffic4-ports, element \d+ value "9 bad": /);
  });

  it("refuses duplicate counters, command words and malformed names", () => {
    const dup = base();
    inet(dup).counters = [...(inet(dup).counters ?? []), "c/web/a"];
    expect(rejected(dup).reasons).toEqual(["table inet switchyard, counter c/web/a: is a duplicate counter name"]);
    const word = base();
    inet(word).counters = [...(inet(word).counters ?? []), "flush"];
    expect(rejected(word).reasons).toEqual(["table inet switchyard, counter flush: is an nft command word, not a name"]);
    for (const bad of ["x y", "x;flush ruleset", "1abc", "", "a".repeat(256), 'x"']) {
      const ir = base();
      inet(ir).counters = [...(inet(ir).counters ?? []), bad];
      expect(rejected(ir).reasons.join("\n"), bad).toMatch(/table inet switchyard, counter .*: must be a counter name/);
    }
  });
});

describe("referencesOf and textProblems", () => {
  it("finds jump and goto targets and @maps", () => {
    expect(referencesOf("meta l4proto . ip daddr . th dport vmap @svc4-ports")).toEqual({ chains: [], maps: ["svc4-ports"], counters: [] });
    expect(referencesOf("ip daddr 198.18.1.1 jump a ip saddr @s goto b")).toEqual({ chains: ["a", "b"], maps: ["s"], counters: [] });
  });

  it("finds the counters named by counter name, quoted or not", () => {
    expect(referencesOf("ct mark 0x1 counter name c/web/a dnat ip to 198.18.2.11")).toEqual({ chains: [], maps: [], counters: ["c/web/a"] });
    expect(referencesOf('counter name "x" counter packets 0 bytes 0 counter name')).toEqual({ chains: [], maps: [], counters: ["x", ""] });
  });

  it("has nothing to say about the renderer's statements", () => {
    expect(textProblems("ct mark set jhash ip6 saddr . th sport mod 2 seed 0x1234abcd offset 0x80000000")).toEqual([]);
    expect(textProblems("meta mark 0x00000001 ether saddr set 02:00:00:00:01:02 ether daddr set 02:00:00:00:00:ad fwd to \"eth-out\"")).toEqual([]);
    expect(textProblems("meta l4proto tcp dnat ip6 to [2001:db8:2::add]:8080")).toEqual([]);
  });
});

describe("textProblems: plain texts cleared first", () => {
  it("finds what the exhaustive check finds, over random texts of words, addresses, separators and quotes", () => {
    const piece = fc.constantFrom(
      ..."table flush delete add insert replace ruleset reset list import export define include monitor rename create destroy undefine redefine".split(" "),
      ...["TABLE", "Flush", "daddr", "saddr", "addr", "ip", "ct", "mark", "counter", "name", "c/web/a", "goto", "jump", "farm-web-4", "@svc4-ports"],
      ...["198.18.2.11", "2001:db8::add", "2001:db8::1", "02:00:00:00:00:01", "80", "8000-8100", "0x40000000", "9add", "x-add", "a.add", "add.", "_add", "/add", ":add"],
      ...[" ", " ", " ", ":", ".", "-", "/", "_", ";", "#", "{", "}", "\\", "`", "$", "'", '"', '"eth0"', "\n", "\t", "\u0000", "\u00e9", "\u212a"],
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const text = pieces.join("");
        expect(textProblems(text)).toEqual([...findTextProblems(text)]);
      }),
      { numRuns: 5000 },
    );
  });
});

