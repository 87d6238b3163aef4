import { describe, expect, it } from "vitest";
import { parseAddrJson, parseNeighJson, readHostFacts } from "./host-facts.ts";

const ADDR = JSON.stringify([
  { ifindex: 1, ifname: "lo", link_type: "loopback", address: "00:00:00:00:00:00", addr_info: [{ family: "inet", local: "127.0.0.1", prefixlen: 8 }] },
  {
    ifindex: 2,
    ifname: "eth0",
    link_type: "ether",
    address: "02:AA:BB:CC:DD:EE",
    addr_info: [
      { family: "inet", local: "198.18.0.1", prefixlen: 24 },
      { family: "inet6", local: "2001:db8::1", prefixlen: 64 },
    ],
  },
  { ifindex: 3, ifname: "tun0", link_type: "none", addr_info: [] },
]);
const NEIGH = JSON.stringify([
  { dst: "198.18.2.11", dev: "eth0", lladdr: "02:11:22:33:44:55", state: ["REACHABLE"] },
  { dst: "198.18.2.12", dev: "eth0", state: ["FAILED"] },
]);

describe("host facts", () => {
  it("reads interfaces from ip -j addr show", () => {
    expect(parseAddrJson(ADDR)).toEqual([
      { name: "lo", mac: "00:00:00:00:00:00", addresses: ["127.0.0.1/8"] },
      { name: "eth0", mac: "02:aa:bb:cc:dd:ee", addresses: ["198.18.0.1/24", "2001:db8::1/64"] },
      { name: "tun0", mac: null, addresses: [] },
    ]);
  });
  it("reads neighbours from ip -j neigh show", () => {
    expect(parseNeighJson(NEIGH)).toEqual([
      { ip: "198.18.2.11", mac: "02:11:22:33:44:55", dev: "eth0", state: "REACHABLE" },
      { ip: "198.18.2.12", mac: null, dev: "eth0", state: "FAILED" },
    ]);
    expect(parseNeighJson("")).toEqual([]);
    expect(() => parseNeighJson("{}")).toThrow(/JSON array/);
  });
  it("runs both commands through the injected runner", async () => {
    const calls: string[][] = [];
    const facts = await readHostFacts(async (args) => {
      calls.push(args);
      return args[1] === "addr" ? ADDR : NEIGH;
    });
    expect(calls).toEqual([["-j", "addr", "show"], ["-j", "neigh", "show"]]);
    expect(facts.interfaces).toHaveLength(3);
    expect(facts.neighbours).toHaveLength(2);
  });
});
