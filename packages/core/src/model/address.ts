import { z } from "zod";

const ipv4 = z.ipv4();
const ipv6 = z.ipv6();
const mac = z.mac();

export type AddressFamily = "ipv4" | "ipv6";

export function addressFamily(text: string): AddressFamily | null {
  if (ipv4.safeParse(text).success) return "ipv4";
  if (ipv6.safeParse(text).success) return "ipv6";
  return null;
}

export function isMac(text: string): boolean {
  return mac.safeParse(text).success;
}

/**
 * RFC 5952 text for an IPv6 address (lower case, zeros compressed once, the longest run
 * first), so that "2001:DB8:0::1" and "2001:db8::1" are one address to duplicate checks and
 * render to the same bytes. The input must already be a valid IPv6 address.
 */
export function canonicalIpv6(text: string): string {
  let head = text.toLowerCase();
  let tailGroups: string[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(head);
  if (v4?.[1]) {
    const octets = v4[1].split(".").map(Number);
    tailGroups = [
      (((octets[0] ?? 0) << 8) | (octets[1] ?? 0)).toString(16),
      (((octets[2] ?? 0) << 8) | (octets[3] ?? 0)).toString(16),
    ];
    head = head.slice(0, -v4[1].length);
    if (!head.endsWith("::")) head = head.slice(0, -1);
  }
  const [left = "", right] = head.split("::");
  const leftGroups = left === "" ? [] : left.split(":");
  const rightGroups = right === undefined || right === "" ? [] : right.split(":");
  const known = leftGroups.length + rightGroups.length + tailGroups.length;
  const fill = right === undefined ? [] : Array<string>(8 - known).fill("0");
  const groups = [...leftGroups, ...fill, ...rightGroups, ...tailGroups].map((g) => parseInt(g, 16).toString(16));

  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === "0") j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(":");
  return `${groups.slice(0, bestStart).join(":")}::${groups.slice(bestStart + bestLen).join(":")}`;
}

export function canonicalAddress(text: string): string {
  return addressFamily(text) === "ipv6" ? canonicalIpv6(text) : text;
}
