import type { Lab } from "@switchyard/netlab";

/** Tables that are not the agent's: a host firewall and Docker's NAT, as tests put them next to it. */
export const FOREIGN_TABLES = `table inet filter {
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport 22 counter accept
		ct state established,related accept
	}
}
table ip nat {
	chain DOCKER {
		iifname "docker0" return
	}
	chain POSTROUTING {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 198.19.0.0/16 oifname != "docker0" masquerade
	}
	chain PREROUTING {
		type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local jump DOCKER
	}
}
`;

/** Loads FOREIGN_TABLES into the lab's balancer namespace. */
export async function addForeignTables(lab: Lab): Promise<void> {
  const run = await lab.exec(lab.balancer.ns, ["nft", "-f", "-"], { input: FOREIGN_TABLES });
  if (run.code !== 0) throw new Error(`cannot load the foreign tables: ${run.stderr}`);
}

/** The foreign tables as nft lists them now (counters included: they must not be reset either). */
export async function listForeignTables(lab: Lab): Promise<string> {
  const parts = await Promise.all(
    [["inet", "filter"], ["ip", "nat"]].map(async ([family = "", name = ""]) => {
      const run = await lab.exec(lab.balancer.ns, ["nft", "list", "table", family, name]);
      if (run.code !== 0) throw new Error(`nft list table ${family} ${name}: ${run.stderr}`);
      return run.stdout;
    }),
  );
  return parts.join("");
}
