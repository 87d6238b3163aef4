// The run command (./scripts/up): the control plane on its embedded defaults, with a local
// agent. As root: a demo network in namespaces (a client, a balancer, three backends; never the
// host's own ruleset), the agent in the balancer enrolled as node "local", the sample farms
// imported as the first revision and deployed. Without root: the control plane alone (agents
// need CAP_NET_ADMIN), and the sample checked with nft --check in a private namespace.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { parseNftlbJson } from "@switchyard/core";
import { migrate, openDatabase, type Database } from "@switchyard/db";
import { commitChange, DEFAULT_WEB_DIR, Deployer, hashPassword, issueNodeToken, nodeToken, serveControlPlane } from "@switchyard/api";
import { controlPlaneKey, dataDir } from "@switchyard/api/data-dir";
import { startAgent, type RunningAgent } from "@switchyard/agent/testing";
import { createLab, type Lab } from "@switchyard/netlab";


const root = resolve(import.meta.dirname, "..");
const { values } = parseArgs({ options: { "data-dir": { type: "string" }, port: { type: "string", short: "P", default: "3000" }, config: { type: "string", default: "examples/farms.json" } } });
const data = dataDir(values["data-dir"]);
const isRoot = process.getuid?.() === 0;

async function firstAdmin(db: Database): Promise<string | null> {
  if ((await db.user.count()) > 0) return null;
  const password = randomBytes(12).toString("base64url");
  await db.user.create({ data: { username: "admin", passwordHash: await hashPassword(password), role: "admin" } });
  return password;
}

async function importSample(db: Database): Promise<void> {
  if ((await db.revision.count()) > 0) return;
  const config = parseNftlbJson(readFileSync(resolve(root, values.config), "utf8"));
  await commitChange(db, { id: null, name: "scripts/up", role: "admin" }, { action: "config.import", kind: "import", message: `sample config ${values.config}` }, () => config);
}

/** The local node: enrolled once; its URL follows the demo network, which is new every run. */
async function localNode(db: Database, key: Buffer, url: string): Promise<string> {
  const existing = await db.node.findUnique({ where: { name: "local" } });
  if (existing !== null) {
    await db.node.update({ where: { id: existing.id }, data: { url } });
    return nodeToken(key, existing.tokenSalt);
  }
  const issued = issueNodeToken(key);
  await db.node.create({ data: { name: "local", url, labels: JSON.stringify({ demo: "true" }), tokenHash: issued.hash, tokenSalt: issued.salt } });
  return issued.token;
}

async function main(): Promise<void> {
  await migrate(data.database);
  const db = openDatabase({ path: data.database });
  const key = controlPlaneKey(data);
  const deployer = new Deployer({ db, key });
  const password = await firstAdmin(db);
  await importSample(db);
  let lab: Lab | null = null;
  let agent: RunningAgent | null = null;
  const server = await serveControlPlane({ db, deployer, host: "127.0.0.1", port: Number(values.port), webDir: DEFAULT_WEB_DIR });
  try {
    if (isRoot) {
      lab = await createLab({ backends: 3, clientAddresses: 4 });
      await lab.startServers({ tcpPorts: [8080], udpPorts: [53] });
      const link = await lab.linkHost();
      const token = await localNode(db, key, `http://${link.balancerAddr}:5555`);
      const tokenFile = join(data.dir, "local-node-token");
      writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
      agent = await startAgent(lab, { stateDir: join(data.dir, "local-agent-state"), args: ["--managed", "--token-file", tokenFile, "--control-plane", server.url, "-H", link.balancerAddr] });
      const outcomes = await deployer.deployLatest();
      deployer.start(10_000);
      for (const o of outcomes) console.log(`deploy: node ${o.node}, revision ${o.revision}: ${o.status}${o.error ? ` (${o.error})` : ""}`);
      const tally = await lab.connect({ target: "198.18.1.100", port: 80, proto: "tcp", count: 100 });
      console.log(`100 connections to farm web (198.18.1.100:80) from ${lab.client.ns}: ${JSON.stringify(tally.byBackend)}, failed ${tally.failed}`);
      // The demo backends answer every connection with their name and the address they saw.
      console.log(`try it: ip netns exec ${lab.client.ns} bash -c 'cat < /dev/tcp/198.18.1.100/80'`);
    } else {
      console.log("Not root: the control plane runs alone (an agent needs CAP_NET_ADMIN). The sample, checked with nft --check:");
      const check = spawnSync("unshare", ["-rn", resolve(root, "bin/switchyard-agent"), "-c", resolve(root, values.config), "-e", "--check"], { encoding: "utf8" });
      process.stdout.write(check.stderr);
    }
    console.log(`\nSwitchyard dashboard and control plane: ${server.url} (data in ${data.dir})`);
    console.log(password !== null ? `log in as admin with the password ${password} (shown once; bin/switchyard user add makes more users)` : "log in with your users (bin/switchyard user add makes more)");
    console.log(`the API: ${server.url}/trpc, e.g. bin/switchyard revisions --data-dir ${data.dir}; Ctrl-C stops everything`);
    await new Promise<void>((done) => {
      process.once("SIGINT", done);
      process.once("SIGTERM", done);
    });
  } finally {
    deployer.stop();
    await agent?.stop("SIGTERM");
    await lab?.destroy();
    await server.close();
    await db.$disconnect();
  }
}

await main();
