import { fileURLToPath } from "node:url";
import type { ChildProcess } from "node:child_process";
import { assertOwn, type LabContext } from "./topology.ts";
import type { Host, ServerOptions } from "./types.ts";

const SERVER = fileURLToPath(new URL("./scripts/echo-server.mjs", import.meta.url));
const READY_TIMEOUT_MS = 10_000;

function checkPorts(ports: number[]): number[] {
  for (const p of ports) if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`netlab: bad port ${p}`);
  return ports;
}

/** Resolves when the server prints "ready"; rejects (with its stderr) if it exits or stays silent. */
function ready(child: ChildProcess, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => fail(`no "ready" within ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`netlab: ${what}: ${why}${err ? `: ${err.trim()}` : ""}`));
    };
    child.stderr?.setEncoding("utf8").on("data", (d: string) => (err = (err + d).slice(-4000)));
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      if (out.includes("ready\n")) {
        clearTimeout(timer);
        out = "";
        resolve();
      }
      out = out.slice(-100); // keep draining; nothing after "ready" is expected
    });
    child.once("error", (e) => fail(e.message));
    child.once("exit", (code, signal) => fail(`exited (${code ?? signal}) before it was ready`));
  });
}

/** One echo server per host, answering with the host's name on every given port. */
export async function startServers(ctx: LabContext, defaultHosts: Host[], opts: ServerOptions): Promise<void> {
  const tcp = checkPorts(opts.tcpPorts ?? []);
  const udp = checkPorts(opts.udpPorts ?? []);
  const hold = checkPorts(opts.holdPorts ?? []);
  if (tcp.length === 0 && udp.length === 0 && hold.length === 0) return;
  const hosts = opts.hosts ?? defaultHosts;
  for (const h of hosts) assertOwn(ctx, h.ns);
  const args = [
    ...(tcp.length ? ["--tcp", tcp.join(",")] : []),
    ...(udp.length ? ["--udp", udp.join(",")] : []),
    ...(hold.length ? ["--hold", hold.join(",")] : []),
  ];
  const started = hosts.map((h) => {
    const child = ctx.children.spawn(["ip", "netns", "exec", h.ns, process.execPath, SERVER, h.name, ...args]);
    return ready(child, `echo server on ${h.name} (${h.ns})`);
  });
  const settled = await Promise.allSettled(started);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failure) throw failure.reason;
}
