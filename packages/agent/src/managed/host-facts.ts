import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { HostFacts, HostInterface, HostNeighbour } from "@switchyard/core";

// What the control plane needs to render dsr farms for this host: its interfaces (name,
// MAC, addresses) and its neighbour table (IP → MAC), read with iproute2's JSON output.

const run = promisify(execFile);

export type { HostFacts, HostInterface, HostNeighbour } from "@switchyard/core";

interface AddrEntry {
  ifname?: string;
  address?: string;
  link_type?: string;
  addr_info?: { local?: string; prefixlen?: number }[];
}

interface NeighEntry {
  dst?: string;
  dev?: string;
  lladdr?: string;
  state?: string[];
}

const parseArray = (text: string, what: string): unknown[] => {
  const parsed: unknown = JSON.parse(text.trim() === "" ? "[]" : text);
  if (!Array.isArray(parsed)) throw new Error(`${what}: expected a JSON array`);
  return parsed;
};

/** Parses `ip -j addr show`. */
export function parseAddrJson(text: string): HostInterface[] {
  return (parseArray(text, "ip -j addr show") as AddrEntry[])
    .filter((e) => typeof e.ifname === "string")
    .map((e) => ({
      name: e.ifname as string,
      mac: typeof e.address === "string" && e.link_type !== "none" ? e.address.toLowerCase() : null,
      addresses: (e.addr_info ?? []).filter((a) => typeof a.local === "string").map((a) => (a.prefixlen === undefined ? a.local! : `${a.local}/${a.prefixlen}`)),
    }));
}

/** Parses `ip -j neigh show`. */
export function parseNeighJson(text: string): HostNeighbour[] {
  return (parseArray(text, "ip -j neigh show") as NeighEntry[])
    .filter((e) => typeof e.dst === "string")
    .map((e) => ({
      ip: e.dst as string,
      mac: typeof e.lladdr === "string" ? e.lladdr.toLowerCase() : null,
      dev: e.dev ?? "",
      state: (e.state ?? []).join(","),
    }));
}

export type IpRunner = (args: string[]) => Promise<string>;

const ipRunner: IpRunner = async (args) => (await run("ip", args, { timeout: 10_000, maxBuffer: 16 * 1024 * 1024 })).stdout;

export async function readHostFacts(ip: IpRunner = ipRunner): Promise<HostFacts> {
  const [addr, neigh] = await Promise.all([ip(["-j", "addr", "show"]), ip(["-j", "neigh", "show"])]);
  return { interfaces: parseAddrJson(addr), neighbours: parseNeighJson(neigh) };
}
