// The farm model's enumerations, apart from its schemas: a browser page that only lists them
// (the farms table's filters) then does not load zod and every schema with them.

export const FAMILIES = ["ipv4", "ipv6", "dual"] as const;
export const MODES = ["snat", "dnat", "dsr"] as const;
export const PROTOCOLS = ["tcp", "udp", "sctp", "all"] as const;
export const SCHEDULERS = ["weight", "rr", "hash", "symhash"] as const;
export const SCHED_FIELDS = ["srcip", "dstip", "srcport", "dstport", "srcmac", "dstmac"] as const;
export const STATES = ["up", "down", "off"] as const;

export type Family = (typeof FAMILIES)[number];
export type Mode = (typeof MODES)[number];
export type Protocol = (typeof PROTOCOLS)[number];
export type Scheduler = (typeof SCHEDULERS)[number];
export type SchedField = (typeof SCHED_FIELDS)[number];
export type State = (typeof STATES)[number];
