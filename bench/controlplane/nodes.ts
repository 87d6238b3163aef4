import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";

// Bare load-balancer nodes for the control plane benchmark: a network namespace each, with a
// veth to the host (a /30 of 198.19.248.0/22) and a managed agent listening on its end. No
// traffic goes through them: the benchmark measures how fast rules get there.

const AGENT = resolve(import.meta.dirname, "../../bin/switchyard-agent");

export interface BenchNode {
  ns: string;
  url: string;
  agent: ChildProcess | null;
}

function run(argv: string[]): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(argv[0] ?? "", argv.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.on("error", fail);
    child.on("close", (code) => (code === 0 ? done() : fail(new Error(`${argv.join(" ")}: ${err.trim()}`))));
  });
}

const dotted = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
const BASE = ((198 << 24) | (19 << 16) | (248 << 8)) >>> 0;

export const RUN = randomBytes(2).toString("hex");

export async function createNode(index: number): Promise<BenchNode> {
  const ns = `sy-cp${RUN}-${index}`;
  const hostIface = `sy-cp${RUN}h${index}`;
  const host = dotted(BASE + index * 4 + 1);
  const node = dotted(BASE + index * 4 + 2);
  await run(["ip", "netns", "add", ns]);
  await run(["ip", "-n", ns, "link", "set", "lo", "up"]);
  await run(["ip", "link", "add", hostIface, "type", "veth", "peer", "name", "mgmt0", "netns", ns]);
  await run(["ip", "addr", "add", `${host}/30`, "dev", hostIface]);
  await run(["ip", "link", "set", hostIface, "up"]);
  await run(["ip", "-n", ns, "addr", "add", `${node}/30`, "dev", "mgmt0"]);
  await run(["ip", "-n", ns, "link", "set", "mgmt0", "up"]);
  return { ns, url: `http://${node}:5555`, agent: null };
}

/** Starts the node's agent (managed, the given token) and waits until it listens. */
export function startAgent(node: BenchNode, tokenFile: string, stateDir: string): Promise<void> {
  const address = new URL(node.url).hostname;
  const child = spawn("ip", ["netns", "exec", node.ns, AGENT, "--managed", "--token-file", tokenFile, "-H", address, "-P", "5555", "--state-dir", stateDir, "--drift-interval", "0", "-l", "info"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  node.agent = child;
  let log = "";
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`agent in ${node.ns} did not start:\n${log}`)), 60_000);
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      log += d;
      if (log.includes('"msg":"listening"')) {
        clearTimeout(timer);
        done();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`agent in ${node.ns} exited (${code}):\n${log}`));
    });
  });
}

/** Stops the agents (by pid) and deletes the namespaces, whatever state they are in. */
export async function destroyNodes(nodes: readonly BenchNode[]): Promise<void> {
  for (const node of nodes) {
    if (node.agent !== null && node.agent.exitCode === null) {
      node.agent.removeAllListeners("exit");
      const exited = new Promise((done) => node.agent?.once("exit", done));
      node.agent.kill("SIGTERM");
      await exited;
    }
    await run(["ip", "netns", "del", node.ns]).catch(() => {});
  }
}

export const stateDirOf = (root: string, node: BenchNode) => join(root, `${node.ns}-state`);
