import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startAgent, type RunningAgent } from "@switchyard/agent/testing";
import { createLab, type HostLink, type Lab } from "@switchyard/netlab";

// What the browser tests run against: the real control plane (bin/switchyard serve with the
// built dashboard, a fresh SQLite data dir) and two load-balancer nodes, each a real agent in
// its own netlab balancer namespace with two backends, enrolled the way the README says.

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const CLI = join(ROOT, "bin", "switchyard");
const run = promisify(execFile);

export const USERS = {
  operator: { username: "olga", password: "operator-pass-1", role: "operator" },
  viewer: { username: "victor", password: "viewer-pass-12", role: "viewer" },
} as const;

export interface FleetInfo {
  url: string;
  users: typeof USERS;
  nodes: { name: string; url: string }[];
  /** The backends' names, as the tiny servers answer them, and their addresses (the same in both labs). */
  backends: { name: string; address: string }[];
}

export interface Fleet {
  info: FleetInfo;
  labs: Lab[];
  /** Stops (SIGTERM) or starts node i's agent. */
  stopAgent(i: number): Promise<void>;
  startAgent(i: number): Promise<void>;
  destroy(): Promise<void>;
}

async function cli(dataDir: string, args: string[], input?: string): Promise<string> {
  const child = run(CLI, [...args, "--data-dir", dataDir], { cwd: ROOT, timeout: 60_000 });
  if (input !== undefined) child.child.stdin?.end(input);
  return (await child).stdout;
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`bin/switchyard serve exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

export async function startFleet(opts: { port: number; log: (line: string) => void }): Promise<Fleet> {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-e2e-"));
  const dataDir = join(dir, "control-plane");
  const labs: Lab[] = [];
  const agents: (RunningAgent | undefined)[] = [];
  let server: ChildProcess | undefined;
  const destroy = async () => {
    for (const agent of agents) await agent?.stop("SIGKILL").catch(() => undefined);
    if (server !== undefined && server.exitCode === null) {
      server.kill("SIGTERM");
      await new Promise((r) => server?.once("exit", r));
    }
    await Promise.all(labs.map((lab) => lab.destroy()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    labs.push(...(await Promise.all([createLab({ backends: 2 }), createLab({ backends: 2 })])));
    await Promise.all(labs.map((lab) => lab.startServers({ tcpPorts: [8080] })));
    const links: HostLink[] = [];
    for (const lab of labs) links.push(await lab.linkHost());

    await cli(dataDir, ["migrate"]);
    await cli(dataDir, ["user", "add", "admin", "--role", "admin"], "admin-pass-123\n");
    for (const user of Object.values(USERS)) await cli(dataDir, ["user", "add", user.username, "--role", user.role], `${user.password}\n`);

    const nodes = links.map((link, i) => ({ name: `lb${i + 1}`, url: `http://${link.balancerAddr}:5555` }));
    const tokenFiles: string[] = [];
    for (const node of nodes) {
      // stdout is the token alone (the agent's command goes to stderr).
      const token = (await cli(dataDir, ["node", "add", node.name, node.url])).trim();
      if (token === "") throw new Error(`node add ${node.name} printed no token`);
      const file = join(dir, `${node.name}.token`);
      writeFileSync(file, `${token}\n`, { mode: 0o600 });
      tokenFiles.push(file);
    }

    const agentOptions = (i: number) => ({
      stateDir: join(dir, `agent-${i}`),
      port: 5555,
      args: ["--managed", "--token-file", tokenFiles[i] ?? "", "-H", links[i]?.balancerAddr ?? "", "--drift-interval", "0"],
    });
    for (const [i, lab] of labs.entries()) agents[i] = await startAgent(lab, agentOptions(i));

    const url = `http://127.0.0.1:${opts.port}`;
    server = spawn(CLI, ["serve", "-P", String(opts.port), "--reconcile", "2", "--data-dir", dataDir], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    server.stdout?.on("data", (d: Buffer) => opts.log(`serve: ${d.toString().trimEnd()}`));
    server.stderr?.on("data", (d: Buffer) => opts.log(`serve: ${d.toString().trimEnd()}`));
    await waitForHttp(`${url}/healthz`, server, 60_000);

    const backends = (labs[0] as Lab).backends.map((b) => ({ name: b.name, address: b.ipv4[0] ?? "" }));
    return {
      info: { url, users: USERS, nodes, backends },
      labs,
      stopAgent: async (i) => {
        await agents[i]?.stop("SIGTERM");
        agents[i] = undefined;
      },
      startAgent: async (i) => {
        agents[i] ??= await startAgent(labs[i] as Lab, agentOptions(i));
      },
      destroy,
    };
  } catch (error) {
    await destroy();
    throw error;
  }
}
