import { COUNTER_NAME } from "./ir.ts";

// Counter names: one named counter per backend of each NAT farm, `c/FARM/BACKEND`. Farm and
// backend names cannot hold "/" (letters, digits, "_", ".", "-"), so a name splits back into
// both without a table to look them up in; nft reads it bare, and it stays far under the
// kernel's 255 bytes (at most 129).

const PART = /^[A-Za-z0-9_.-]+$/;

/** The counter of one backend of one farm. */
export function backendCounterName(farm: string, backend: string): string {
  return `c/${farm}/${backend}`;
}

/** The farm and backend of a counter name core made; null for any other name. */
export function parseCounterName(name: string): { farm: string; backend: string } | null {
  if (!COUNTER_NAME.test(name)) return null;
  const parts = name.split("/");
  if (parts.length !== 3 || parts[0] !== "c") return null;
  const [, farm = "", backend = ""] = parts;
  return PART.test(farm) && PART.test(backend) ? { farm, backend } : null;
}
