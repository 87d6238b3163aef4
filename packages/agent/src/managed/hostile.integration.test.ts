import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRuleset, diffIr, parseConfig, type IrRuleset } from "@switchyard/core";
import { createLab, type Lab } from "@switchyard/netlab";
import { irHash } from "./schema.ts";
import { StateDir } from "../state/state-dir.ts";
import { backendAddrs } from "../testing/agent-in-lab.ts";
import { startAgent, type RunningAgent } from "../testing/agent-client.ts";
import { addForeignTables, listForeignTables } from "../testing/foreign-tables.ts";

// Hundreds of rulesets through PUT /v1/ruleset of a real managed agent, most of them hostile or
// broken (commands smuggled into rules and elements, other tables, jumps out of the table, rules
// the kernel refuses, stale revisions, wrong hashes), mixed with good ones; about half of them
// sent as PATCH /v1/ruleset instead (the patch from the last good ruleset to the same IR), which
// must be refused exactly as the whole ruleset is. After every request the host's firewall and
// Docker-like NAT tables are byte-identical to how they started, and the agent's table is
// exactly the last good ruleset, whatever the answer was.

const TOKEN = "hostile-test-token-0123456789abcdef01";
const T = "switchyard";
const VIP = "198.18.1.100";
const REQUESTS = 300;
const DEADLINE_MS = 200_000;

let lab: Lab;
let dir: string;
let agent: RunningAgent | undefined;

/** A small deterministic PRNG, so that a failure can be replayed. */
function prng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

function goodIr(step: number): IrRuleset {
  const [a1 = "", a2 = ""] = backendAddrs(lab);
  const config = parseConfig({
    farms: [
      {
        name: "web",
        "virtual-addr": VIP,
        "virtual-ports": "80",
        scheduler: "weight",
        backends: [
          { name: "b1", "ip-addr": a1, port: "8080", weight: String(1 + (step % 3)) },
          { name: "b2", "ip-addr": a2, port: "8080", state: step % 4 === 3 ? "down" : "up" },
        ],
      },
      { name: `extra${step % 5}`, "virtual-addr": "198.18.1.101", "virtual-ports": String(8000 + (step % 5)), backends: [{ name: "x", "ip-addr": a1 }] },
    ],
  });
  return buildRuleset(config, { table: T });
}

type Hostile = { what: string; body: (revision: number, base: IrRuleset) => unknown; status: number };

const withRule = (rule: string) => (revision: number, base: IrRuleset) => {
  const ir = structuredClone(base);
  ir.tables[0]?.chains.find((c) => c.name === "farm-web-4")?.rules.push(rule);
  return { revision, hash: irHash(ir), ir };
};
const withElementValue = (value: string) => (revision: number, base: IrRuleset) => {
  const ir = structuredClone(base);
  const map = ir.tables[0]?.maps.find((m) => m.name === "svc4-ports");
  map?.elements.push(["tcp . 198.18.1.100 . 81", value]);
  return { revision, hash: irHash(ir), ir };
};
const mutate = (change: (ir: IrRuleset) => void) => (revision: number, base: IrRuleset) => {
  const ir = structuredClone(base);
  change(ir);
  return { revision, hash: irHash(ir), ir };
};

const HOSTILE: Hostile[] = [
  { what: "flush ruleset as a rule", body: withRule("flush ruleset"), status: 400 },
  { what: "a second command after ;", body: withRule("accept; delete table inet filter"), status: 400 },
  { what: "a second command after a newline", body: withRule("accept\ndelete table ip nat"), status: 400 },
  { what: "a brace that closes the chain", body: withRule("accept } delete table inet filter { "), status: 400 },
  { what: "a comment", body: withRule("accept # delete table inet filter"), status: 400 },
  { what: "a jump to another table's chain", body: withRule("jump input"), status: 400 },
  { what: "a goto to Docker's chain", body: withRule("goto DOCKER"), status: 400 },
  { what: "a foreign set", body: withRule("ip saddr @blocklist drop"), status: 400 },
  { what: "an include", body: withRule('include "/etc/nftables.conf"'), status: 400 },
  { what: "an element value with a second command", body: withElementValue("accept; flush ruleset"), status: 400 },
  { what: "an element that jumps out of the table", body: withElementValue("goto input"), status: 400 },
  { what: "a table of another name", body: mutate((ir) => ir.tables[0] && (ir.tables[0].name = "filter")), status: 400 },
  { what: "a table of family ip", body: mutate((ir) => ir.tables[0] && ((ir.tables[0] as { family: string }).family = "ip")), status: 400 },
  {
    what: "a hook device with a command",
    body: mutate((ir) => ir.tables.push({ family: "netdev", name: T, maps: [], chains: [{ name: "x", hook: { type: "filter", hook: "ingress", priority: 0, device: 'lo" ; flush ruleset ; "' }, rules: [] }] })),
    status: 400,
  },
  { what: "a chain removed while a map still jumps to it", body: mutate((ir) => ir.tables[0] && (ir.tables[0].chains = ir.tables[0].chains.filter((c) => c.name !== "farm-web-4"))), status: 400 },
  { what: "an unknown attribute", body: mutate((ir) => ir.tables[0] && Object.assign(ir.tables[0], { script: "flush ruleset" })), status: 400 },
  { what: "a rule the kernel refuses (no such address)", body: withRule("ip daddr 198.18.2.300 accept"), status: 500 },
  { what: "a rule the kernel refuses (port out of range)", body: withRule("meta l4proto tcp dnat ip to 198.18.2.11:70000"), status: 500 },
  { what: "a hash that does not match", body: (revision, base) => ({ revision, hash: irHash(goodIr(revision + 1)), ir: base }), status: 400 },
  { what: "an older revision", body: (revision, base) => ({ revision: revision - 2, hash: irHash(base), ir: base }), status: 409 },
];

beforeAll(async () => {
  lab = await createLab({ backends: 2 });
  await lab.startServers({ tcpPorts: [8080] });
  await addForeignTables(lab);
  dir = mkdtempSync(join(tmpdir(), "switchyard-hostile-"));
  writeFileSync(join(dir, "token"), TOKEN, { mode: 0o600 });
});
afterAll(async () => {
  await agent?.stop("SIGKILL");
  await lab?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function ours(): Promise<string> {
  const run = await lab.exec(lab.balancer.ns, ["nft", "-s", "list", "table", "inet", T]);
  if (run.code !== 0) throw new Error(run.stderr);
  return run.stdout;
}

describe("a managed agent under hostile rulesets", () => {
  it(`${REQUESTS} requests: hostile ones refused with the reason, good ones applied; other tables untouched throughout`, async () => {
    agent = await startAgent(lab, { stateDir: join(dir, "state"), args: ["--managed", "--token-file", join(dir, "token"), "--drift-interval", "0"] });
    // PUT the request as it is, or PATCH it as the patch from the last good ruleset to its IR
    // (a second PRNG decides, so that the sequence of kinds stays the one PUT alone had).
    const asPatch = prng(0x9a7c4);
    const sent = { put: 0, patch: 0 };
    const put = (body: unknown) => {
      const request = body as { revision: number; hash: string; ir: IrRuleset; force?: boolean };
      if (asPatch() < 0.5 || good === undefined) {
        sent.put++;
        return agent!.client.managed("PUT", "/v1/ruleset", TOKEN, body);
      }
      sent.patch++;
      const { ir, ...rest } = request;
      return agent!.client.managed("PATCH", "/v1/ruleset", TOKEN, { ...rest, baseHash: irHash(good), patch: diffIr(good, ir) });
    };
    const foreign = await listForeignTables(lab);
    const random = prng(0x5eed);
    let revision = 1;
    let good: IrRuleset | undefined;
    const first = goodIr(revision);
    expect((await put({ revision, hash: irHash(first), ir: first })).status).toBe(200);
    good = first;
    let expected = await ours();
    const seen = new Map<string, number>();
    const deadline = Date.now() + DEADLINE_MS;
    let done = 0;
    for (; done < REQUESTS && Date.now() < deadline; done++) {
      if (random() < 0.3) {
        revision++;
        const next = goodIr(revision);
        const answer = await put({ revision, hash: irHash(next), ir: next });
        expect([answer.status, answer.body], `good revision ${revision}`).toEqual([200, { applied: revision, changed: true }]);
        good = next;
        expected = await ours();
      } else {
        const hostile = HOSTILE[Math.floor(random() * HOSTILE.length)] as Hostile;
        const answer = await put(hostile.body(revision + 1, good));
        seen.set(hostile.what, (seen.get(hostile.what) ?? 0) + 1);
        expect(answer.status, `${hostile.what}: ${answer.text}`).toBe(hostile.status);
        expect((answer.body as { error?: string }).error, hostile.what).toMatch(/\S/);
        expect(await ours(), `${hostile.what} changed the agent's table`).toBe(expected);
      }
      expect(await listForeignTables(lab), `request ${done}`).toBe(foreign);
    }
    expect(done, "the loop ran out of time").toBe(REQUESTS);
    expect(seen.size, "every hostile kind was tried").toBe(HOSTILE.length);
    expect(Math.min(sent.put, sent.patch), JSON.stringify(sent)).toBeGreaterThan(REQUESTS / 4);

    const status = (await agent.client.managed("GET", "/v1/status", TOKEN)).body as { appliedRevision: number };
    expect(status.appliedRevision).toBe(revision);
    expect((await new StateDir(join(dir, "state")).load())?.managed?.revision).toBe(revision);
    const tally = await lab.connect({ target: VIP, port: 80, proto: "tcp", count: 20 });
    expect(tally.failed).toBe(0);
  });
});
