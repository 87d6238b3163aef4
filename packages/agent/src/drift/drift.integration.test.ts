import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRuleset, parseConfig, type IrRuleset } from "@switchyard/core";
import { createLab, type Lab } from "@switchyard/netlab";
import { irHash } from "../managed/schema.ts";
import { backendAddrs } from "../testing/agent-in-lab.ts";
import { startAgent, type ApiResponse, type RunningAgent } from "../testing/agent-client.ts";

// Drift against the real kernel: a managed agent in the balancer namespace applies a ruleset,
// then its tables are changed by hand with nft (flushed, edited in place, extended, deleted) and
// the agent must see each change, say what differs, and put its tables back on request or by
// itself; changes to other tables are none of its business.

const VIP = "198.18.1.100";
const TOKEN = "drift-test-token-0123456789abcdef0123";
const T = "switchyard";

let lab: Lab;
let dir: string;
let tokenFile: string;
const agents: RunningAgent[] = [];

async function start(args: string[], stateName: string, port: number): Promise<RunningAgent> {
  const agent = await startAgent(lab, { stateDir: join(dir, stateName), port, args: ["--managed", "--token-file", tokenFile, ...args] });
  agents.push(agent);
  return agent;
}

function ir(): IrRuleset {
  const [a1 = "", a2 = ""] = backendAddrs(lab);
  const config = parseConfig({
    farms: [
      {
        name: "web",
        "virtual-addr": VIP,
        "virtual-ports": "80",
        scheduler: "rr",
        backends: [
          { name: "b1", "ip-addr": a1, port: "8080" },
          { name: "b2", "ip-addr": a2, port: "8080" },
        ],
      },
    ],
  });
  return buildRuleset(config, { table: T });
}

async function nft(...args: string[]): Promise<string> {
  const run = await lab.exec(lab.balancer.ns, ["nft", ...args]);
  if (run.code !== 0) throw new Error(`nft ${args.join(" ")}: ${run.stderr}`);
  return run.stdout;
}

const listOurs = () => nft("-s", "list", "table", "inet", T);

interface Report {
  drifted: boolean | null;
  differences: string[];
  checks: number;
  repairs: number;
}

async function ok(response: Promise<ApiResponse>): Promise<Report> {
  const r = await response;
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.text}`);
  return r.body as Report;
}

beforeAll(async () => {
  lab = await createLab({ backends: 2 });
  await lab.startServers({ tcpPorts: [8080] });
  dir = mkdtempSync(join(tmpdir(), "switchyard-drift-"));
  tokenFile = join(dir, "token");
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
});
afterAll(async () => {
  for (const a of agents) await a.stop("SIGKILL");
  await lab?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("drift", () => {
  it("is found, named, reported in status and metrics, and repaired on request", async () => {
    const agent = await start(["--drift-interval", "0"], "on-request", 5555);
    const call = (method: string, path: string, body?: unknown) => agent.client.managed(method, path, TOKEN, body);
    const desired = ir();
    expect((await call("PUT", "/v1/ruleset", { revision: 1, hash: irHash(desired), ir: desired })).status).toBe(200);
    const applied = await listOurs();

    expect(await ok(call("POST", "/v1/drift"))).toMatchObject({ drifted: false, differences: [], checks: 1 });
    // Other tables are not the agent's business.
    await lab.exec(lab.balancer.ns, ["nft", "add table inet filter; add chain inet filter input { type filter hook input priority 0; }; add rule inet filter input tcp dport 22 accept"]);
    expect(await ok(call("POST", "/v1/drift"))).toMatchObject({ drifted: false });

    await nft("flush", "chain", "inet", T, "farm-web-4");
    const flushed = await ok(call("POST", "/v1/drift"));
    expect(flushed.drifted).toBe(true);
    expect(flushed.differences).toEqual([`table inet ${T}: chain farm-web-4 has 0 rules, expected 4`]);
    const status = (await call("GET", "/v1/status")).body as { drift: Report };
    expect(status.drift).toMatchObject({ drifted: true });
    expect((await call("GET", "/metrics")).text).toMatch(/^switchyard_agent_drift 1$/m);
    expect((await lab.connect({ target: VIP, port: 80, proto: "tcp", count: 4 })).failed).toBe(4);

    const repaired = await ok(call("POST", "/v1/repair"));
    expect(repaired).toMatchObject({ drifted: false, repairs: 1, differences: [] });
    expect(await listOurs()).toBe(applied);
    expect((await call("GET", "/metrics")).text).toMatch(/^switchyard_agent_drift 0$/m);
    const tally = await lab.connect({ target: VIP, port: 80, proto: "tcp", count: 20 });
    expect(tally.failed).toBe(0);
    expect(Object.keys(tally.byBackend).sort()).toEqual(["b1", "b2"]);
    expect(await nft("list", "table", "inet", "filter")).toContain("tcp dport 22 accept");
  });

  it("sees a rule edited in place, an object added and its table deleted", async () => {
    const agent = agents.at(-1);
    if (agent === undefined) throw new Error("no agent");
    const call = (method: string, path: string) => agent.client.managed(method, path, TOKEN);
    expect(await ok(call("POST", "/v1/drift"))).toMatchObject({ drifted: false });

    // Same number of rules, one sends every connection to b2: only the listing shows it.
    const handles = await nft("-a", "list", "chain", "inet", T, "farm-web-4");
    const handle = /ct mark 0xc0000000 .*# handle (\d+)/.exec(handles)?.[1];
    expect(handle).toBeDefined();
    const [, a2 = ""] = backendAddrs(lab);
    await nft("replace", "rule", "inet", T, "farm-web-4", "handle", handle ?? "", "ct", "mark", "0xc0000000", "meta", "l4proto", "tcp", "dnat", "ip", "to", `${a2}:8080`);
    const edited = await ok(call("POST", "/v1/drift"));
    expect(edited.drifted).toBe(true);
    expect(edited.differences[0]).toMatch(new RegExp(`^table inet ${T}: rules changed since the agent applied them \\(line \\d+: expected "ct mark 0xc0000000 meta l4proto tcp counter name \\\\"c/web/\\w+\\\\" dnat ip to 198\\.18\\.2\\.11:8080", found "ct mark 0xc0000000 meta l4proto tcp dnat ip to 198\\.18\\.2\\.12:8080"\\)$`));
    await ok(call("POST", "/v1/repair"));

    await nft("add", "set", "inet", T, "intruder", "{ type ipv4_addr; }");
    expect((await ok(call("POST", "/v1/drift"))).differences).toEqual([`table inet ${T}: set intruder is not the agent's`]);
    await ok(call("POST", "/v1/repair"));
    expect(await nft("list", "table", "inet", T)).not.toContain("intruder");

    await nft("delete", "table", "inet", T);
    expect((await ok(call("POST", "/v1/drift"))).differences).toEqual([`table inet ${T} is missing`]);
    expect(await ok(call("POST", "/v1/repair"))).toMatchObject({ drifted: false });
    expect((await lab.connect({ target: VIP, port: 80, proto: "tcp", count: 10 })).failed).toBe(0);
    await agent.stop();
  });

  it("--repair-drift puts the tables back by itself", async () => {
    const agent = await start(["--drift-interval", "1", "--repair-drift"], "auto", 5556);
    const desired = ir();
    expect((await agent.client.managed("PUT", "/v1/ruleset", TOKEN, { revision: 1, hash: irHash(desired), ir: desired })).status).toBe(200);
    const applied = await listOurs();
    await nft("delete", "table", "inet", T);
    const deadline = Date.now() + 10_000;
    let back = "";
    while (Date.now() < deadline) {
      back = await nft("-s", "list", "table", "inet", T).catch(() => "");
      if (back !== "") break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(back).toBe(applied);
    expect(agent.stderr()).toContain("repairing drift");
    await agent.stop();
  });
});
