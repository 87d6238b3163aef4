import { describe, expect, it } from "vitest";
import { safeParseConfig } from "../nftlb/codec.ts";
import { BackendSchema, FarmSchema, MAX_BACKENDS, type Config } from "./farm.ts";
import type { ConfigIssue } from "./issues.ts";

// The schema seen through safeParseConfig, which is how every caller reaches it: the
// located issues (farm, backend, field, value, message) are part of the contract.

function ok(raw: unknown): Config {
  const result = safeParseConfig(raw);
  if (!result.ok) throw new Error(`expected the config to be valid, got:\n${JSON.stringify(result.issues, null, 2)}`);
  return result.config;
}

function issues(raw: unknown): ConfigIssue[] {
  const result = safeParseConfig(raw);
  if (result.ok) throw new Error(`expected the config to be refused, got ${JSON.stringify(result.config)}`);
  return result.issues;
}

const farm = (extra: Record<string, unknown> = {}) => ({ name: "web", "virtual-addr": "198.18.1.100", "virtual-ports": "80", ...extra });
const backend = (extra: Record<string, unknown> = {}) => ({ name: "b1", "ip-addr": "198.18.2.11", ...extra });
const one = (f: Record<string, unknown>) => ({ farms: [f] });

describe("defaults, as nftlb's", () => {
  it("fills a minimal farm and backend with nftlb's defaults", () => {
    const config = ok(one({ name: "web", "virtual-addr": "198.18.1.100", backends: [backend()] }));
    expect(config.farms[0]).toEqual({
      name: "web",
      family: "ipv4",
      "virtual-addr": "198.18.1.100",
      "virtual-ports": "",
      mode: "snat",
      protocol: "tcp",
      scheduler: "rr",
      "sched-param": [],
      priority: 1,
      state: "up",
      backends: [{ name: "b1", "ip-addr": "198.18.2.11", port: null, weight: 1, priority: 1, state: "up" }],
    });
  });

  it("takes an absent farm list as no farms", () => {
    expect(ok({})).toEqual({ farms: [] });
    expect(ok({ farms: [] })).toEqual({ farms: [] });
  });
});

describe("values as strings (nftlb's way) or as numbers", () => {
  it("reads integers, ports and virtual ports from strings", () => {
    const config = ok(
      one(farm({ "virtual-ports": "443,80", priority: "2", backends: [backend({ weight: "5", priority: "3", port: "8080" })] })),
    );
    const f = config.farms[0]!;
    expect(f.priority).toBe(2);
    expect(f["virtual-ports"]).toBe("80,443");
    expect(f.backends[0]).toMatchObject({ weight: 5, priority: 3, port: 8080 });
  });

  it("reads the same values from numbers, to the same model", () => {
    const fromNumbers = ok(one(farm({ "virtual-ports": 80, priority: 2, backends: [backend({ weight: 5, priority: 3, port: 8080 })] })));
    const fromStrings = ok(one(farm({ "virtual-ports": "80", priority: "2", backends: [backend({ weight: "5", priority: "3", port: "8080" })] })));
    expect(fromNumbers).toEqual(fromStrings);
    expect(fromNumbers.farms[0]!.backends[0]!.weight).toBe(5);
  });

  it("reads an empty backend port as 'keep the destination port'", () => {
    expect(ok(one(farm({ backends: [backend({ port: "" })] }))).farms[0]!.backends[0]!.port).toBeNull();
  });

  it("reads sched-param words separated by blanks or commas, ignoring none, in a fixed order", () => {
    expect(ok(one(farm({ scheduler: "hash", "sched-param": "srcport, srcip" }))).farms[0]!["sched-param"]).toEqual(["srcip", "srcport"]);
    expect(ok(one(farm({ scheduler: "hash", "sched-param": "none" }))).farms[0]!["sched-param"]).toEqual([]);
  });

  it("canonicalizes addresses and lower-cases MACs", () => {
    const config = ok(
      one({
        name: "v6",
        family: "ipv6",
        "virtual-addr": "2001:DB8:1:0:0:0:0:100",
        mode: "dsr",
        iface: "eth0",
        "ether-addr": "02:00:00:00:01:0A",
        backends: [backend({ "ip-addr": "2001:db8:2:0::11", "ether-addr": "02:00:00:00:00:0B" })],
      }),
    );
    const f = config.farms[0]!;
    expect(f["virtual-addr"]).toBe("2001:db8:1::100");
    expect(f["ether-addr"]).toBe("02:00:00:00:01:0a");
    expect(f.backends[0]!["ip-addr"]).toBe("2001:db8:2::11");
    expect(f.backends[0]!["ether-addr"]).toBe("02:00:00:00:00:0b");
  });

  it("refuses integers that are not whole or out of range", () => {
    for (const weight of ["0", "10001", "1.5", "five", 0, 2.5, -1]) {
      const found = issues(one(farm({ backends: [backend({ weight })] })));
      expect(found, String(weight)).toEqual([
        { farm: "web", backend: "b1", field: "weight", value: weight, message: "must be an integer from 1 to 10000" },
      ]);
    }
  });
});

describe("nftlb 1.0 attributes that are not supported yet", () => {
  const disabledFarm = {
    helper: "none",
    log: "none",
    "log-rtlimit": "0",
    mark: "0x0",
    "est-connlimit": "0",
    "new-rtlimit": "0",
    "new-rtlimit-burst": "0",
    "rst-rtlimit": "0",
    "rst-rtlimit-burst": "0",
    "tcp-strict": "off",
    persistence: "none",
    queue: "-1",
    "intra-connect": "off",
    "flow-offload": "off",
    "source-addr": "",
    policies: [],
    sessions: [],
    addresses: [],
    "log-prefix": "l4:web ",
    "persist-ttl": "60",
    "limits-ttl": "120",
  };
  const disabledBackend = { mark: "0x0", "est-connlimit": "0", "source-addr": "", "est-connlimit-log-prefix": "x " };

  it("accepts them at nftlb's disabled values and drops them from the model", () => {
    const config = ok(one(farm({ ...disabledFarm, backends: [backend(disabledBackend)] })));
    const plain = ok(one(farm({ backends: [backend()] })));
    expect(config).toEqual(plain);
  });

  it("accepts zero however nftlb spells it, and numbers", () => {
    for (const mark of ["0", "0x0", "0x00000000", 0]) ok(one(farm({ mark, "est-connlimit": 0 })));
  });

  it("refuses each of them when enabled, with 'not supported yet'", () => {
    const enabled: [string, unknown][] = [
      ["helper", "ftp"],
      ["log", "input"],
      ["mark", "0x1"],
      ["est-connlimit", "5"],
      ["new-rtlimit", "10"],
      ["tcp-strict", "on"],
      ["persistence", "srcip"],
      ["queue", "0"],
      ["intra-connect", "on"],
      ["source-addr", "198.18.1.1"],
      ["policies", [{ name: "blacklist" }]],
      ["addresses", [{ name: "a2" }]],
    ];
    for (const [field, value] of enabled) {
      const found = issues(one(farm({ [field]: value })));
      expect(found, field).toHaveLength(1);
      expect(found[0], field).toMatchObject({ farm: "web", field });
      expect(found[0]!.message, field).toMatch(/^not supported yet/);
      if (typeof value !== "object") expect(found[0]!.value).toBe(value);
    }
    const onBackend = issues(one(farm({ backends: [backend({ mark: "0x200" })] })));
    expect(onBackend).toHaveLength(1);
    expect(onBackend[0]).toMatchObject({ farm: "web", backend: "b1", field: "mark", value: "0x200" });
    expect(onBackend[0]!.message).toMatch(/^not supported yet/);
  });

  it("says which value would be accepted", () => {
    const [found] = issues(one(farm({ helper: "sip" })));
    expect(found!.message).toBe('not supported yet (accepted only when off: "none")');
    const [list] = issues(one(farm({ policies: [{ name: "blacklist" }] })));
    expect(list!.message).toBe("not supported yet (accepted only when off: [])");
  });
});

describe("errors name farm, backend, field, value and reason", () => {
  it("a backend of the wrong family", () => {
    expect(issues(one(farm({ backends: [backend(), backend({ name: "b2", "ip-addr": "2001:db8::2" })] })))).toEqual([
      { farm: "web", backend: "b2", field: "ip-addr", value: "2001:db8::2", message: "is an IPv6 address but the farm's family is ipv4" },
    ]);
    expect(
      issues(one({ name: "v6", family: "ipv6", "virtual-addr": "2001:db8:1::100", backends: [backend({ "ip-addr": "198.18.2.11" })] })),
    ).toEqual([{ farm: "v6", backend: "b1", field: "ip-addr", value: "198.18.2.11", message: "is an IPv4 address but the farm's family is ipv6" }]);
  });

  it("a virtual address of the wrong family", () => {
    const [found] = issues(one(farm({ family: "ipv6" })));
    expect(found).toMatchObject({ farm: "web", field: "virtual-addr", value: "198.18.1.100" });
    expect(found!.message).toContain("IPv4 address but the farm's family is ipv6");
  });

  it("a backend port out of range", () => {
    for (const port of ["0", "65536", 70000, "http"]) {
      expect(issues(one(farm({ backends: [backend({ port })] }))), String(port)).toEqual([
        { farm: "web", backend: "b1", field: "port", value: port, message: "must be a port from 1 to 65535, or empty to keep the destination port" },
      ]);
    }
  });

  it("virtual ports out of range or malformed", () => {
    expect(issues(one(farm({ "virtual-ports": "80,65536" })))).toEqual([
      { farm: "web", field: "virtual-ports", value: "80,65536", message: "port 65536 is out of range 1-65535" },
    ]);
    expect(issues(one(farm({ "virtual-ports": "90-80" })))[0]!.message).toBe("range 90-80 ends before it starts");
  });

  it("a duplicate farm name", () => {
    expect(issues({ farms: [farm(), farm({ "virtual-ports": "81" })] })).toEqual([
      { farm: "web", field: "name", value: "web", message: "is a duplicate farm name (farm #1 has it too)" },
    ]);
  });

  it("a duplicate backend name", () => {
    expect(issues(one(farm({ backends: [backend(), backend({ "ip-addr": "198.18.2.12" })] })))).toEqual([
      { farm: "web", backend: "b1", field: "name", value: "b1", message: "is a duplicate backend name in this farm" },
    ]);
  });

  it('"protocol": "80"', () => {
    expect(issues(one(farm({ protocol: "80" })))).toEqual([
      { farm: "web", field: "protocol", value: "80", message: "must be one of tcp, udp, sctp, all" },
    ]);
  });

  it("enum values of every kind", () => {
    expect(issues(one(farm({ family: "inet" })))[0]).toMatchObject({ field: "family", value: "inet", message: "must be one of ipv4, ipv6, dual" });
    expect(issues(one(farm({ mode: "masq" })))[0]).toMatchObject({ field: "mode", value: "masq", message: "must be one of snat, dnat, dsr" });
    expect(issues(one(farm({ mode: "stlsdnat" })))[0]).toMatchObject({
      field: "mode",
      value: "stlsdnat",
      message: "not supported yet (nftlb's stlsdnat mode); use one of snat, dnat, dsr",
    });
    expect(issues(one(farm({ scheduler: "lc" })))[0]).toMatchObject({ field: "scheduler", message: "must be one of weight, rr, hash, symhash" });
    expect(issues(one(farm({ backends: [backend({ state: "config_error" })] })))[0]).toMatchObject({
      backend: "b1",
      field: "state",
      message: "must be one of up, down, off",
    });
    expect(issues(one(farm({ "sched-param": "srcip foo" })))[0]!.message).toMatch(/^unknown field foo;/);
  });

  it("an unknown attribute, on a farm, a backend and the root", () => {
    expect(issues(one(farm({ "virtual-port": "80" })))).toEqual([
      { farm: "web", field: "virtual-port", value: "80", message: "unknown attribute" },
    ]);
    expect(issues(one(farm({ backends: [backend({ wieght: "2" })] })))).toEqual([
      { farm: "web", backend: "b1", field: "wieght", value: "2", message: "unknown attribute" },
    ]);
    expect(issues({ farms: [], policies: [] })).toEqual([{ field: "policies", value: [], message: "unknown attribute" }]);
  });

  it("a missing name or address", () => {
    expect(issues(one({ "virtual-addr": "198.18.1.100" }))).toEqual([{ farm: "#1", field: "name", message: "is required" }]);
    expect(issues(one({ name: "web" }))).toEqual([{ farm: "web", field: "virtual-addr", message: "is required" }]);
    expect(issues(one(farm({ backends: [{ name: "b1" }] })))).toEqual([{ farm: "web", backend: "b1", field: "ip-addr", message: "is required" }]);
  });

  it("names outside the safe alphabet and addresses that are not addresses", () => {
    expect(issues(one(farm({ name: "web farm" })))[0]).toMatchObject({ farm: "web farm", field: "name", value: "web farm" });
    expect(issues(one(farm({ name: "-web" })))[0]!.field).toBe("name");
    expect(issues(one(farm({ "virtual-addr": "198.18.1.300" })))).toEqual([
      { farm: "web", field: "virtual-addr", value: "198.18.1.300", message: "must be an IPv4 or IPv6 address" },
    ]);
  });

  it("dual family without virtual-addr6, or with one that is not IPv6", () => {
    expect(issues(one(farm({ family: "dual" })))).toEqual([
      { farm: "web", field: "virtual-addr6", message: "is required for family dual (the farm's IPv6 address)" },
    ]);
    expect(issues(one(farm({ family: "dual", "virtual-addr6": "198.18.1.101" })))).toEqual([
      { farm: "web", field: "virtual-addr6", value: "198.18.1.101", message: "must be an IPv6 address" },
    ]);
    const [wrongV4] = issues(one(farm({ family: "dual", "virtual-addr": "2001:db8::1", "virtual-addr6": "2001:db8::2" })));
    expect(wrongV4).toMatchObject({ farm: "web", field: "virtual-addr", value: "2001:db8::1" });
    expect(wrongV4!.message).toContain("virtual-addr6");
  });

  it("virtual-addr6 on a farm that is not dual", () => {
    expect(issues(one(farm({ "virtual-addr6": "2001:db8::1" })))).toEqual([
      { farm: "web", field: "virtual-addr6", value: "2001:db8::1", message: "is only for family dual; this farm's family is ipv4" },
    ]);
  });

  it("a dual farm takes backends of both families", () => {
    const config = ok(
      one(farm({ family: "dual", "virtual-addr6": "2001:db8::100", backends: [backend(), backend({ name: "b6", "ip-addr": "2001:db8::11" })] })),
    );
    expect(config.farms[0]!.backends.map((b) => b["ip-addr"])).toEqual(["198.18.2.11", "2001:db8::11"]);
  });

  it("protocol all with ports, and with a backend port", () => {
    expect(issues(one(farm({ protocol: "all", "virtual-ports": "80" })))).toEqual([
      {
        farm: "web",
        field: "virtual-ports",
        value: "80",
        message: "must be empty when protocol is all: the farm then takes every protocol and port of its address",
      },
    ]);
    expect(issues(one(farm({ protocol: "all", "virtual-ports": "", backends: [backend({ port: "8080" })] })))).toEqual([
      {
        farm: "web",
        backend: "b1",
        field: "port",
        value: "8080",
        message: "must be empty when the farm's protocol is all: only a tcp, udp or sctp farm can change the port",
      },
    ]);
    ok(one(farm({ protocol: "all", "virtual-ports": "", backends: [backend()] })));
  });

  it("an IPv6 hash key longer than nft can hash (48 bytes)", () => {
    const six = { family: "ipv6", "virtual-addr": "2001:db8:1::100", scheduler: "hash" };
    expect(issues(one(farm({ ...six, "sched-param": "srcip dstip srcport srcmac dstmac" })))).toEqual([
      {
        farm: "web",
        field: "sched-param",
        value: "srcip dstip srcport srcmac dstmac",
        message: "makes a 52-byte hash key for IPv6 but nft hashes at most 48 bytes: leave out a port or a MAC field",
      },
    ]);
    const [dual] = issues(
      one(farm({ family: "dual", "virtual-addr6": "2001:db8::1", scheduler: "hash", "sched-param": "srcip dstip srcport dstport srcmac dstmac" })),
    );
    expect(dual).toMatchObject({ farm: "web", field: "sched-param" });
    expect(dual!.message).toMatch(/^makes a 56-byte hash key for IPv6/);
    // 48 bytes is fine; so is any key for IPv4 (at most 32 bytes), and any sched-param when the scheduler does not hash it.
    ok(one(farm({ ...six, "sched-param": "srcip dstip srcport dstport srcmac" })));
    ok(one(farm({ ...six, "sched-param": "srcip dstip srcmac dstmac" })));
    ok(one(farm({ scheduler: "hash", "sched-param": "srcip dstip srcport dstport srcmac dstmac" })));
    ok(one(farm({ ...six, scheduler: "symhash", "sched-param": "srcip dstip srcport dstport srcmac dstmac" })));
  });

  it("dsr without iface, and a dsr backend with a port", () => {
    expect(issues(one(farm({ mode: "dsr" })))).toEqual([
      { farm: "web", field: "iface", message: "is required in dsr mode: the interface on which the virtual address arrives" },
    ]);
    expect(issues(one(farm({ mode: "dsr", iface: "eth0", backends: [backend({ port: "8080" })] })))).toEqual([
      {
        farm: "web",
        backend: "b1",
        field: "port",
        value: "8080",
        message: "must be empty in dsr mode: frames are forwarded unchanged, so the backend port is the virtual port",
      },
    ]);
    ok(one(farm({ mode: "dsr", iface: "eth0", backends: [backend()] })));
  });

  it("reports every problem of a farm at once", () => {
    const found = issues(
      one(farm({ mode: "dsr", backends: [backend({ port: "80" }), backend({ name: "b1", "ip-addr": "2001:db8::1" })] })),
    );
    expect(found.map((i) => [i.backend, i.field])).toEqual([
      [undefined, "iface"],
      ["b1", "port"],
      ["b1", "name"],
      ["b1", "ip-addr"],
    ]);
  });

  it("caps the number of backends", () => {
    const many = Array.from({ length: MAX_BACKENDS + 1 }, (_, i) => backend({ name: `b${i}`, "ip-addr": `198.18.${2 + (i >> 8)}.${i & 255}` }));
    const found = issues(one(farm({ backends: many })));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ farm: "web", field: "backends" });
  });
});

describe("two farms claiming the same service", () => {
  const pair = (a: Record<string, unknown>, b: Record<string, unknown>) => ({
    farms: [farm({ name: "web", ...a }), farm({ name: "api", ...b })],
  });

  it("refuses overlapping ports on the same protocol and address, naming the port and the other farm", () => {
    expect(issues(pair({ "virtual-ports": "80,443" }, { "virtual-ports": "443" }))).toEqual([
      { farm: "api", field: "virtual-ports", value: "443", message: 'port 443 of tcp 198.18.1.100 is already served by farm "web"' },
    ]);
    expect(issues(pair({ "virtual-ports": "8000-8100" }, { "virtual-ports": "8050-9000" }))[0]!.message).toBe(
      'ports 8050-8100 of tcp 198.18.1.100 are already served by farm "web"',
    );
  });

  it("sees one address through its different spellings", () => {
    const found = issues(
      pair({ family: "ipv6", "virtual-addr": "2001:db8:0:0::100" }, { family: "ipv6", "virtual-addr": "2001:DB8::100" }),
    );
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toBe('port 80 of tcp 2001:db8::100 is already served by farm "web"');
  });

  it("checks a dual farm's IPv6 address too", () => {
    const found = issues(
      pair({ family: "dual", "virtual-addr6": "2001:db8::100" }, { family: "ipv6", "virtual-addr": "2001:db8::100" }),
    );
    expect(found).toEqual([
      { farm: "api", field: "virtual-ports", value: "80", message: 'port 80 of tcp 2001:db8::100 is already served by farm "web"' },
    ]);
  });

  it("refuses two farms on every port of the same protocol and address", () => {
    expect(issues(pair({ "virtual-ports": "" }, { "virtual-ports": "" }))).toEqual([
      { farm: "api", field: "virtual-ports", value: "", message: 'every port of tcp 198.18.1.100 is already served by farm "web"' },
    ]);
    expect(issues(pair({ protocol: "all", "virtual-ports": "" }, { protocol: "all", "virtual-ports": "" }))[0]!.message).toBe(
      'every port of all 198.18.1.100 is already served by farm "web"',
    );
  });

  it("accepts a farm on every port beside a farm on some ports (the more specific wins)", () => {
    ok(pair({ "virtual-ports": "" }, { "virtual-ports": "80" }));
    ok(pair({ "virtual-ports": "80" }, { "virtual-ports": "" }));
    ok(pair({ protocol: "all", "virtual-ports": "" }, { "virtual-ports": "80" }));
  });

  it("accepts disjoint ports, other protocols and other addresses", () => {
    ok(pair({ "virtual-ports": "80" }, { "virtual-ports": "443" }));
    ok(pair({ "virtual-ports": "1000-2000" }, { "virtual-ports": "2001-3000" }));
    ok(pair({ protocol: "tcp" }, { protocol: "udp" }));
    ok(pair({}, { "virtual-addr": "198.18.1.101" }));
  });
});

describe("the schemas on their own", () => {
  it("BackendSchema and FarmSchema parse one object", () => {
    expect(BackendSchema.parse(backend({ weight: "3" }))).toMatchObject({ weight: 3, priority: 1, state: "up", port: null });
    expect(FarmSchema.parse(farm()).scheduler).toBe("rr");
    expect(FarmSchema.safeParse(farm({ protocol: "icmp" })).success).toBe(false);
  });
});
