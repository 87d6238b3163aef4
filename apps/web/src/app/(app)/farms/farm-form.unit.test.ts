import { describe, expect, it } from "vitest";
import { checkForm, emptyBackend, emptyFarm, formOf, nftlbOf } from "./farm-form";

// The editor's form ↔ nftlb object, and core's checks placed under the form's fields.

const farm = (placement: string) => {
  const form = { ...emptyFarm(), name: "web", virtualAddr: "198.18.1.100", virtualPorts: "80", placement };
  return { ...form, backends: [{ ...emptyBackend([]), ipAddr: "198.18.2.11" }] };
};

describe("the farm form", () => {
  it("keeps a placement through a round trip, and leaves it out when empty (every node)", () => {
    const sent = nftlbOf(farm("role=edge,zone=a"));
    expect(sent["x-placement"]).toBe("role=edge,zone=a");
    expect(formOf(sent).placement).toBe("role=edge,zone=a");
    expect(formOf(sent).other).toEqual({});
    expect("x-placement" in nftlbOf(farm(""))).toBe(false);
  });

  it("puts a bad placement's reason under its field, and a bad backend address under that row's cell", () => {
    expect(checkForm(farm("role=edge"))).toEqual({});
    expect(Object.keys(checkForm(farm("role=edge,role=core")))).toEqual(["x-placement"]);
    const bad = farm("");
    bad.backends[0] = { ...bad.backends[0]!, ipAddr: "198.18.2.300" };
    expect(Object.keys(checkForm(bad))).toEqual(["backends.0.ip-addr"]);
  });
});
