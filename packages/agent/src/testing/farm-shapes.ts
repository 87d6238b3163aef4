// Raw nftlb farms for the netlink encoders' differential tests (refill, full replace): one
// line a farm, the fields a case changes given, the rest nftlb's usual (tcp on 80, snat, rr).

export type RawBackend = { name: string; "ip-addr": string; port?: string | number; weight?: number; state?: string; priority?: number };

export const farm = (name: string, vip: string, fields: Record<string, unknown>, backends: RawBackend[]) => ({
  name,
  family: vip.includes(":") ? "ipv6" : "ipv4",
  "virtual-addr": vip,
  "virtual-ports": "80",
  protocol: "tcp",
  mode: "snat",
  scheduler: "rr",
  backends,
  ...fields,
});

/** Backend n in 198.18.2.0/24, named bn. */
export const v4 = (n: number, port: string | number = 8080, extra: Partial<RawBackend> = {}): RawBackend => ({ name: `b${n}`, "ip-addr": `198.18.2.${n}`, port, ...extra });

/** Backend n in 2001:db8:2::/64, named bn-v6. */
export const v6 = (n: number, port: string | number = 8080, extra: Partial<RawBackend> = {}): RawBackend => ({ name: `b${n}-v6`, "ip-addr": `2001:db8:2::${n}`, port, ...extra });

/** A farm of every scheduler, both NAT modes, IPv4, IPv6 and dual, one backend, none up: the shapes every encoder must carry. */
export const everySchedulerFarms = () => [
    farm("rr4", "198.18.1.1", {}, [v4(1), v4(2), v4(3)]),
    farm("weight4", "198.18.1.2", { scheduler: "weight", protocol: "udp", mode: "dnat", "virtual-ports": "53" }, [v4(1, 53, { weight: 3 }), v4(2, 53), v4(3, 53)]),
    farm("sym4", "198.18.1.3", { scheduler: "symhash", protocol: "sctp" }, [v4(1, ""), v4(2, "")]),
    farm("hash4", "198.18.1.4", { scheduler: "hash", mode: "dnat", "sched-param": "srcip srcport" }, [v4(1), v4(2), v4(3)]),
    farm("hash4all", "198.18.1.5", { scheduler: "hash", "sched-param": "srcip dstip srcport dstport" }, [v4(1), v4(2)]),
    farm("all4", "198.18.1.6", { protocol: "all", "virtual-ports": "" }, [v4(1, ""), v4(2, "")]),
    farm("rr6", "2001:db8:1::1", { mode: "dnat" }, [v6(1, 443), v6(2, 443)]),
    farm("hash6", "2001:db8:1::2", { scheduler: "hash", protocol: "udp", mode: "dnat", "sched-param": "srcip dstport" }, [v6(1, 53), v6(2, 53)]),
    farm("hash6def", "2001:db8:1::3", { scheduler: "hash" }, [v6(1), v6(2, 8080, { weight: 2 })]),
    farm("one4", "198.18.1.7", {}, [v4(1)]),
    farm("one6", "2001:db8:1::4", { protocol: "all", "virtual-ports": "", mode: "dnat" }, [v6(1, "")]),
    farm("down4", "198.18.1.8", {}, [v4(1, 8080, { state: "down" }), v4(2, 8080, { state: "down" })]),
    farm("dual", "198.18.1.9", { family: "dual", "virtual-addr6": "2001:db8:1::5", scheduler: "weight" }, [v4(1), v4(2), v6(1), v6(2)]),
    farm("sym6", "2001:db8:1::6", { scheduler: "symhash", mode: "dnat" }, [v6(1), v6(2), v6(3)]),
];
