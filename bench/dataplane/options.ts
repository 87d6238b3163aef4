import { parseArgs } from "node:util";
import { MAX_SERVICES } from "./plan.ts";

// Command-line flags, each with an environment variable of the same meaning (flags win). Pure.

export interface Options {
  quick: boolean;
  rounds: number;
  /** Seconds per wrk run. */
  duration: number;
  services: number[];
  backends: number[];
  threads: number;
  connections: number;
  server: "auto" | "nginx" | "node";
  nginx: string | undefined;
  /** nginx processes per backend (sharing the port with SO_REUSEPORT). */
  serverProcs: number;
  iptables: "auto" | "legacy" | "nft";
  scheduler: "rr" | "weight";
  /** Seconds of the per-configuration check run (spread over backends; 0 = none). */
  check: number;
}

export const USAGE = `Usage: pnpm bench:dataplane [--quick] [options]      (root; about 7 min, --quick about 70 s)

Short TCP connections per second (wrk, one request per connection) through
  (a) plain routing, (b) conntrack + NAT hooks without translation,
  (c) a Switchyard farm, (d) kube-proxy-style iptables DNAT rules,
with N services configured and the measured one last.

  --quick                 services 1,10000; backends 1,4; 3 rounds of 1 s
  --rounds N              rounds of a,b,c,d (default 5)                      DATAPLANE_ROUNDS
  --duration S            seconds per wrk run (default 3)                    DATAPLANE_DURATION
  --services LIST         services configured (default 1,1000,10000)         DATAPLANE_SERVICES
  --backends LIST         backends per service (default 1,4; at most 16)     DATAPLANE_BACKENDS
  --threads N             wrk threads (default 4)                            DATAPLANE_THREADS
  --connections N         wrk connections, all threads (default 64)          DATAPLANE_CONNECTIONS
  --server KIND           backend HTTP server: auto|nginx|node (default auto) DATAPLANE_SERVER
  --nginx PATH            the nginx binary (default: nginx on PATH)          DATAPLANE_NGINX
  --server-procs N        nginx processes per backend (default: cores, max 4) DATAPLANE_SERVER_PROCS
  --iptables KIND         (d) with auto|legacy|nft (default auto: legacy if it works) DATAPLANE_IPTABLES
  --scheduler rr|weight   Switchyard's scheduler for (c) (default rr)        DATAPLANE_SCHEDULER
  --check S               seconds of the spread check per configuration, 0 = none (default 1) DATAPLANE_CHECK
  -h, --help
`;

export class UsageError extends Error {}

function integer(name: string, text: string, min: number, max: number): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(text)}`);
  return n;
}

function list(name: string, text: string, min: number, max: number): number[] {
  const values = text.split(",").map((t) => integer(name, t.replace(/_/g, ""), min, max));
  return [...new Set(values)].sort((a, b) => a - b);
}

function oneOf<T extends string>(name: string, text: string, values: readonly T[]): T {
  if (!(values as readonly string[]).includes(text)) throw new UsageError(`${name} must be one of ${values.join(", ")}, not ${JSON.stringify(text)}`);
  return text as T;
}

export const MAX_BACKENDS = 16;

/** Returns null for --help. */
export function parseOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, cores = 2): Options | null {
  let values;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: "boolean", short: "h" },
        quick: { type: "boolean" },
        rounds: { type: "string" },
        duration: { type: "string" },
        services: { type: "string" },
        backends: { type: "string" },
        threads: { type: "string" },
        connections: { type: "string" },
        server: { type: "string" },
        nginx: { type: "string" },
        "server-procs": { type: "string" },
        iptables: { type: "string" },
        scheduler: { type: "string" },
        check: { type: "string" },
      },
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) return null;
  const quick = values.quick ?? env.DATAPLANE_QUICK === "1";
  // One server process per core (at most 4): a single nginx is the bottleneck on 2 cores.
  const procs = String(Math.min(4, Math.max(1, cores)));
  const pick = (flag: string | undefined, name: string, quickDefault: string, fullDefault: string) =>
    flag ?? env[`DATAPLANE_${name}`] ?? (quick ? quickDefault : fullDefault);
  const options: Options = {
    quick,
    rounds: integer("--rounds", pick(values.rounds, "ROUNDS", "3", "5"), 1, 100),
    duration: integer("--duration", pick(values.duration, "DURATION", "1", "3"), 1, 600),
    services: list("--services", pick(values.services, "SERVICES", "1,10000", "1,1000,10000"), 1, MAX_SERVICES),
    backends: list("--backends", pick(values.backends, "BACKENDS", "1,4", "1,4"), 1, MAX_BACKENDS),
    threads: integer("--threads", pick(values.threads, "THREADS", "4", "4"), 1, 64),
    connections: integer("--connections", pick(values.connections, "CONNECTIONS", "64", "64"), 1, 10_000),
    server: oneOf("--server", pick(values.server, "SERVER", "auto", "auto"), ["auto", "nginx", "node"] as const),
    nginx: values.nginx ?? env.DATAPLANE_NGINX,
    serverProcs: integer("--server-procs", pick(values["server-procs"], "SERVER_PROCS", procs, procs), 1, 16),
    iptables: oneOf("--iptables", pick(values.iptables, "IPTABLES", "auto", "auto"), ["auto", "legacy", "nft"] as const),
    scheduler: oneOf("--scheduler", pick(values.scheduler, "SCHEDULER", "rr", "rr"), ["rr", "weight"] as const),
    check: integer("--check", pick(values.check, "CHECK", "1", "1"), 0, 60),
  };
  if (options.connections < options.threads) throw new UsageError("--connections must be at least --threads (wrk needs a connection per thread)");
  return options;
}

/** Seconds of traffic a run takes (wrk runs only; setup, loading and process start come on top). */
export function trafficSeconds(o: Options): number {
  const configs = o.services.length * o.backends.length;
  return o.backends.length * 2 * o.check + configs * (o.rounds * 4 * o.duration + 2 * o.check);
}
