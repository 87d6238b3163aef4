import { describe, expect, it } from "vitest";
import { elementKey } from "./set-key.ts";

// The layout here is the one the kernel dumped for sets nft loaded (the same elements in
// elements.integration.test.ts must read back under these keys).

const PORTS4 = "ipv4_addr . inet_proto . inet_service . ipv4_addr . inet_service";
const PORTS6 = "ipv6_addr . inet_proto . inet_service . ipv6_addr . inet_service";

describe("elementKey", () => {
  it("pads each field of a concatenation to 4 bytes, in network order", () => {
    expect(elementKey(PORTS4, false, "198.18.128.1 . tcp . 80 . 198.18.2.11 . 80")).toBe("c6128001" + "06000000" + "00500000" + "c612020b" + "00500000");
    expect(elementKey("ipv4_addr . ipv4_addr", false, "198.18.1.7 . 198.18.2.11")).toBe("c6120107c612020b");
    expect(elementKey("ipv6_addr . ipv6_addr", false, "2001:db8::1 . 2001:db8:2::5")).toBe("20010db8000000000000000000000001" + "20010db8000200000000000000000005");
    expect(elementKey(PORTS6, false, "2001:db8::1 . sctp . 65535 . ::ffff:198.18.2.11 . 0")).toBe(
      "20010db8000000000000000000000001" + "84000000" + "ffff0000" + "00000000000000000000ffffc612020b" + "00000000",
    );
  });

  it("reads IPv6 in any text form and protocols by name or number", () => {
    const short = elementKey(PORTS6, false, "2001:db8::1 . udp . 53 . 2001:db8:2::5 . 53");
    expect(elementKey(PORTS6, false, "2001:0db8:0000:0000:0000:0000:0000:0001 . 17 . 53 . 2001:DB8:2:0:0:0:0:5 . 53")).toBe(short);
    expect(short).toContain("11000000");
  });

  it("gives a concatenated interval set's element its start key (the lows) and end key (the highs)", () => {
    expect(elementKey(PORTS4, true, "198.18.1.5 . tcp . 1000-2000 . 198.18.2.11 . 1000-2000")).toBe(
      "c61201050600000003e80000c612020b03e80000-c61201050600000007d00000c612020b07d00000",
    );
    expect(elementKey(PORTS4, true, "198.18.1.6 . udp . 0-65535 . 198.18.2.12 . 8080")).toBe(
      "c61201061100000000000000c612020c1f900000-c612010611000000ffff0000c612020c1f900000",
    );
    expect(elementKey("ipv4_addr . ipv4_addr", true, "198.18.1.7 . 198.18.2.11")).toBe("c6120107c612020b-c6120107c612020b");
    expect(elementKey("ipv4_addr . ipv4_addr", true, "10.0.0.1-10.0.0.9 . 198.18.2.11")).toBe("0a000001c612020b-0a000009c612020b");
  });

  it("does not pad a key of one field; a non-concatenated interval set keys an interval by its start", () => {
    expect(elementKey("inet_service", false, "80")).toBe("0050");
    expect(elementKey("inet_proto", false, "tcp")).toBe("06");
    expect(elementKey("ipv6_addr", false, "::1")).toBe("00000000000000000000000000000001");
    expect(elementKey("inet_service", true, "10-20")).toBe("000a");
    expect(elementKey("inet_service", true, "30")).toBe("001e");
  });

  it("is null for other types and malformed text", () => {
    for (const [type, interval, text] of [
      ["ether_addr", false, "00:11:22:33:44:55"],
      ["ipv4_addr . mark", false, "1.2.3.4 . 1"],
      [PORTS4, false, "198.18.1.5 . tcp . 80 . 198.18.2.11"],
      [PORTS4, false, "198.18.1.5 . tcp . 1000-2000 . 198.18.2.11 . 80"],
      [PORTS4, true, "198.18.1.5 . tcp . 2000-1000 . 198.18.2.11 . 80"],
      [PORTS4, false, "198.18.1.500 . tcp . 80 . 198.18.2.11 . 80"],
      [PORTS4, false, "198.18.1.5 . icmp . 80 . 198.18.2.11 . 80"],
      [PORTS4, false, "198.18.1.5 . 256 . 80 . 198.18.2.11 . 80"],
      [PORTS4, false, "198.18.1.5 . tcp . 65536 . 198.18.2.11 . 80"],
      [PORTS4, false, "198.18.1.5 . tcp . http . 198.18.2.11 . 80"],
      [PORTS4, false, "2001:db8::1 . tcp . 80 . 198.18.2.11 . 80"],
      [PORTS6, false, "2001:db8:::1 . tcp . 80 . 2001:db8::2 . 80"],
      [PORTS6, false, "fe80::1%eth0 . tcp . 80 . 2001:db8::2 . 80"],
      ["inet_service", true, "-5"],
      ["inet_service", true, "1-2-3"],
      ["ipv4_addr", false, "10.0.0.0/8"],
    ] as const) {
      expect(elementKey(type, interval, text), `${type} ${text}`).toBeNull();
    }
  });
});
