import { describe, expect, it } from "vitest";
import { ConfigError, formatIssue } from "../model/issues.ts";
import { parseConfig, parseNftlbJson, safeParseConfig, toNftlb } from "./codec.ts";

/**
 * A configuration as nftlb writes it on `GET /farms`: every value a string, and its 1.0
 * attributes spelled out at their disabled values (source-addr "", mark "0x0", queue "-1",
 * est-connlimit "0", policies [] ...). The attribute set and order follow nftlb's dump.
 */
const NFTLB_DUMP = `{
        "farms": [
                {
                        "name": "web",
                        "family": "ipv4",
                        "virtual-addr": "198.18.1.100",
                        "virtual-ports": "80,443",
                        "source-addr": "",
                        "mode": "snat",
                        "protocol": "tcp",
                        "scheduler": "weight",
                        "sched-param": "none",
                        "persistence": "none",
                        "persist-ttl": "60",
                        "helper": "none",
                        "log": "none",
                        "log-rtlimit": "0",
                        "mark": "0x0",
                        "priority": "1",
                        "state": "up",
                        "limits-ttl": "120",
                        "new-rtlimit": "0",
                        "new-rtlimit-burst": "0",
                        "rst-rtlimit": "0",
                        "rst-rtlimit-burst": "0",
                        "est-connlimit": "0",
                        "tcp-strict": "off",
                        "queue": "-1",
                        "intra-connect": "off",
                        "backends": [
                                {
                                        "name": "bck0",
                                        "ip-addr": "198.18.2.11",
                                        "port": "8080",
                                        "source-addr": "",
                                        "weight": "5",
                                        "priority": "1",
                                        "mark": "0x0",
                                        "est-connlimit": "0",
                                        "state": "up"
                                },
                                {
                                        "name": "bck1",
                                        "ip-addr": "198.18.2.12",
                                        "port": "",
                                        "source-addr": "",
                                        "weight": "1",
                                        "priority": "2",
                                        "mark": "0x0",
                                        "est-connlimit": "0",
                                        "state": "down"
                                }
                        ],
                        "policies": []
                },
                {
                        "name": "dns6",
                        "family": "ipv6",
                        "virtual-addr": "2001:db8:1::100",
                        "virtual-ports": "53",
                        "source-addr": "",
                        "mode": "dsr",
                        "iface": "eth0",
                        "oface": "eth1",
                        "ether-addr": "02:00:00:00:01:01",
                        "protocol": "udp",
                        "scheduler": "hash",
                        "sched-param": "srcip srcport",
                        "persistence": "none",
                        "persist-ttl": "60",
                        "helper": "none",
                        "log": "none",
                        "mark": "0x0",
                        "priority": "1",
                        "state": "off",
                        "new-rtlimit": "0",
                        "new-rtlimit-burst": "0",
                        "rst-rtlimit": "0",
                        "rst-rtlimit-burst": "0",
                        "est-connlimit": "0",
                        "tcp-strict": "off",
                        "queue": "-1",
                        "backends": [
                                {
                                        "name": "a",
                                        "ip-addr": "2001:db8:2::11",
                                        "ether-addr": "02:00:00:00:00:0A",
                                        "port": "",
                                        "weight": "1",
                                        "priority": "1",
                                        "mark": "0x0",
                                        "est-connlimit": "0",
                                        "state": "up"
                                }
                        ],
                        "policies": []
                }
        ]
}`;

describe("parseNftlbJson", () => {
  it("accepts a configuration as nftlb itself writes it", () => {
    const config = parseNftlbJson(NFTLB_DUMP);
    expect(config.farms.map((f) => f.name)).toEqual(["web", "dns6"]);
    const [web, dns6] = config.farms;
    expect(web).toEqual({
      name: "web",
      family: "ipv4",
      "virtual-addr": "198.18.1.100",
      "virtual-ports": "80,443",
      mode: "snat",
      protocol: "tcp",
      scheduler: "weight",
      "sched-param": [],
      priority: 1,
      state: "up",
      backends: [
        { name: "bck0", "ip-addr": "198.18.2.11", port: 8080, weight: 5, priority: 1, state: "up" },
        { name: "bck1", "ip-addr": "198.18.2.12", port: null, weight: 1, priority: 2, state: "down" },
      ],
    });
    expect(dns6).toMatchObject({
      family: "ipv6",
      mode: "dsr",
      iface: "eth0",
      oface: "eth1",
      "ether-addr": "02:00:00:00:01:01",
      scheduler: "hash",
      "sched-param": ["srcip", "srcport"],
      state: "off",
    });
    expect(dns6!.backends[0]!["ether-addr"]).toBe("02:00:00:00:00:0a");
  });

  it("refuses text that is not JSON with a ConfigError that says so", () => {
    let thrown: unknown;
    try {
      parseNftlbJson('{"farms": [');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const issue = (thrown as ConfigError).issues[0]!;
    expect(issue.field).toBe("");
    expect(issue.message).toMatch(/^not valid JSON: /);
    expect((thrown as ConfigError).message).toBe(`: ${issue.message}`);
  });
});

describe("parseConfig and safeParseConfig", () => {
  const bad = {
    farms: [
      {
        name: "web",
        "virtual-addr": "198.18.1.100",
        "virtual-ports": "80",
        backends: [
          { name: "b1", "ip-addr": "198.18.2.11" },
          { name: "b2", "ip-addr": "2001:db8::2" },
        ],
      },
      { name: "dns", "virtual-addr": "198.18.1.100", protocol: "80" },
    ],
  };

  it("throws a ConfigError holding every issue, one formatted line each", () => {
    let thrown: unknown;
    try {
      parseConfig(bad);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const error = thrown as ConfigError;
    expect(error.name).toBe("ConfigError");
    expect(error.issues).toHaveLength(2);
    expect(error.message).toBe(
      [
        `farm "web", backend "b2", ip-addr = "2001:db8::2": is an IPv6 address but the farm's family is ipv4`,
        `farm "dns", protocol = "80": must be one of tcp, udp, sctp, all`,
      ].join("\n"),
    );
  });

  it("safeParseConfig returns the same issues without throwing", () => {
    const result = safeParseConfig(bad);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map(formatIssue)).toHaveLength(2);
  });

  it("refuses a root that is not an object", () => {
    for (const raw of [null, [], "farms", 42]) expect(safeParseConfig(raw).ok, JSON.stringify(raw)).toBe(false);
  });
});

describe("formatIssue", () => {
  it("writes farm, backend, field, value and reason in the operator's words", () => {
    expect(formatIssue({ farm: "web", backend: "b2", field: "ip-addr", value: "2001:db8::2", message: "is an IPv6 address but the farm's family is ipv4" })).toBe(
      'farm "web", backend "b2", ip-addr = "2001:db8::2": is an IPv6 address but the farm\'s family is ipv4',
    );
  });

  it("leaves out what the issue does not have, and writes numbers as numbers", () => {
    expect(formatIssue({ farm: "web", field: "virtual-addr6", message: "is required" })).toBe('farm "web", virtual-addr6: is required');
    expect(formatIssue({ farm: "web", field: "priority", value: 0, message: "too low" })).toBe('farm "web", priority = 0: too low');
    expect(formatIssue({ field: "", message: "not valid JSON" })).toBe(": not valid JSON");
  });

  it("is what the parser reports for a port conflict", () => {
    const result = safeParseConfig({
      farms: [
        { name: "web", "virtual-addr": "198.18.1.100", "virtual-ports": "80,443" },
        { name: "api", "virtual-addr": "198.18.1.100", "virtual-ports": "443" },
      ],
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issues.map(formatIssue)).toEqual([
        'farm "api", virtual-ports = "443": port 443 of tcp 198.18.1.100 is already served by farm "web"',
      ]);
    }
  });
});

describe("toNftlb", () => {
  const input = {
    farms: [
      {
        name: "web",
        "virtual-addr": "198.18.1.100",
        "virtual-ports": 80,
        scheduler: "weight",
        priority: 2,
        backends: [
          { name: "b1", "ip-addr": "198.18.2.11", port: 8080, weight: 3, priority: 1 },
          { name: "b2", "ip-addr": "198.18.2.12", weight: "2", priority: "2", state: "off" },
        ],
      },
      {
        name: "dns",
        family: "dual",
        "virtual-addr": "198.18.1.100",
        "virtual-addr6": "2001:DB8:1:0::100",
        "virtual-ports": "53, 5353-5354",
        protocol: "udp",
        mode: "dnat",
        scheduler: "hash",
        "sched-param": "srcport srcip",
        backends: [
          { name: "a", "ip-addr": "198.18.2.11" },
          { name: "a6", "ip-addr": "2001:db8:2:0:0:0:0:11" },
        ],
      },
      {
        name: "fast",
        family: "ipv4",
        "virtual-addr": "198.18.1.101",
        mode: "dsr",
        protocol: "all",
        iface: "eth0",
        oface: "eth1",
        "ether-addr": "02:00:00:00:01:01",
        state: "down",
        backends: [{ name: "x", "ip-addr": "198.18.2.13", "ether-addr": "02:00:00:00:00:0D" }],
      },
    ],
  };

  it("writes every value as a string, in nftlb's style", () => {
    const out = toNftlb(parseConfig(input));
    const strings = (value: unknown, path: string): void => {
      if (Array.isArray(value)) value.forEach((v, i) => strings(v, `${path}.${i}`));
      else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) strings(v, `${path}.${k}`);
      else expect(typeof value, path).toBe("string");
    };
    for (const [i, f] of out.farms.entries()) {
      for (const [key, value] of Object.entries(f)) {
        if (key === "backends") strings(value, `farms.${i}.backends`);
        else expect(typeof value, `farms.${i}.${key}`).toBe("string");
      }
    }
    expect(out.farms[0]).toEqual({
      name: "web",
      family: "ipv4",
      "virtual-addr": "198.18.1.100",
      "virtual-ports": "80",
      mode: "snat",
      protocol: "tcp",
      scheduler: "weight",
      "sched-param": "none",
      priority: "2",
      state: "up",
      backends: [
        { name: "b1", "ip-addr": "198.18.2.11", port: "8080", weight: "3", priority: "1", state: "up" },
        { name: "b2", "ip-addr": "198.18.2.12", port: "", weight: "2", priority: "2", state: "off" },
      ],
    });
    expect(out.farms[1]).toMatchObject({
      family: "dual",
      "virtual-addr6": "2001:db8:1::100",
      "virtual-ports": "53,5353-5354",
      "sched-param": "srcip srcport",
    });
    expect(out.farms[2]).toMatchObject({ iface: "eth0", oface: "eth1", "ether-addr": "02:00:00:00:01:01", "virtual-ports": "" });
    expect(out.farms[2]!.backends).toEqual([
      { name: "x", "ip-addr": "198.18.2.13", port: "", weight: "1", priority: "1", state: "up", "ether-addr": "02:00:00:00:00:0d" },
    ]);
  });

  it("round trips: what it writes parses back to the same model", () => {
    const model = parseConfig(input);
    const written = toNftlb(model);
    expect(parseConfig(written)).toEqual(model);
    // And through JSON text, as the file nftlb would read.
    expect(parseNftlbJson(JSON.stringify(written))).toEqual(model);
    // Writing is stable: the second write is the first.
    expect(toNftlb(parseConfig(written))).toEqual(written);
  });

  it("round trips nftlb's own dump, dropping only the disabled attributes", () => {
    const model = parseNftlbJson(NFTLB_DUMP);
    expect(parseConfig(toNftlb(model))).toEqual(model);
    const raw = JSON.parse(NFTLB_DUMP) as { farms: Record<string, unknown>[] };
    const written = toNftlb(model);
    expect(Object.keys(written.farms[0]!)).not.toContain("mark");
    expect(written.farms[0]!["virtual-ports"]).toBe(raw.farms[0]!["virtual-ports"]);
  });
});
