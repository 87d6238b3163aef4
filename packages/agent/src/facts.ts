import { execFile } from "node:child_process";
import { createSocket } from "node:dgram";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { addressFamily, type Facts, type NeededFacts } from "@switchyard/core";

const run = promisify(execFile);

async function interfaceMac(name: string): Promise<string | null> {
  try {
    return (await readFile(`/sys/class/net/${name}/address`, "utf8")).trim();
  } catch {
    return null;
  }
}

interface NeighEntry {
  dst: string;
  lladdr?: string;
  state?: string[];
}

async function neighbourTable(): Promise<Map<string, string>> {
  const { stdout } = await run("ip", ["-j", "neigh", "show"]);
  const table = new Map<string, string>();
  for (const entry of JSON.parse(stdout || "[]") as NeighEntry[]) {
    const usable = entry.lladdr !== undefined && !(entry.state ?? []).some((s) => s === "FAILED" || s === "INCOMPLETE");
    if (usable && entry.lladdr) table.set(entry.dst, entry.lladdr.toLowerCase());
  }
  return table;
}

/** A datagram to the discard port makes the kernel resolve the address (ARP or NDP). */
function nudge(address: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = createSocket(addressFamily(address) === "ipv6" ? "udp6" : "udp4");
    socket.on("error", () => {
      socket.close();
      resolve();
    });
    socket.send(Buffer.alloc(0), 9, address, () => {
      socket.close();
      resolve();
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves the host facts that rendering needs: interface MACs from sysfs, backend MACs from
 * the neighbour table, nudging unresolved backends a few times before giving up (the
 * renderer then names the backend whose MAC is unknown).
 */
export async function resolveFacts(needed: NeededFacts, attempts = 3): Promise<Facts> {
  const facts: Facts = { interfaces: {}, neighbours: {} };
  for (const name of needed.interfaces) {
    const mac = await interfaceMac(name);
    if (mac !== null) facts.interfaces[name] = { mac };
  }
  if (needed.neighbours.length === 0) return facts;
  let missing = needed.neighbours;
  for (let attempt = 0; ; attempt++) {
    const table = await neighbourTable();
    for (const address of missing) {
      const mac = table.get(address);
      if (mac !== undefined) facts.neighbours[address] = mac;
    }
    missing = missing.filter((address) => facts.neighbours[address] === undefined);
    if (missing.length === 0 || attempt >= attempts) return facts;
    await Promise.all(missing.map(nudge));
    await sleep(200 * (attempt + 1));
  }
}
