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
