import { describe, expect, it } from "vitest";
import { parseConfig, toNftlb } from "@switchyard/core";
import { ConfigStore, mergeFragment, removeBackend, removeFarm } from "./config-store.ts";

const base = () =>
  parseConfig({
    farms: [
      {
        name: "web",
        "virtual-addr": "198.18.1.100",
        "virtual-ports": "80",
        scheduler: "weight",
        backends: [
          { name: "b1", "ip-addr": "198.18.2.11", port: "8080", weight: "5" },
          { name: "b2", "ip-addr": "198.18.2.12", port: "8080" },
        ],
      },
    ],
  });

function merged(fragment: unknown) {
  const result = mergeFragment(base(), fragment);
  if (!result.ok) throw new Error(result.message);
  return result.config;
}

describe("mergeFragment", () => {
  it("creates a new farm with nftlb's defaults", () => {
    const config = merged({ farms: [{ name: "dns", "virtual-addr": "198.18.1.53", "virtual-ports": "53", protocol: "udp" }] });
    expect(config.farms.map((f) => f.name)).toEqual(["web", "dns"]);
    expect(toNftlb(config).farms[1]).toEqual({
      name: "dns",
      family: "ipv4",
      "virtual-addr": "198.18.1.53",
      "virtual-ports": "53",
      mode: "snat",
      protocol: "udp",
      scheduler: "rr",
      "sched-param": "none",
      priority: "1",
      state: "up",
      backends: [],
    });
  });

  it("merges the given attributes into an existing farm and keeps the rest", () => {
    const config = merged({ farms: [{ name: "web", "virtual-ports": "80,443", scheduler: "rr" }] });
    const web = config.farms[0];
    expect(web?.["virtual-ports"]).toBe("80,443");
    expect(web?.scheduler).toBe("rr");
    expect(web?.["virtual-addr"]).toBe("198.18.1.100");
    expect(web?.backends.map((b) => [b.name, b.weight])).toEqual([["b1", 5], ["b2", 1]]);
  });

  it("merges backends by name: a new name is added, an existing one changes only what is given", () => {
    const config = merged({ farms: [{ name: "web", backends: [{ name: "b2", state: "down", weight: 2 }, { name: "b3", "ip-addr": "198.18.2.13" }] }] });
    expect(toNftlb(config).farms[0]?.backends).toEqual([
      { name: "b1", "ip-addr": "198.18.2.11", port: "8080", weight: "5", priority: "1", state: "up" },
      { name: "b2", "ip-addr": "198.18.2.12", port: "8080", weight: "2", priority: "1", state: "down" },
      { name: "b3", "ip-addr": "198.18.2.13", port: "", weight: "1", priority: "1", state: "up" },
    ]);
  });

  it("renames a farm or a backend with nftlb's newname", () => {
    const config = merged({ farms: [{ name: "web", newname: "www", backends: [{ name: "b1", newname: "one" }] }] });
    expect(config.farms[0]?.name).toBe("www");
    expect(config.farms[0]?.backends.map((b) => b.name)).toEqual(["one", "b2"]);
  });

  it("parses only the farms it names: the others keep their very objects (what is built from them is reused)", () => {
    const current = parseConfig({
      farms: [
        ...base().farms.map((f) => toNftlb({ farms: [f] }).farms[0]),
        { name: "dns", "virtual-addr": "198.18.1.53", "virtual-ports": "53", protocol: "udp", backends: [{ name: "d1", "ip-addr": "198.18.2.11" }] },
      ],
    });
    const result = mergeFragment(current, { farms: [{ name: "dns", backends: [{ name: "d1", state: "down" }] }, { name: "new", "virtual-addr": "198.18.1.9" }, { name: "newer", "virtual-addr": "198.18.1.10" }] });
    if (!result.ok) throw new Error(result.message);
    expect(result.config.farms[0]).toBe(current.farms[0]);
    expect(result.config.farms[1]).not.toBe(current.farms[1]);
    expect(result.config.farms[1]?.backends[0]?.state).toBe("down");
    expect(result.config.farms.map((f) => f.name)).toEqual(["web", "dns", "new", "newer"]);
    expect(current.farms[1]?.backends[0]?.state).toBe("up");
  });

  it("follows a rename within one fragment, and refuses a rename onto another farm's name", () => {
    const renamed = merged({ farms: [{ name: "web", newname: "www" }, { name: "www", priority: 2 }] });
    expect(renamed.farms.map((f) => [f.name, f.priority])).toEqual([["www", 2]]);
    const two = mergeFragment(base(), { farms: [{ name: "api", "virtual-addr": "198.18.1.7" }, { name: "api", newname: "web" }] });
    expect(two).toEqual({ ok: false, status: 400, message: expect.stringContaining('farm "web", name = "web": is a duplicate farm name (farm #1 has it too)') });
  });

  it("takes numbers as well as strings", () => {
    const config = merged({ farms: [{ name: "web", priority: 2, backends: [{ name: "b1", port: 9090 }] }] });
    expect(config.farms[0]?.priority).toBe(2);
    expect(config.farms[0]?.backends[0]?.port).toBe(9090);
  });

  it.each([
    [
      "an IPv6 backend in an ipv4 farm",
      { farms: [{ name: "web", backends: [{ name: "b6", "ip-addr": "2001:db8::2" }] }] },
      'farm "web", backend "b6", ip-addr = "2001:db8::2": is an IPv6 address but the farm\'s family is ipv4',
    ],
    ["a bad protocol", { farms: [{ name: "web", protocol: "80" }] }, 'farm "web", protocol = "80": must be one of tcp, udp, sctp, all'],
    ["a bad weight on an existing backend", { farms: [{ name: "web", backends: [{ name: "b2", weight: "0" }] }] }, 'farm "web", backend "b2", weight = "0": must be an integer from 1 to 10000'],
    ["an unknown attribute", { farms: [{ name: "web", colour: "blue" }] }, 'farm "web", colour = "blue": unknown attribute'],
    ["a new farm without an address", { farms: [{ name: "new" }] }, 'farm "new", virtual-addr: is required'],
    ["a new backend without an address", { farms: [{ name: "web", backends: [{ name: "b9" }] }] }, 'farm "web", backend "b9", ip-addr: is required'],
    [
      "a port another farm serves",
      { farms: [{ name: "api", "virtual-addr": "198.18.1.100", "virtual-ports": "80" }] },
      'farm "api", virtual-ports = "80": port 80 of tcp 198.18.1.100 is already served by farm "web"',
    ],
    ["a farm without a name", { farms: [{ "virtual-addr": "198.18.1.1" }] }, 'farm "#1", name: is required'],
    ["a backend without a name", { farms: [{ name: "web", backends: [{ "ip-addr": "198.18.2.1" }] }] }, 'farm "web", backend "#1", name: is required'],
    ["farms that are not a list", { farms: { name: "web" } }, "farms: must be a list of farms"],
    ["no farms", {}, "farms: is required"],
    ["another top-level key", { farms: [], policies: [] }, "policies: unknown attribute"],
    ["not an object", [1], 'the body must be a JSON object such as {"farms": [...]}'],
    ["a __proto__ attribute", JSON.parse('{"farms": [{"name": "web", "__proto__": {"x": 1}}]}'), 'farm "web", __proto__ = {"x":1}: unknown attribute'],
  ])("refuses %s with a located message", (_what, fragment, message) => {
    const result = mergeFragment(base(), fragment);
    expect(result).toEqual({ ok: false, status: 400, message: expect.stringContaining(message) });
  });
});

describe("removals", () => {
  it("removes a farm or one backend; an unknown one is a 404 that names it", () => {
    const noWeb = removeFarm(base(), "web");
    expect(noWeb.ok && noWeb.config.farms).toEqual([]);
    const noB1 = removeBackend(base(), "web", "b1");
    expect(noB1.ok && noB1.config.farms[0]?.backends.map((b) => b.name)).toEqual(["b2"]);
    expect(removeFarm(base(), "nope")).toEqual({ ok: false, status: 404, message: 'farm "nope": no such farm' });
    expect(removeBackend(base(), "nope", "b1")).toEqual({ ok: false, status: 404, message: 'farm "nope": no such farm' });
    expect(removeBackend(base(), "web", "b9")).toEqual({ ok: false, status: 404, message: 'farm "web", backend "b9": no such backend' });
  });
});

describe("ConfigStore", () => {
  it("proposals leave the store unchanged until committed", () => {
    const store = new ConfigStore(base());
    const before = structuredClone(store.config);
    const bad = store.merge({ farms: [{ name: "web", backends: [{ name: "b1", "ip-addr": "2001:db8::2" }] }] });
    expect(bad.ok).toBe(false);
    const good = store.merge({ farms: [{ name: "web", state: "down" }] });
    expect(good.ok).toBe(true);
    store.removeFarm("web");
    store.removeBackend("web", "b1");
    expect(store.config).toEqual(before);
    if (good.ok) store.commit(good.config);
    expect(store.farm("web")?.state).toBe("down");
  });
});
