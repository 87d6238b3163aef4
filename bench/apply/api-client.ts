// Runs inside the benchmark's namespace (ip netns exec … node --import tsx): sends one change
// after another to the agent on 127.0.0.1 and prints how long each took, request sent to
// answer received. The agent answers after nft committed, so that is "request in → rules live".
import { Agent, request } from "node:http";
import { buildRuleset, diffIr, parseConfig, type Config } from "@switchyard/core";
import { irHash } from "@switchyard/agent";
import { planServices } from "../dataplane/plan.ts";
import { switchyardConfig } from "../dataplane/switchyard.ts";
import { BACKENDS, TABLE, toggled } from "./changes.ts";

const [mode, port, farmsArg, changesArg, secret] = process.argv.slice(2);
const farms = Number(farmsArg);
const changes = Number(changesArg);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function send(method: string, path: string, headers: Record<string, string>, body: string): Promise<{ status: number; ms: number; text: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request({ host: "127.0.0.1", port: Number(port), method, path, agent, headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), ...headers } }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, text }));
    });
    req.setTimeout(120_000, () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end(body);
  });
}

const config: Config = parseConfig(switchyardConfig(planServices(farms, BACKENDS), "weight"));
const times: number[] = [];
const patchTimes: number[] = [];
let first: number | null = null;
if (mode === "standalone") {
  // nftlb's API: one backend of one farm down (or up again), as a health checker would send it.
  let current = config;
  for (let c = 0; c < changes; c++) {
    const k = (c * 7919) % farms;
    current = toggled(current, k);
    const farm = current.farms[k];
    const body = JSON.stringify({ farms: [{ name: farm?.name, backends: [{ name: "b1", state: farm?.backends[0]?.state }] }] });
    const r = await send("POST", "/farms", { Key: secret ?? "" }, body);
    if (r.status !== 200) throw new Error(`POST /farms: ${r.status} ${r.text}`);
    times.push(r.ms);
  }
} else {
  // The control plane's API: the whole desired IR with each revision.
  let current = config;
  for (let c = 0; c <= changes; c++) {
    if (c > 0) current = toggled(current, (c * 7919) % farms);
    const ir = buildRuleset(current, { table: TABLE });
    const body = JSON.stringify({ revision: c + 1, hash: irHash(ir), ir });
    const r = await send("PUT", "/v1/ruleset", { Authorization: `Bearer ${secret}` }, body);
    if (r.status !== 200) throw new Error(`PUT /v1/ruleset: ${r.status} ${r.text}`);
    if (c === 0) first = r.ms;
    else times.push(r.ms);
  }
  // The same changes as patches of the ruleset the agent has (PATCH /v1/ruleset), as the control
  // plane sends them when it knows what the node runs.
  let applied = buildRuleset(current, { table: TABLE });
  for (let c = 1; c <= changes; c++) {
    current = toggled(current, (c * 104_729 + 13) % farms);
    const ir = buildRuleset(current, { table: TABLE });
    const body = JSON.stringify({ revision: changes + 1 + c, baseHash: irHash(applied), hash: irHash(ir), patch: diffIr(applied, ir) });
    const r = await send("PATCH", "/v1/ruleset", { Authorization: `Bearer ${secret}` }, body);
    if (r.status !== 200) throw new Error(`PATCH /v1/ruleset: ${r.status} ${r.text}`);
    patchTimes.push(r.ms);
    applied = ir;
  }
}
agent.destroy();
process.stdout.write(JSON.stringify({ times, first, patchTimes }));
