import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { canonicalAddress } from "../model/address.ts";
import { hashKeyBytes, MAX_HASH_KEY_BYTES, SCHED_FIELDS, type SchedField } from "../model/farm.ts";
import { parseConfig, toNftlb } from "../nftlb/codec.ts";
import { buildRuleset } from "./build.ts";
import type { Facts } from "./facts.ts";
import { renderReplaceScript } from "./render.ts";

// The property: any valid configuration renders a script that nft itself accepts. Each
// script is checked with `nft --check` in a private network namespace (`unshare -rn`, so
// nothing on the host is touched) that has the two interfaces the dsr farms name.

const NETNS_SETUP = "ip link add eth-in type veth peer name eth-out && nft --check -f -";
const TABLE = "switchyard";

interface Check {
  ok: boolean;
  status: number | null;
  stderr: string;
}

function nftCheck(script: string): Check {
  const result = spawnSync("unshare", ["-rn", "sh", "-c", NETNS_SETUP], { input: script, encoding: "utf8", timeout: 20_000 });
  if (result.error) throw new Error(`could not run unshare: ${result.error.message}`);
  return { ok: result.status === 0, status: result.status, stderr: result.stderr };
}

const numbered = (script: string) =>
  script
    .split("\n")
    .map((line, i) => `${String(i + 1).padStart(4)}  ${line}`)
    .join("\n");

function expectAccepted(script: string): void {
  const check = nftCheck(script);
  if (!check.ok) {
    throw new Error(`nft --check refused the script (exit ${check.status}):\n${check.stderr}\n--- script ---\n${numbered(script)}`);
  }
}

beforeAll(() => {
  const probe = spawnSync("unshare", ["-rn", "sh", "-c", "command -v ip >/dev/null && command -v nft >/dev/null && nft --version"], {
    encoding: "utf8",
    timeout: 20_000,
  });
  if (probe.error) {
    throw new Error(`this test needs unshare (util-linux) to make a private network namespace: ${probe.error.message}`);
  }
  if (probe.status !== 0) {
    throw new Error(
      `this test needs 'unshare -rn', 'ip' (iproute2) and 'nft' (nftables) inside it; the probe exited ${probe.status}:\n${probe.stderr}${probe.stdout}`,
    );
  }
});

// --- the generator -------------------------------------------------------------------------

const FACTS_INTERFACES: Facts["interfaces"] = {
  "eth-in": { mac: "02:00:00:00:01:01" },
  "eth-out": { mac: "02:00:00:00:01:02" },
};

/** Backend address pools (small, so that farms share backends and a farm may list one twice). */
const V4_BACKENDS = Array.from({ length: 12 }, (_, i) => `198.18.2.${i + 1}`);
const V6_BACKENDS = [...Array.from({ length: 10 }, (_, i) => `2001:db8:2::${(i + 1).toString(16)}`), "2001:DB8:2:0:0:0:0:1b", "::ffff:198.18.2.7"];

const portItem = (min: number, max: number) =>
  fc.oneof(
    fc.integer({ min, max }).map((p) => `${p}`),
    fc
      .tuple(fc.integer({ min, max }), fc.integer({ min: 0, max: 300 }))
      .map(([from, len]) => `${from}-${Math.min(max, from + len)}`),
  );

const portList = (min: number, max: number) => fc.array(portItem(min, max), { minLength: 1, maxLength: 5 }).map((items) => items.join(","));

const schedParam = fc.oneof(
  fc.constant(undefined),
  fc.constant("none"),
  fc
    .subarray(["srcip", "dstip", "srcport", "dstport", "srcmac", "dstmac"], { minLength: 1 })
    .chain((fields) => fc.constantFrom(fields.join(" "), fields.join(","), [...fields].reverse().join(" "))),
);

const mac = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 5, maxLength: 5 }).map((bytes) => ["02", ...bytes.map((b) => b.toString(16).padStart(2, "0"))].join(":"));

const backendSpec = fc.record({
  name: fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}$/),
  v4: fc.constantFrom(...V4_BACKENDS),
  v6: fc.constantFrom(...V6_BACKENDS),
  useV6: fc.boolean(),
  port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
  weight: fc.option(fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 10_000 })), { nil: undefined }),
  priority: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  state: fc.constantFrom("up", "up", "up", "down", "off", undefined),
  etherAddr: fc.option(mac, { nil: undefined }),
  asNumbers: fc.boolean(),
});

const farmSpec = fc.record({
  name: fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/),
  family: fc.constantFrom("ipv4", "ipv6", "dual", undefined),
  mode: fc.constantFrom("snat", "dnat", "dsr", undefined),
  protocol: fc.constantFrom("tcp", "udp", "sctp", "all", undefined),
  scheduler: fc.constantFrom("weight", "rr", "hash", "symhash", undefined),
  schedParam,
  portsKind: fc.constantFrom("empty", "list", "shared"),
  ports: portList(1, 65535),
  sharedPorts: portList(0, 999),
  priority: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  state: fc.constantFrom("up", "up", "up", "up", "down", "off", undefined),
  oface: fc.boolean(),
  etherAddr: fc.option(mac, { nil: undefined }),
  spellV6: fc.constantFrom("short", "long", "upper"),
  backends: fc.uniqueArray(backendSpec, { maxLength: 6, size: "medium", selector: (b) => b.name }),
});

type FarmSpec = typeof farmSpec extends fc.Arbitrary<infer T> ? T : never;

/** Leaves fields out of an IPv6 hash until its key fits what nft can hash (a longer one is refused). */
function fitHashKey(param: string, ipv6Hash: boolean): string {
  if (!ipv6Hash) return param;
  const fields = param.split(/[\s,]+/).filter((w): w is SchedField => (SCHED_FIELDS as readonly string[]).includes(w));
  while (hashKeyBytes(fields, 6) > MAX_HASH_KEY_BYTES) fields.pop();
  return fields.length === 0 ? "none" : fields.join(" ");
}

function v6Vip(i: number, spelling: FarmSpec["spellV6"], shared: boolean): string {
  const last = shared ? 0xfa : i + 1;
  if (spelling === "long") return `2001:db8:1:0:0:0:0:${last.toString(16)}`;
  if (spelling === "upper") return `2001:DB8:1::${last.toString(16).toUpperCase()}`;
  return `2001:db8:1::${last.toString(16)}`;
}

/**
 * Turns specs into one valid nftlb configuration: every farm gets its own virtual addresses,
 * except farms on a shared address, which take ports from a block of their own (1000 ports
 * per farm), so that no two farms claim the same service.
 */
function toConfig(specs: FarmSpec[]): { raw: { farms: Record<string, unknown>[] }; facts: Facts } {
  const neighbours: Record<string, string> = {};
  const farms = specs.map((spec, i) => {
    const family = spec.family ?? "ipv4";
    const protocol = spec.protocol ?? "tcp";
    const mode = spec.mode ?? "snat";
    const shared = spec.portsKind === "shared" && protocol !== "all";
    let ports = "";
    if (protocol !== "all") {
      if (shared) {
        const base = 1000 + 1000 * i;
        ports = spec.sharedPorts.replace(/\d+/g, (p) => String(base + Number(p)));
      } else if (spec.portsKind === "list") ports = spec.ports;
    }
    const v4 = shared ? "198.18.1.250" : `198.18.1.${i + 1}`;
    const v6 = v6Vip(i, spec.spellV6, shared);
    const farm: Record<string, unknown> = { name: spec.name, "virtual-addr": family === "ipv6" ? v6 : v4 };
    if (spec.family !== undefined) farm.family = spec.family;
    if (family === "dual") farm["virtual-addr6"] = v6;
    if (ports !== "" || spec.portsKind !== "empty") farm["virtual-ports"] = /^\d+$/.test(ports) && i % 2 === 0 ? Number(ports) : ports;
    if (spec.mode !== undefined) farm.mode = spec.mode;
    if (spec.protocol !== undefined) farm.protocol = spec.protocol;
    if (spec.scheduler !== undefined) farm.scheduler = spec.scheduler;
    if (spec.schedParam !== undefined) farm["sched-param"] = fitHashKey(spec.schedParam, spec.scheduler === "hash" && family !== "ipv4");
    if (spec.priority !== undefined) farm.priority = i % 2 === 0 ? String(spec.priority) : spec.priority;
    if (spec.state !== undefined) farm.state = spec.state;
    if (mode === "dsr") {
      farm.iface = "eth-in";
      if (spec.oface) farm.oface = "eth-out";
      if (spec.etherAddr !== undefined) farm["ether-addr"] = spec.etherAddr;
    }
    farm.backends = spec.backends.map((b) => {
      const useV6 = family === "ipv6" || (family === "dual" && b.useV6);
      const ip = useV6 ? b.v6 : b.v4;
      const backend: Record<string, unknown> = { name: b.name, "ip-addr": ip };
      const num = (n: number) => (b.asNumbers ? n : String(n));
      if (b.port !== undefined && mode !== "dsr" && protocol !== "all") backend.port = num(b.port);
      else if (!b.asNumbers) backend.port = "";
      if (b.weight !== undefined) backend.weight = num(b.weight);
      if (b.priority !== undefined) backend.priority = num(b.priority);
      if (b.state !== undefined) backend.state = b.state;
      if (mode === "dsr") {
        if (b.etherAddr !== undefined) backend["ether-addr"] = b.etherAddr;
        else neighbours[canonicalAddress(ip)] = "02:00:00:00:00:aa";
      }
      return backend;
    });
    return farm;
  });
  return { raw: { farms }, facts: { interfaces: FACTS_INTERFACES, neighbours } };
}

const configs = fc.uniqueArray(farmSpec, { minLength: 1, maxLength: 6, selector: (f) => f.name }).map(toConfig);

// --- the tests ------------------------------------------------------------------------------

describe("nft --check accepts what the renderer writes (property)", () => {
  it(
    "random valid configs: every family, mode, protocol, scheduler, multiport, priority, state, dsr",
    () => {
      let checked = 0;
      fc.assert(
        fc.property(configs, ({ raw, facts }) => {
          const config = parseConfig(raw);
          // The codec round trip holds for every generated config, too.
          expect(parseConfig(toNftlb(config))).toEqual(config);
          const script = renderReplaceScript(buildRuleset(config, { table: TABLE, facts }), TABLE);
          expect(renderReplaceScript(buildRuleset(config, { table: TABLE, facts }), TABLE)).toBe(script);
          expectAccepted(script);
          checked++;
        }),
        { numRuns: 80, endOnFailure: true },
      );
      expect(checked).toBe(80);
    },
    120_000,
  );
});

describe("nft --check accepts the traffic counters", () => {
  it("the forward chain and the counted sets of every kind of NAT farm (ports, range, every port, every protocol, dual, shared backends), seeded or not", () => {
    const config = parseConfig({
      farms: [
        {
          name: "web",
          "virtual-addr": "198.18.1.100",
          "virtual-ports": "80,443,8000-8100",
          backends: [
            { name: "b1", "ip-addr": "198.18.2.10", port: "8080" },
            { name: "b2", "ip-addr": "198.18.2.11" },
            { name: "b3", "ip-addr": "198.18.2.11", port: "8050", state: "down" },
          ],
        },
        { name: "any", "virtual-addr": "198.18.1.100", protocol: "udp", mode: "dnat", backends: [{ name: "b1", "ip-addr": "198.18.2.10" }] },
        { name: "all", "virtual-addr": "198.18.1.101", protocol: "all", backends: [{ name: "b1", "ip-addr": "198.18.2.10" }] },
        {
          name: "v6",
          family: "dual",
          "virtual-addr": "198.18.1.102",
          "virtual-addr6": "2001:db8:1::102",
          "virtual-ports": "80,9000-9100",
          protocol: "sctp",
          backends: [
            { name: "b1", "ip-addr": "198.18.2.10" },
            { name: "b6", "ip-addr": "2001:db8:2::10", port: "8080" },
          ],
        },
      ],
    });
    const ir = buildRuleset(config, { table: TABLE });
    const script = renderReplaceScript(ir, TABLE);
    expect(script).toContain("type filter hook forward priority 0; policy accept;");
    expect(script).toContain("\tset traffic4-ranges {\n\t\ttype ipv4_addr . inet_proto . inet_service . ipv4_addr . inet_service\n\t\tflags interval\n\t\tcounter\n");
    expect(script).toMatch(/\t{3}198\.18\.1\.100 \. tcp \. 8000-8100 \. 198\.18\.2\.11 \. 8000-8100[,\n]/);
    expect(script).toMatch(/\t{3}2001:db8:1::102 \. sctp \. 9000-9100 \. 2001:db8:2::10 \. 8080[,\n]/);
    expect(script).not.toContain("t/");
    expectAccepted(script);
    // web/b2 has three elements (80, 443, the range): its count seeds the first of them only.
    const seeded = renderReplaceScript(ir, TABLE, new Map([["t/web/b2", { packets: 7, bytes: 700 }], ["c/web/b2", { packets: 2, bytes: 120 }]]));
    expect(seeded.match(/counter packets 7 bytes 700/g)).toHaveLength(1);
    expect(seeded).toContain("\t\t\t198.18.1.100 . tcp . 80 . 198.18.2.11 . 80 counter packets 7 bytes 700,\n");
    expect(seeded).toContain("\tcounter c/web/b2 {\n\t\tpackets 2 bytes 120\n\t}");
    expectAccepted(seeded);
  });
});

describe("the nft --check harness", () => {
  it("accepts a known-good script", () => {
    const config = parseConfig({
      farms: [
        {
          name: "web",
          "virtual-addr": "198.18.1.100",
          "virtual-ports": "80,443,8000-8100",
          scheduler: "weight",
          backends: [
            { name: "a", "ip-addr": "198.18.2.11", port: "8080", weight: "2" },
            { name: "b", "ip-addr": "198.18.2.12", port: "8080" },
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
    });
    const script = renderReplaceScript(buildRuleset(config, { facts: { interfaces: FACTS_INTERFACES, neighbours: {} } }), TABLE);
    expectAccepted(script);
  });

  it("accepts the longest hash key an IPv6 farm may have (48 bytes), in a NAT and a dsr farm", () => {
    const hashFarm = (name: string, extra: Record<string, unknown>) => ({
      name,
      family: "ipv6",
      scheduler: "hash",
      "sched-param": "srcip dstip srcport dstport srcmac",
      backends: [
        { name: "a", "ip-addr": "2001:db8:2::11", "ether-addr": "02:00:00:00:00:0a" },
        { name: "b", "ip-addr": "2001:db8:2::12", "ether-addr": "02:00:00:00:00:0b" },
      ],
      ...extra,
    });
    const config = parseConfig({
      farms: [
        hashFarm("nat", { "virtual-addr": "2001:db8:1::1" }),
        hashFarm("dsr", { "virtual-addr": "2001:db8:1::2", mode: "dsr", iface: "eth-in", oface: "eth-out" }),
      ],
    });
    const script = renderReplaceScript(buildRuleset(config, { facts: { interfaces: FACTS_INTERFACES, neighbours: {} } }), TABLE);
    expect(script).toContain("jhash ip6 saddr . ip6 daddr . th sport . th dport . ether saddr mod 2");
    expectAccepted(script);
  });

  it("refuses a syntactically broken script, and says where", () => {
    const check = nftCheck("table inet switchyard {\n\tchain c {\n\t\tct mark set numgen sometimes mod 2\n\t}\n}\n");
    expect(check.ok).toBe(false);
    expect(check.stderr).toMatch(/Error/);
    expect(check.stderr).toContain("numgen sometimes");
  });

  it("refuses a well-formed script that names an interface the namespace does not have", () => {
    // fwd resolves its device when the script is checked: the veth pair of the namespace is
    // what makes the dsr farms' `fwd to "eth-out"` pass, and a missing device fails.
    const script = 'table netdev switchyard {\n\tchain c {\n\t\tether daddr set 02:00:00:00:00:01 fwd to "eth-nowhere"\n\t}\n}\n';
    const check = nftCheck(script);
    expect(check.ok).toBe(false);
    expect(check.stderr).toContain("Interface does not exist");
    expect(nftCheck(script.replace("eth-nowhere", "eth-out")).ok).toBe(true);
  });

  it("refuses a rendered script that is broken after rendering (a dnat to a non-address)", () => {
    const config = parseConfig({ farms: [{ name: "web", "virtual-addr": "198.18.1.100", backends: [{ name: "a", "ip-addr": "198.18.2.11" }] }] });
    const script = renderReplaceScript(buildRuleset(config), TABLE);
    expect(nftCheck(script).ok).toBe(true);
    const broken = nftCheck(script.replace("dnat ip to 198.18.2.11", "dnat ip to 198.18.2.300"));
    expect(broken.ok).toBe(false);
    expect(broken.stderr).toContain("198.18.2.300");
  });
});
