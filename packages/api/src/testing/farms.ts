// A farm as the API takes it (nftlb attribute strings), for router tests: two backends on
// 198.18.2.11 and .12, port 8080, unless `extra` says otherwise (its keys win).

export const farmInput = (name: string, vip: string, extra: Record<string, unknown> = {}) => ({
  name,
  "virtual-addr": vip,
  "virtual-ports": "80",
  backends: [
    { name: "b1", "ip-addr": "198.18.2.11", port: "8080" },
    { name: "b2", "ip-addr": "198.18.2.12", port: "8080" },
  ],
  ...extra,
});
