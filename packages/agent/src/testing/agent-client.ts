import { spawn, type ChildProcess } from "node:child_process";
import type { Lab } from "@switchyard/netlab";
import { AGENT_BIN } from "./agent-in-lab.ts";

// A real agent daemon inside a lab's balancer namespace and a typed client for its nftlb API.
// The API listens on the namespace's loopback, so requests are made from inside the
// namespace too: a few lines of node:http run there per request (node is always at hand,
// curl may not be).

export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body parsed as JSON (the agent always answers JSON). */
  body: unknown;
  text: string;
}

export interface RequestOptions {
  /** A JSON value to send, or a string sent as it is. */
  body?: unknown;
  /** The Key header: the client's key by default; null sends none. */
  key?: string | null;
  /** Sends `Authorization: Bearer <token>` (managed API) instead of the Key header. */
  bearer?: string;
}

const REQUEST_SCRIPT = `
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const r = JSON.parse(input);
  const req = require("node:http").request(
    { host: r.host, port: r.port, method: r.method, path: r.path, headers: r.headers },
    (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => process.stdout.write(JSON.stringify({ status: res.statusCode, headers: res.headers, text: body })));
    },
  );
  req.setTimeout(20000, () => req.destroy(new Error("timed out")));
  req.on("error", (e) => {
    process.stderr.write(e.message);
    process.exitCode = 3;
  });
  req.end(r.body);
});
`;

export class AgentClient {
  constructor(
    private readonly lab: Lab,
    readonly port: number,
    readonly key: string,
    readonly host = "127.0.0.1",
  ) {}

  async request(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse> {
    const key = opts.bearer !== undefined ? null : opts.key === undefined ? this.key : opts.key;
    const body = opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
    const headers: Record<string, string> = {};
    if (key !== null) headers.Key = key;
    if (opts.bearer !== undefined) headers.Authorization = `Bearer ${opts.bearer}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const spec = { host: this.host, port: this.port, method, path, headers, body };
    const run = await this.lab.exec(this.lab.balancer.ns, [process.execPath, "-e", REQUEST_SCRIPT], { input: JSON.stringify(spec), timeoutMs: 30_000 });
    if (run.code !== 0) throw new Error(`${method} ${path}: the request failed (${run.code}): ${run.stderr.trim()}`);
    const raw = JSON.parse(run.stdout) as { status: number; headers: ApiResponse["headers"]; text: string };
    let parsed: unknown;
    try {
      parsed = String(raw.headers["content-type"] ?? "").startsWith("text/plain") ? raw.text : JSON.parse(raw.text);
    } catch {
      throw new Error(`${method} ${path}: the answer (${raw.status}) is not JSON: ${raw.text.slice(0, 200)}`);
    }
    return { ...raw, body: parsed };
  }

  getFarms(): Promise<ApiResponse> {
    return this.request("GET", "/farms");
  }

  post(fragment: unknown): Promise<ApiResponse> {
    return this.request("POST", "/farms", { body: fragment });
  }

  delete(path: string): Promise<ApiResponse> {
    return this.request("DELETE", path);
  }

  /** A managed-API request with `Authorization: Bearer <token>` (text/plain answers come back as the body string). */
  managed(method: string, path: string, token: string, body?: unknown): Promise<ApiResponse> {
    return this.request(method, path, { bearer: token, ...(body !== undefined ? { body } : {}) });
  }
}

export interface RunningAgent {
  child: ChildProcess;
  pid: number;
  client: AgentClient;
  /** Everything the agent wrote on stderr so far (its JSON log lines). */
  stderr(): string;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal to this process (by its pid) and waits for its exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface AgentRunOptions {
  stateDir: string;
  /** -k KEY (default "testkey"). */
  key?: string;
  port?: number;
  args?: string[];
}

/** Spawns `switchyard-agent` in the balancer namespace (ip netns exec execs it: the pid is the agent's). */
function spawnAgent(lab: Lab, opts: AgentRunOptions): { child: ChildProcess; stderr: () => string; exited: RunningAgent["exited"] } {
  const argv = [
    "netns", "exec", lab.balancer.ns, AGENT_BIN,
    "-k", opts.key ?? "testkey", "-H", "127.0.0.1", "-P", String(opts.port ?? 5555), "--state-dir", opts.stateDir,
    ...(opts.args ?? []),
  ];
  const child = spawn("ip", argv, { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => (err += d));
  child.stdout?.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  return { child, stderr: () => err, exited };
}

/** Starts the agent and waits until it says it listens; a start-up failure rejects with its stderr. */
export async function startAgent(lab: Lab, opts: AgentRunOptions, timeoutMs = 30_000): Promise<RunningAgent> {
  const { child, stderr, exited } = spawnAgent(lab, opts);
  const pid = child.pid;
  if (pid === undefined) throw new Error("switchyard-agent could not be spawned");
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    const check = () => {
      if (/"msg":"listening"/.test(stderr())) {
        clearTimeout(timer);
        child.stderr?.off("data", check);
        resolve(true);
      }
    };
    child.stderr?.on("data", check);
    void exited.then(() => {
      clearTimeout(timer);
      resolve(/"msg":"listening"/.test(stderr()));
    });
  });
  if (!ready) {
    child.kill("SIGKILL");
    await exited;
    throw new Error(`switchyard-agent did not start:\n${stderr()}`);
  }
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (child.exitCode === null && child.signalCode === null) process.kill(pid, signal);
    return exited;
  };
  return { child, pid, client: new AgentClient(lab, opts.port ?? 5555, opts.key ?? "testkey"), stderr, exited, stop };
}

/** Runs the agent expecting it to fail at start-up: resolves with its exit code and stderr. */
export async function runAgentToExit(lab: Lab, opts: AgentRunOptions, timeoutMs = 30_000): Promise<{ code: number | null; stderr: string }> {
  const { child, stderr, exited } = spawnAgent(lab, opts);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const { code } = await exited;
  clearTimeout(timer);
  return { code, stderr: stderr() };
}
