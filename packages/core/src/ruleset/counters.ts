import { COUNTER_NAME } from "./ir.ts";

// Counter names: two counters per backend of each NAT farm. `c/FARM/BACKEND`, a named counter
// object, counts the connections the farm chain gives the backend (nat chains see a
// connection's first packet only); `t/FARM/BACKEND` names the elements of the traffic sets that
// count every packet and byte of those connections, both ways (the traffic chain, see
// traffic.ts): the agent reads the elements and reports their sum under this name. Farm and backend names cannot hold "/" (letters, digits,
// "_", ".", "-"), so a name splits back into its kind, farm and backend without a table to
// look them up in; nft reads it bare, and it stays far under the kernel's 255 bytes (at most 129).

const PART = /^[A-Za-z0-9_.-]+$/;

/** What a core counter counts: new connections, or the packets and bytes of all of them. */
export type CounterKind = "connections" | "traffic";

const PREFIX: Record<CounterKind, string> = { connections: "c", traffic: "t" };

/** The connection counter of one backend of one farm. */
export function backendCounterName(farm: string, backend: string): string {
  return `c/${farm}/${backend}`;
}

/** The traffic (packets and bytes, both directions) counter of one backend of one farm. */
export function backendTrafficCounterName(farm: string, backend: string): string {
  return `t/${farm}/${backend}`;
}

/** Whether `name` is one of the counters of farm `farm` (c/FARM/… or t/FARM/…). */
export function isCounterOfFarm(name: string, farm: string): boolean {
  return name.charCodeAt(1) === 0x2f && name.startsWith(farm, 2) && name.charCodeAt(2 + farm.length) === 0x2f;
}

/** The kind, farm and backend of a counter name core made; null for any other name. */
export function parseCounterName(name: string): { kind: CounterKind; farm: string; backend: string } | null {
  if (!COUNTER_NAME.test(name)) return null;
  const parts = name.split("/");
  if (parts.length !== 3) return null;
  const [prefix, farm = "", backend = ""] = parts;
  const kind = prefix === PREFIX.connections ? "connections" : prefix === PREFIX.traffic ? "traffic" : null;
  return kind !== null && PART.test(farm) && PART.test(backend) ? { kind, farm, backend } : null;
}
