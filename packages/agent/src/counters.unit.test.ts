import { buildRuleset, parseConfig, type CounterValue } from "@switchyard/core";
import { describe, expect, it } from "vitest";
import { Applier } from "./applier.ts";
import { countersMetrics, farmCounters } from "./counters.ts";
import { addCountedValues, countedSets, kernelKey, listedKey } from "./counted-elements.ts";
import { NftDriver, parseCounterListing, parseSetCounterListing } from "./nft/driver.ts";
import type { NftRunner, RunResult } from "./nft/runner.ts";

describe("counters: names back to farms and backends", () => {
  it("groups by farm and backend, connections from c/ and traffic from t/, sums the backends, leaves out names core did not make, sorts by name", () => {
    const values = new Map<string, CounterValue>([
      ["c/web/b2", { packets: 3, bytes: 180 }],
      ["t/web/b2", { packets: 30, bytes: 9000 }],
      ["c/web/b1", { packets: 4, bytes: 240 }],
      ["t/web/b1", { packets: 41, bytes: 12_000 }],
      ["c/a.b-c/x_1", { packets: 1, bytes: 60 }],
      ["intruder", { packets: 100, bytes: 1 }],
      ["c/too/many/parts", { packets: 100, bytes: 1 }],
    ]);
    expect(farmCounters(values)).toEqual([
      // A backend without its traffic counter (a table from before them) reports no traffic.
      { name: "a.b-c", connections: 1, packets: 0, bytes: 0, backends: [{ name: "x_1", connections: 1, packets: 0, bytes: 0 }] },
      {
        name: "web",
        connections: 7,
        packets: 71,
        bytes: 21_000,
        backends: [
          { name: "b1", connections: 4, packets: 41, bytes: 12_000 },
          { name: "b2", connections: 3, packets: 30, bytes: 9000 },
        ],
      },
    ]);
  });

  it("writes Prometheus counters with HELP and TYPE, labels escaped", () => {
    const lines = countersMetrics([{ name: 'we"b', connections: 2, packets: 20, bytes: 3000, backends: [{ name: "b\\1", connections: 2, packets: 20, bytes: 3000 }] }]);
    expect(lines).toContain('switchyard_farm_connections_total{farm="we\\"b"} 2');
    expect(lines).toContain('switchyard_backend_connections_total{farm="we\\"b",backend="b\\\\1"} 2');
    expect(lines).toContain('switchyard_farm_packets_total{farm="we\\"b"} 20');
    expect(lines).toContain('switchyard_backend_packets_total{farm="we\\"b",backend="b\\\\1"} 20');
    expect(lines).toContain('switchyard_farm_bytes_total{farm="we\\"b"} 3000');
    expect(lines).toContain('switchyard_backend_bytes_total{farm="we\\"b",backend="b\\\\1"} 3000');
    expect(lines.filter((l) => l.startsWith("# TYPE"))).toEqual(
      ["connections", "packets", "bytes"].flatMap((m) => [`# TYPE switchyard_farm_${m}_total counter`, `# TYPE switchyard_backend_${m}_total counter`]),
    );
  });

  it("reads nft's JSON listing, and refuses output that is not it", () => {
    const json = '{"nftables": [{"metainfo": {"version": "1.0.6"}}, {"counter": {"family": "inet", "name": "c/web/b1", "table": "t", "handle": 2, "packets": 3, "bytes": 180}}]}';
    expect(parseCounterListing(json)).toEqual(new Map([["c/web/b1", { packets: 3, bytes: 180 }]]));
    expect(parseCounterListing("")).toEqual(new Map());
    expect(() => parseCounterListing("Error")).toThrow(/not JSON/);
  });

  it("reading 10,000 farms x 4 backends, two counters each (nft's JSON already in hand), takes well under a second", () => {
    const items = [{ metainfo: {} }];
    for (let f = 0; f < 10_000; f++) {
      for (let b = 0; b < 4; b++) {
        for (const kind of ["c", "t"]) items.push({ counter: { family: "inet", name: `${kind}/f${f}/b${b}`, table: "t", handle: 1, packets: f, bytes: 0 } } as never);
      }
    }
    const json = JSON.stringify({ nftables: items });
    const started = performance.now();
    const farms = farmCounters(parseCounterListing(json));
    const lines = countersMetrics(farms);
    // About 0.25 s here for the 80,000 counters (parse, group, Prometheus text); the bound leaves
    // room for a busy machine and catches anything that grows faster than the counters do.
    expect(performance.now() - started).toBeLessThan(1000);
    expect(farms).toHaveLength(10_000);
    expect(lines).toHaveLength(3 * (4 + 10_000 + 40_000));
  });
});

class Recorder implements NftRunner {
  readonly calls: { args: string; input: string }[] = [];
  async run(args: readonly string[], input?: string): Promise<RunResult> {
    this.calls.push({ args: args.join(" "), input: input ?? "" });
    return { stdout: "", stderr: "", code: 0 };
  }
}

describe("Applier: a full replace carries the counters over", () => {
  const ir = buildRuleset(parseConfig({ farms: [{ name: "web", "virtual-addr": "198.18.1.100", "virtual-ports": "80", backends: [{ name: "b1", "ip-addr": "198.18.2.11" }] }] }));

  it("seeds each counter with what the kernel held before it deletes the table, the traffic sets' elements by the IR it applies", async () => {
    const nft = new Recorder();
    const asked: unknown[] = [];
    const readCounters = async (next: unknown) => {
      asked.push(next);
      return new Map([
        ["c/web/b1", { packets: 41, bytes: 2460 }],
        ["t/web/b1", { packets: 400, bytes: 90_000 }],
      ]);
    };
    const applier = new Applier({ driver: new NftDriver(nft), table: "switchyard", readCounters });
    await applier.apply(ir);
    expect(asked).toEqual([ir]);
    expect(nft.calls.map((c) => c.args)).toEqual(["-f -"]);
    expect(nft.calls[0]?.input).toContain("\tcounter c/web/b1 {\n\t\tpackets 41 bytes 2460\n\t}\n");
    expect(nft.calls[0]?.input).toContain("\t\t\t198.18.1.100 . tcp . 80 . 198.18.2.11 . 80 counter packets 400 bytes 90000\n");
  });

  it("starts from zero when the read fails, and still applies", async () => {
    const nft = new Recorder();
    const applier = new Applier({ driver: new NftDriver(nft), table: "switchyard", readCounters: () => Promise.reject(new Error("nft gone")) });
    await applier.apply(ir);
    expect(nft.calls[0]?.input).toContain("\tcounter c/web/b1 {\n\t}\n");
  });
});

describe("counted elements: the traffic sets' elements back to their backends", () => {
  const config = parseConfig({
    farms: [
      {
        name: "web",
        "virtual-addr": "198.18.1.100",
        "virtual-ports": "80,443,8000-8100",
        backends: [
          { name: "b1", "ip-addr": "198.18.2.11", port: "8080" },
          { name: "b2", "ip-addr": "198.18.2.12" },
        ],
      },
      { name: "v6", family: "ipv6", "virtual-addr": "2001:0db8:0001::0100", "virtual-ports": "53", protocol: "udp", backends: [{ name: "d1", "ip-addr": "2001:db8:2:0:0:0:0:11" }] },
    ],
  });
  const ir = buildRuleset(config, { table: "t" });
  const sets = countedSets(ir, "t");

  it("finds the inet table's counted sets that hold elements", () => {
    expect(sets.map((s) => s.name)).toEqual(["traffic4-ports", "traffic4-ranges", "traffic6-ports"]);
    expect(countedSets(ir, "other")).toEqual([]);
    expect(countedSets(null, "t")).toEqual([]);
  });

  it("sums a backend's elements (one per place of its farm), by the kernel's keys or by nft's text of them", () => {
    const ports = sets[0];
    const ranges = sets[1];
    if (ports === undefined || ranges === undefined) throw new Error("no sets");
    const by = (keyOf: typeof kernelKey) => {
      const read = new Map<string, Map<string, CounterValue>>();
      const put = (set: typeof ports, keyText: string, value: CounterValue) => {
        const key = keyOf(set)(keyText);
        if (key === null) throw new Error(`no key for ${keyText}`);
        read.set(set.name, (read.get(set.name) ?? new Map()).set(key, value));
      };
      put(ports, "198.18.1.100 . tcp . 80 . 198.18.2.11 . 8080", { packets: 1, bytes: 100 });
      put(ports, "198.18.1.100 . tcp . 443 . 198.18.2.11 . 8080", { packets: 2, bytes: 200 });
      put(ranges, "198.18.1.100 . tcp . 8000-8100 . 198.18.2.11 . 8080", { packets: 4, bytes: 400 });
      put(ranges, "198.18.1.100 . tcp . 8000-8100 . 198.18.2.12 . 8000-8100", { packets: 8, bytes: 800 });
      // What nft prints for the IPv6 element, whose IR text is written out long.
      read.set("traffic6-ports", new Map([[keyOf === listedKey ? "2001:db8:1::100 . udp . 53 . 2001:db8:2::11 . 53" : (kernelKey(sets[2] as typeof ports)("2001:db8:1::100 . udp . 53 . 2001:db8:2::11 . 53") as string), { packets: 16, bytes: 1600 }]]));
      const out = new Map<string, CounterValue>([["c/web/b1", { packets: 5, bytes: 300 }]]);
      addCountedValues(sets, read, keyOf, out);
      return out;
    };
    for (const keyOf of [kernelKey, listedKey]) {
      expect(by(keyOf)).toEqual(
        new Map([
          ["c/web/b1", { packets: 5, bytes: 300 }],
          ["t/web/b1", { packets: 7, bytes: 700 }],
          ["t/web/b2", { packets: 8, bytes: 800 }],
          ["t/v6/d1", { packets: 16, bytes: 1600 }],
        ]),
      );
    }
  });

  it("reads nft's listing of a counted set", () => {
    const listing = [
      "table inet t {",
      "\tset r {",
      "\t\ttype ipv4_addr . inet_proto . inet_service . ipv4_addr . inet_service",
      "\t\tflags interval",
      "\t\tcounter",
      "\t\telements = { 127.0.0.1 . udp . 1000-2000 . 127.0.0.1 . 1000-2000 counter packets 3 bytes 93,",
      "\t\t\t     2001:db8::1 . udp . 0-65535 . 2001:db8::2 . 0-65535 counter packets 5 bytes 100 }",
      "\t}",
      "}",
      "",
    ].join("\n");
    expect(parseSetCounterListing(listing)).toEqual(
      new Map([
        ["127.0.0.1 . udp . 1000-2000 . 127.0.0.1 . 1000-2000", { packets: 3, bytes: 93 }],
        ["2001:db8::1 . udp . 0-65535 . 2001:db8::2 . 0-65535", { packets: 5, bytes: 100 }],
      ]),
    );
    expect(parseSetCounterListing("table inet t {\n\tset r {\n\t\ttype ipv4_addr\n\t\tcounter\n\t}\n}\n")).toEqual(new Map());
  });
});
