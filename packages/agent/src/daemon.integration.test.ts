import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLab, type Lab } from "@switchyard/netlab";
import { AGENT_BIN, backendAddrs, listRuleset } from "./testing/agent-in-lab.ts";
import { AgentClient, runAgentToExit, startAgent, type RunningAgent } from "./testing/agent-client.ts";
import { MAX_BODY_BYTES } from "./http/server.ts";

/** Everything the state dir holds: the snapshot and the journal (a refused change must touch neither). */
const stateFiles = (dir: string) => ["state.json", "journal.ndjson"].map((f) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), "utf8") : "")).join("\n--\n");

// The standalone daemon as nftlb's users run it: its REST API inside the balancer namespace,
// real nft, real connections from the client namespace; then a SIGKILL and a restart.

const VIP = "198.18.1.100";
const PORT = 80;
const BACKEND_PORT = 8080;

let lab: Lab;
let stateDir: string;
let agent: RunningAgent | undefined;
const agents: RunningAgent[] = [];

async function start(args: string[] = [], dir = stateDir): Promise<RunningAgent> {
  const started = await startAgent(lab, { stateDir: dir, args });
  agents.push(started);
  return started;
}
const api = (): AgentClient => {
  if (agent === undefined) throw new Error("no agent running");
  return agent.client;
};

beforeAll(async () => {
  lab = await createLab({ backends: 2 });
  await lab.startServers({ tcpPorts: [BACKEND_PORT] });
  stateDir = mkdtempSync(join(tmpdir(), "switchyard-agent-state-"));
  agent = await start();
});
afterAll(async () => {
  for (const a of agents) await a.stop("SIGKILL");
  await lab?.destroy();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

async function tally(count: number) {
  const result = await lab.connect({ target: VIP, port: PORT, proto: "tcp", count });
  return result;
}

const web = () => {
  const [a1 = "", a2 = ""] = backendAddrs(lab);
  return {
    name: "web",
    "virtual-addr": VIP,
    "virtual-ports": String(PORT),
    backends: [
      { name: "b1", "ip-addr": a1, port: String(BACKEND_PORT) },
      { name: "b2", "ip-addr": a2, port: String(BACKEND_PORT) },
    ],
  };
};

describe("switchyard-agent daemon (nftlb REST API)", () => {
  it("answers 401 without the Key header or with a wrong key", async () => {
    const none = await api().request("GET", "/farms", { key: null });
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ response: "error", message: expect.stringContaining("Key") });
    const wrong = await api().request("POST", "/farms", { key: "testkez", body: { farms: [web()] } });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ response: "error", message: "the key is not valid" });
    expect((await api().getFarms()).body).toEqual({ farms: [] });
  });

  it("POST /farms creates a farm and real connections reach both backends", async () => {
    const res = await api().post({ farms: [web()] });
    expect([res.status, res.body]).toEqual([200, { response: "success" }]);
    const result = await tally(20);
    expect(result.failed).toBe(0);
    expect(result.byBackend).toEqual({ b1: 10, b2: 10 });
  });

  it("GET returns the full model with nftlb's defaults, as strings", async () => {
    const [a1, a2] = backendAddrs(lab);
    const backend = (name: string, addr: string | undefined) => ({ name, "ip-addr": addr, port: "8080", weight: "1", priority: "1", state: "up" });
    const farm = {
      name: "web",
      family: "ipv4",
      "virtual-addr": VIP,
      "virtual-ports": "80",
      mode: "snat",
      protocol: "tcp",
      scheduler: "rr",
      "sched-param": "none",
      priority: "1",
      state: "up",
      backends: [backend("b1", a1), backend("b2", a2)],
    };
    expect((await api().getFarms()).body).toEqual({ farms: [farm] });
    expect((await api().request("GET", "/farms/web")).body).toEqual({ farms: [farm] });
    const missing = await api().request("GET", "/farms/nope");
    expect([missing.status, missing.body]).toEqual([404, { response: "error", message: 'farm "nope": no such farm' }]);
  });

  it("a backend set down through POST takes no new connections", async () => {
    const res = await api().post({ farms: [{ name: "web", backends: [{ name: "b2", state: "down" }] }] });
    expect(res.status).toBe(200);
    const result = await tally(10);
    expect(result.failed).toBe(0);
    expect(result.byBackend).toEqual({ b1: 10 });
  });

  it("bad requests answer 400/404/405/413 with a located message and change nothing", async () => {
    const before = { api: (await api().getFarms()).text, ruleset: await listRuleset(lab), state: stateFiles(stateDir) };

    const v6 = await api().post({ farms: [{ name: "web", backends: [{ name: "b6", "ip-addr": "2001:db8:2::11" }] }] });
    expect(v6.status).toBe(400);
    expect(v6.body).toEqual({
      response: "error",
      message: 'farm "web", backend "b6", ip-addr = "2001:db8:2::11": is an IPv6 address but the farm\'s family is ipv4',
    });
    const proto = await api().post({ farms: [{ name: "web", protocol: "80" }] });
    expect([proto.status, proto.body]).toEqual([400, { response: "error", message: 'farm "web", protocol = "80": must be one of tcp, udp, sctp, all' }]);
    const notJson = await api().request("PUT", "/farms", { body: "{farms:" });
    expect(notJson.status).toBe(400);
    expect(notJson.body).toEqual({ response: "error", message: expect.stringContaining("not valid JSON") });
    const unknownBackend = await api().delete("/farms/web/backends/b9");
    expect([unknownBackend.status, unknownBackend.body]).toEqual([404, { response: "error", message: 'farm "web", backend "b9": no such backend' }]);
    expect((await api().delete("/farms/nope")).status).toBe(404);
    expect((await api().request("GET", "/policies")).status).toBe(404);
    const method = await api().request("POST", "/farms/web");
    expect(method.status).toBe(405);
    expect(method.headers.allow).toBe("GET, DELETE");
    const big = await api().post(`{"farms": [], "pad": "${"x".repeat(MAX_BODY_BYTES + 1)}"}`);
    expect(big.status).toBe(413);

    expect((await api().getFarms()).text).toBe(before.api);
    expect(await listRuleset(lab)).toBe(before.ruleset);
    expect(stateFiles(stateDir)).toBe(before.state);
  });

  it("DELETE removes a backend; traffic follows", async () => {
    expect((await api().post({ farms: [{ name: "web", backends: [{ name: "b2", state: "up" }] }] })).status).toBe(200);
    const res = await api().delete("/farms/web/backends/b1");
    expect([res.status, res.body]).toEqual([200, { response: "success" }]);
    const farms = (await api().getFarms()).body as { farms: { backends: { name: string }[] }[] };
    expect(farms.farms[0]?.backends.map((b) => b.name)).toEqual(["b2"]);
    const result = await tally(10);
    expect(result.failed).toBe(0);
    expect(result.byBackend).toEqual({ b2: 10 });
  });

  it("after SIGKILL, a restart re-applies the last config before it answers", async () => {
    const apiBefore = (await api().getFarms()).text;
    const killed = await agent?.stop("SIGKILL");
    expect(killed?.signal).toBe("SIGKILL");
    const del = await lab.exec(lab.balancer.ns, ["nft", "delete", "table", "inet", "switchyard"]);
    expect(del.code).toBe(0);
    expect(await listRuleset(lab)).not.toContain("table inet switchyard");

    agent = await start();
    const log = agent.stderr();
    expect(log.indexOf('"msg":"last applied ruleset re-applied"')).toBeGreaterThan(-1);
    expect(log.indexOf('"msg":"last applied ruleset re-applied"')).toBeLessThan(log.indexOf('"msg":"listening"'));
    expect(await listRuleset(lab)).toContain("chain farm-web-4");
    expect((await api().getFarms()).text).toBe(apiBefore);
    const result = await tally(6);
    expect(result.failed).toBe(0);
    expect(result.byBackend).toEqual({ b2: 6 });
  });

  it("a second agent on the same port exits 1 naming the address", async () => {
    const other = mkdtempSync(join(tmpdir(), "switchyard-agent-state-"));
    try {
      const run = await runAgentToExit(lab, { stateDir: other });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("switchyard-agent: cannot listen on 127.0.0.1:5555: the address is already in use");
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it("stops cleanly on SIGTERM, and a corrupt state file stops the next start with exit 1, rules untouched", async () => {
    const stopped = await agent?.stop("SIGTERM");
    expect(stopped).toEqual({ code: 0, signal: null });
    agent = undefined;
    const ruleset = await listRuleset(lab);
    const file = join(stateDir, "state.json");
    writeFileSync(file, '{"version": 1, "config": {"farms": [');
    const run = await runAgentToExit(lab, { stateDir });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`switchyard-agent: ${file}: the state file is corrupt`);
    expect(await listRuleset(lab)).toBe(ruleset);
  });

  it("with -c FILE and an empty state dir, applies the file and keeps it in the state dir", async () => {
    const dir = mkdtempSync(join(tmpdir(), "switchyard-agent-state-"));
    try {
      const config = join(dir, "farms.json");
      writeFileSync(config, JSON.stringify({ farms: [{ ...web(), name: "fromfile" }] }));
      const state = join(dir, "state");
      agent = await start(["-c", config], state);
      const farms = (await api().getFarms()).body as { farms: { name: string }[] };
      expect(farms.farms.map((f) => f.name)).toEqual(["fromfile"]);
      const result = await tally(4);
      expect(result.byBackend).toEqual({ b1: 2, b2: 2 });
      expect(JSON.parse(readFileSync(join(state, "state.json"), "utf8")).config.farms[0].name).toBe("fromfile");
      await agent.stop();
      agent = undefined;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Alive and not a zombie (a daemon whose parent exited is reaped by init, not by us). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

describe("switchyard-agent -d", () => {
  it("prints the daemon's pid once it listens (here on ::1 with -6 and the key from NFTLB_SERVER_KEY), then exits", async () => {
    const dir = mkdtempSync(join(tmpdir(), "switchyard-agent-d-"));
    let pid = 0;
    try {
      const logFile = join(dir, "agent.log");
      const run = await lab.exec(lab.balancer.ns, ["env", "NFTLB_SERVER_KEY=envkey", AGENT_BIN, "-d", "-6", "-P", "5556", "--state-dir", join(dir, "state"), "--log-file", logFile]);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^\d+\n$/);
      pid = Number(run.stdout);
      expect(alive(pid)).toBe(true);
      const client = new AgentClient(lab, 5556, "envkey", "::1");
      expect((await client.getFarms()).body).toEqual({ farms: [] });
      expect((await client.request("GET", "/farms", { key: "testkey" })).status).toBe(401);
      process.kill(pid, "SIGTERM");
      const deadline = Date.now() + 10_000;
      while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(alive(pid)).toBe(false);
      pid = 0;
      expect(readFileSync(logFile, "utf8")).toMatch(/"msg":"listening"[\s\S]*"msg":"stopped"/);
    } finally {
      if (pid !== 0 && alive(pid)) process.kill(pid, "SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports a start-up failure from the daemon and exits 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "switchyard-agent-d-"));
    try {
      const bad = join(dir, "farms.json");
      writeFileSync(bad, JSON.stringify({ farms: [{ name: "web", "virtual-addr": VIP, protocol: "80" }] }));
      const run = await lab.exec(lab.balancer.ns, [AGENT_BIN, "-d", "-k", "x", "-P", "5557", "--state-dir", join(dir, "state"), "-c", bad]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`${bad} was not applied`);
      expect(run.stderr).toContain('farm "web", protocol = "80": must be one of tcp, udp, sctp, all');
      expect(existsSync(join(dir, "state", "state.json"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
