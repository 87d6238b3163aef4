import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addressFamily, canonicalAddress, canonicalIpv6, isMac } from "./address.ts";

describe("addressFamily", () => {
  it("tells IPv4 from IPv6", () => {
    expect(addressFamily("198.18.1.100")).toBe("ipv4");
    expect(addressFamily("0.0.0.0")).toBe("ipv4");
    expect(addressFamily("255.255.255.255")).toBe("ipv4");
    expect(addressFamily("2001:db8::1")).toBe("ipv6");
    expect(addressFamily("2001:DB8:0:0:0:0:0:1")).toBe("ipv6");
    expect(addressFamily("::")).toBe("ipv6");
    expect(addressFamily("::1")).toBe("ipv6");
    expect(addressFamily("::ffff:198.18.0.1")).toBe("ipv6");
  });

  it("refuses what is not an address", () => {
    for (const text of [
      "",
      "web",
      "256.1.1.1",
      "198.18.1",
      "198.18.1.1.",
      " 198.18.1.1",
      "01.2.3.4", // leading zeros read as octal by some tools: ambiguous
      "198.18.1.0/24",
      "1:2:3:4:5:6:7:8:9",
      "2001:db8::1::2",
      "fe80::1%eth0",
      "2001:db8::g",
      "[2001:db8::1]",
    ]) {
      expect(addressFamily(text), JSON.stringify(text)).toBeNull();
    }
  });
});

describe("canonicalIpv6 (RFC 5952)", () => {
  const cases: [string, string][] = [
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:0db8::0001", "2001:db8::1"],
    ["2001:db8::1", "2001:db8::1"],
    // The longest run is compressed; on a tie, the first one.
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    ["1:0:0:0:2:0:0:0", "1::2:0:0:0"],
    // A single zero group is never compressed.
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["2001:db8::1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"],
    // Embedded IPv4 becomes two hex groups.
    ["::ffff:198.18.0.1", "::ffff:c612:1"],
    ["::FFFF:198.18.0.1", "::ffff:c612:1"],
    ["::198.18.0.1", "::c612:1"],
    ["64:ff9b::192.0.2.33", "64:ff9b::c000:221"],
    ["1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"],
    // Edges.
    ["::", "::"],
    ["0:0:0:0:0:0:0:0", "::"],
    ["::0", "::"],
    ["::1", "::1"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["1::", "1::"],
    ["1:0:0:0:0:0:0:0", "1::"],
    ["fe80::", "fe80::"],
    ["FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
    ["2001:db8:1::100", "2001:db8:1::100"],
  ];
  it.each(cases)("%s -> %s", (input, expected) => {
    expect(canonicalIpv6(input)).toBe(expected);
  });

  /** Eight 16-bit groups, with zeros frequent enough to make runs of every length. */
  const groups = fc.array(fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffff }) }), {
    minLength: 8,
    maxLength: 8,
  });

  /** Any valid RFC 4291 spelling of the groups: leading zeros, upper case, "::" over any zero run, dotted tail. */
  const spelling = groups.chain((gs) =>
    fc
      .record({
        pads: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 8, maxLength: 8 }),
        upper: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
        dotted: fc.boolean(),
        compress: fc.nat(),
      })
      .map(({ pads, upper, dotted, compress }) => {
        const hexGroups = gs.map((g, i) => {
          const text = g.toString(16).padStart(Math.min(4, g.toString(16).length + (pads[i] ?? 0)), "0");
          return upper[i] ? text.toUpperCase() : text;
        });
        const head = dotted ? hexGroups.slice(0, 6) : hexGroups;
        const tail = dotted ? [`${gs[6]! >> 8}.${gs[6]! & 0xff}.${gs[7]! >> 8}.${gs[7]! & 0xff}`] : [];
        // Zero runs among the head groups that "::" may replace.
        const runs: [number, number][] = [];
        for (let i = 0; i < head.length; i++) {
          if (gs[i] !== 0) continue;
          for (let j = i; j < head.length && gs[j] === 0; j++) runs.push([i, j + 1]);
        }
        const run = compress % (runs.length + 1) === 0 ? undefined : runs[(compress % (runs.length + 1)) - 1];
        if (run === undefined) return { gs, text: [...head, ...tail].join(":") };
        const left = head.slice(0, run[0]).join(":");
        const right = [...head.slice(run[1]), ...tail].join(":");
        return { gs, text: `${left}::${right}` };
      }),
  );

  const expand = (text: string) => {
    const host = new URL(`http://[${text}]/`).hostname;
    return host.slice(1, -1);
  };

  it("agrees with the WHATWG URL parser's serialization on any spelling (property)", () => {
    fc.assert(
      fc.property(spelling, ({ text }) => {
        expect(addressFamily(text)).toBe("ipv6");
        expect(canonicalIpv6(text)).toBe(expand(text));
      }),
      { numRuns: 2000 },
    );
  });

  it("gives one text for every spelling of one address, and is idempotent (property)", () => {
    fc.assert(
      fc.property(spelling, spelling, ({ gs, text }, other) => {
        const canonical = canonicalIpv6(text);
        expect(canonicalIpv6(canonical)).toBe(canonical);
        expect(canonical).toBe(canonical.toLowerCase());
        expect(canonical.split("::").length).toBeLessThanOrEqual(2);
        const same = gs.every((g, i) => g === other.gs[i]);
        expect(canonicalIpv6(other.text) === canonical).toBe(same);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("canonicalAddress", () => {
  it("canonicalizes IPv6 and leaves IPv4 as written", () => {
    expect(canonicalAddress("2001:DB8:0::1")).toBe("2001:db8::1");
    expect(canonicalAddress("198.18.1.100")).toBe("198.18.1.100");
  });
});

describe("isMac", () => {
  it("accepts colon-separated MACs in either case and refuses other spellings", () => {
    expect(isMac("02:00:00:00:00:0a")).toBe(true);
    expect(isMac("02:00:00:00:00:0A")).toBe(true);
    for (const text of ["", "02:00:00:00:00", "02:00:00:00:00:0a:0b", "2:0:0:0:0:a", "02:00:00:00:00:0g", "0200.0000.000a"]) {
      expect(isMac(text), text).toBe(false);
    }
  });
});
