import { describe, expect, it } from "vitest";
import { rateText, scaled, totalText } from "./units";

// How the Traffic page writes rates and totals: bytes in decimal steps with their unit, packets
// scaled, connections as they are; "—" before there is a rate.

describe("traffic units", () => {
  it("writes bytes per second in decimal steps with the unit", () => {
    expect(rateText("bytes", 512)).toBe("512 B/s");
    expect(rateText("bytes", 1_234_567)).toBe("1.23 MB/s");
    expect(rateText("bytes", 45_600)).toBe("45.6 kB/s");
    expect(rateText("bytes", undefined)).toBe("—");
  });

  it("scales packets, keeps connections as they are", () => {
    expect(rateText("packets", 12_500)).toBe("12.5 k");
    expect(rateText("packets", 7)).toBe("7.00");
    expect(rateText("connections", 3.5)).toBe("3.50");
    expect(scaled(2_000_000_000)).toBe("2.00 G");
  });

  it("writes totals: bytes with their unit, counts in full", () => {
    expect(totalText("bytes", 71_400)).toBe("71.4 kB");
    expect(totalText("bytes", 0)).toBe("0 B");
    expect(rateText("connections", 0)).toBe("0");
    expect(totalText("connections", 1_234_567)).toBe("1,234,567");
  });
});
