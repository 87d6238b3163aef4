import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatPorts, parsePorts, rangesOverlap, type PortRange } from "./ports.ts";

function ranges(text: string): PortRange[] {
  const result = parsePorts(text);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(text)} to parse, got: ${result.reason}`);
  return result.ranges;
}

function reason(text: string): string {
  const result = parsePorts(text);
  if (result.ok) throw new Error(`expected ${JSON.stringify(text)} to be refused, got ${JSON.stringify(result.ranges)}`);
  return result.reason;
}

describe("parsePorts", () => {
  it("reads a single port", () => {
    expect(ranges("80")).toEqual([{ from: 80, to: 80 }]);
  });

  it("reads lists and ranges, tolerating blanks around separators", () => {
    expect(ranges("80,443,8000-8100")).toEqual([
      { from: 80, to: 80 },
      { from: 443, to: 443 },
      { from: 8000, to: 8100 },
    ]);
    expect(ranges(" 443 , 80 , 8000 - 8100 ")).toEqual([
      { from: 80, to: 80 },
      { from: 443, to: 443 },
      { from: 8000, to: 8100 },
    ]);
  });

  it("sorts, and merges overlapping and adjacent ranges", () => {
    expect(ranges("443,80")).toEqual([
      { from: 80, to: 80 },
      { from: 443, to: 443 },
    ]);
    expect(ranges("100-200,150-300")).toEqual([{ from: 100, to: 300 }]);
    expect(ranges("100-200,201-300")).toEqual([{ from: 100, to: 300 }]);
    expect(ranges("80,81,82")).toEqual([{ from: 80, to: 82 }]);
    expect(ranges("1000-2000,1500")).toEqual([{ from: 1000, to: 2000 }]);
    expect(ranges("80,80")).toEqual([{ from: 80, to: 80 }]);
    // A gap of one port keeps the ranges apart.
    expect(ranges("100-200,202-300")).toEqual([
      { from: 100, to: 200 },
      { from: 202, to: 300 },
    ]);
  });

  it("reads the range bounds 1 and 65535 and a one-port range", () => {
    expect(ranges("1-65535")).toEqual([{ from: 1, to: 65535 }]);
    expect(ranges("1,65535")).toEqual([
      { from: 1, to: 1 },
      { from: 65535, to: 65535 },
    ]);
    expect(ranges("90-90")).toEqual([{ from: 90, to: 90 }]);
  });

  it("reads the empty string (and blanks) as every port", () => {
    expect(ranges("")).toEqual([]);
    expect(ranges("   ")).toEqual([]);
  });

  it("refuses port 0 and ports above 65535, naming the port", () => {
    expect(reason("0")).toBe("port 0 is out of range 1-65535");
    expect(reason("80,0")).toBe("port 0 is out of range 1-65535");
    expect(reason("65536")).toBe("port 65536 is out of range 1-65535");
    expect(reason("0-80")).toContain("port 0 is out of range");
    expect(reason("80-65536")).toContain("port 65536 is out of range");
    expect(reason("99999")).toContain("out of range");
  });

  it("refuses a reversed range", () => {
    expect(reason("8100-8000")).toBe("range 8100-8000 ends before it starts");
    expect(reason("81-80")).toBe("range 81-80 ends before it starts");
  });

  it("refuses garbage, naming the part that is wrong", () => {
    expect(reason("http")).toBe('"http" is not a port or a range such as 8000-8100');
    expect(reason("80,https")).toContain('"https"');
    for (const text of ["80,,443", "80,", "-80", "80-", "80-90-100", "8o", "1e3", "80.5", "+80", "80 443", "123456", "0x50"]) {
      expect(parsePorts(text).ok, text).toBe(false);
    }
  });
});

describe("formatPorts", () => {
  it("writes single ports bare and ranges with a dash", () => {
    expect(formatPorts([])).toBe("");
    expect(
      formatPorts([
        { from: 80, to: 80 },
        { from: 8000, to: 8100 },
      ]),
    ).toBe("80,8000-8100");
  });

  it("is the canonical spelling: two spellings of one port set format alike", () => {
    expect(formatPorts(ranges("443, 80,81-90,85"))).toBe("80-90,443");
  });

  const portList = fc.array(
    fc.oneof(
      fc.integer({ min: 1, max: 65535 }).map((p) => ({ from: p, to: p })),
      fc
        .tuple(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 0, max: 2000 }))
        .map(([from, len]) => ({ from, to: Math.min(65535, from + len) })),
    ),
    { minLength: 1, maxLength: 12 },
  );
  const spell = (list: PortRange[]) => list.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`)).join(",");
  const covered = (list: readonly PortRange[], port: number) => list.some((r) => r.from <= port && port <= r.to);

  it("round trips: parse(format(parse(x))) equals parse(x), and covers exactly the same ports (property)", () => {
    fc.assert(
      fc.property(portList, fc.array(fc.integer({ min: 1, max: 65535 }), { maxLength: 50 }), (list, probes) => {
        const parsed = ranges(spell(list));
        expect(ranges(formatPorts(parsed))).toEqual(parsed);
        // Sorted, disjoint and non-adjacent: the canonical form.
        for (let i = 1; i < parsed.length; i++) expect(parsed[i]!.from).toBeGreaterThan(parsed[i - 1]!.to + 1);
        for (const port of [...probes, ...list.flatMap((r) => [r.from, r.to, r.from - 1, r.to + 1])]) {
          expect(covered(parsed, port), `port ${port}`).toBe(covered(list, port));
        }
      }),
    );
  });
});

describe("rangesOverlap", () => {
  it("returns the first overlapping interval, or null", () => {
    expect(rangesOverlap(ranges("80-90"), ranges("85,100"))).toEqual({ from: 85, to: 85 });
    expect(rangesOverlap(ranges("80-90"), ranges("85-200"))).toEqual({ from: 85, to: 90 });
    expect(rangesOverlap(ranges("80-90"), ranges("91-200"))).toBeNull();
    expect(rangesOverlap(ranges("80"), ranges("443"))).toBeNull();
  });
});
