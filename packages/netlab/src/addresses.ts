import { isIPv4, isIPv6 } from "node:net";

// The fixed plan. Only 198.18.0.0/15 and 2001:db8::/32, only inside the lab's namespaces.
export const CLIENT_NET4 = "198.18.0.0/24";
export const CLIENT_NET6 = "2001:db8::/64";
export const LB_CLIENT4 = "198.18.0.1";
export const LB_CLIENT6 = "2001:db8::1";
export const LB_BACKEND4 = "198.18.2.1";
export const LB_BACKEND6 = "2001:db8:2::1";
export const DSR_CLIENT4 = "198.18.2.200";
export const DSR_CLIENT6 = "2001:db8:2::200";

export const clientV4 = (i: number): string => `198.18.0.${2 + i}`;
export const clientV6 = (i: number): string => `2001:db8::${2 + i}`;
export const backendV4 = (k: number): string => `198.18.2.${10 + k}`;
export const backendV6 = (k: number): string => `2001:db8:2::${10 + k}`;

const hex2 = (n: number): string => n.toString(16).padStart(2, "0");
/** Locally administered, predictable: 02:00:00:00:GROUP:INDEX. */
export const mac = (group: number, index: number): string => `02:00:00:00:${hex2(group)}:${hex2(index)}`;
export const MAC = {
  client: mac(0, 2),
  clientDsr: mac(0, 0xc8),
  lbClient: mac(1, 1),
  lbBackend: mac(1, 2),
  backend: (k: number) => mac(2, k),
  peer: (i: number) => mac(3, i),
};

function v4Octets(addr: string): number[] | null {
  return isIPv4(addr) ? addr.split(".").map(Number) : null;
}

/** The eight 16-bit groups of an IPv6 address, or null. */
export function v6Groups(addr: string): number[] | null {
  if (!isIPv6(addr)) return null;
  let text = addr.split("%")[0] ?? "";
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (dotted) {
    const o = v4Octets(dotted) ?? [0, 0, 0, 0];
    text = text.slice(0, -dotted.length) + `${(((o[0] ?? 0) << 8) | (o[1] ?? 0)).toString(16)}:${(((o[2] ?? 0) << 8) | (o[3] ?? 0)).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const h = head ? head.split(":") : [];
  const t = tail === undefined ? [] : tail ? tail.split(":") : [];
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  return [...h, ...Array<string>(fill).fill("0"), ...t].map((g) => parseInt(g, 16));
}

export interface LabAddress {
  addr: string;
  family: 4 | 6;
  /** The prefix length given with the address, if any. */
  len: number | undefined;
}

/** Parses "ADDR" or "ADDR/LEN" and refuses anything outside 198.18.0.0/15 and 2001:db8::/32. */
export function labAddress(text: string): LabAddress {
  const [addr = "", lenText, extra] = text.split("/");
  const len = lenText === undefined ? undefined : Number(lenText);
  const o = v4Octets(addr);
  const g = o ? null : v6Groups(addr);
  const family = o ? 4 : 6;
  const max = family === 4 ? 32 : 128;
  const ok =
    extra === undefined &&
    (len === undefined || (Number.isInteger(len) && len >= 0 && len <= max && lenText !== "")) &&
    ((o !== null && o[0] === 198 && (o[1] === 18 || o[1] === 19)) || (g !== null && g[0] === 0x2001 && g[1] === 0xdb8));
  if (!ok) throw new Error(`netlab: ${JSON.stringify(text)} is not an address in 198.18.0.0/15 or 2001:db8::/32`);
  return { addr, family, len };
}

/** Whether an address lies on the backend LAN (198.18.2.0/24, 2001:db8:2::/64). */
export function onBackendLan(a: LabAddress): boolean {
  if (a.family === 4) return a.addr.startsWith("198.18.2.");
  const g = v6Groups(a.addr) ?? [];
  return g[0] === 0x2001 && g[1] === 0xdb8 && g[2] === 2 && g[3] === 0;
}
