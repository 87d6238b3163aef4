// The main job for now: show the agent balancing real connections, without ever touching
// the host's own ruleset. As root: a netlab topology in network namespaces, the sample config
// applied by the agent inside the balancer namespace, real connections counted per backend.
// Without root: render the sample and check it with `nft --check` in a private namespace.
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { withLab } from "@switchyard/netlab";

const root = resolve(import.meta.dirname, "..");
const agent = resolve(root, "bin/switchyard-agent");
const config = resolve(root, process.argv[2] ?? "examples/farms.json");

function checkOnly(): number {
  console.log(`Not root: rendering ${config} and checking it with nft --check in a private network namespace.\n`);
  const run = spawnSync("unshare", ["-rn", agent, "-c", config, "-e", "--print"], { encoding: "utf8" });
  process.stdout.write(run.stdout);
  process.stderr.write(run.stderr);
  if (run.status !== 0) return run.status ?? 1;
  const check = spawnSync("unshare", ["-rn", agent, "-c", config, "-e", "--check"], { encoding: "utf8" });
  process.stderr.write(check.stderr);
  return check.status ?? 1;
}

async function labDemo(): Promise<number> {
  return withLab({ backends: 3, clientAddresses: 4 }, async (lab) => {
    console.log(`netlab: client ${lab.client.ns}, balancer ${lab.balancer.ns}, backends ${lab.backends.map((b) => b.ns).join(" ")}`);
    await lab.startServers({ tcpPorts: [8080], udpPorts: [53] });
    const applied = await lab.exec(lab.balancer.ns, [agent, "-c", config, "-e"]);
    process.stderr.write(applied.stderr);
    if (applied.code !== 0) return applied.code;
    const listed = await lab.exec(lab.balancer.ns, ["nft", "list", "table", "inet", "switchyard"]);
    console.log(`\nThe ruleset in the balancer namespace:\n\n${listed.stdout}`);

    const web = await lab.connect({ target: "198.18.1.100", port: 80, proto: "tcp", count: 400 });
    console.log("farm web (tcp 198.18.1.100:80, snat, weights 2:1:1), 400 connections:");
    for (const [name, n] of Object.entries(web.byBackend).sort()) console.log(`  ${name}: ${n}`);
    console.log(`  failed: ${web.failed}; the backends saw ${Object.keys(web.seenSources).join(", ")} (the balancer: snat)`);

    for (const [target, sources] of [["198.18.1.100", lab.client.ipv4], ["2001:db8:1::100", lab.client.ipv6]] as const) {
      const dns = await lab.connect({ target, port: 53, proto: "udp", count: sources.length * 5, sources: [...sources] });
      console.log(`farm dns (udp ${target} port 53, dnat, hash on the source address), 5 queries from each of ${sources.length} clients:`);
      const perClient = new Map<string, Set<string>>();
      for (const r of dns.results) perClient.set(r.source, (perClient.get(r.source) ?? new Set()).add(r.backend ?? "no answer"));
      for (const [source, backends] of perClient) console.log(`  ${source} -> ${[...backends].join(", ")}`);
    }
    return 0;
  });
}

process.exitCode = process.getuid?.() === 0 ? await labDemo() : checkOnly();
