export interface Host {
  ns: string;
  name: string;
  ipv4: string[];
  ipv6: string[];
  iface: string;
  mac: string;
}

export interface Balancer extends Host {
  clientIface: string;
  backendIface: string;
  backendIpv4: string;
  backendIpv6: string;
  backendMac: string;
}

export interface HostLink {
  /** The host's end, in the host's namespace. */
  hostAddr: string;
  /** The balancer's end (interface mgmt0 in the balancer namespace). */
  balancerAddr: string;
  hostIface: string;
}

export interface LabOptions {
  /** N backend namespaces b1..bN (0..100). */
  backends: number;
  /** How many source addresses the client holds (default 1, at most 200), for hash tests. */
  clientAddresses?: number;
  /** DSR: the client also gets a link on the backend bridge; backends answer the client subnet through it. */
  directReturn?: boolean;
}

export interface ExecOptions {
  input?: string;
  /** Default 60000; the process is killed (by pid) after it and the result has code 124. */
  timeoutMs?: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface ServerOptions {
  tcpPorts?: number[];
  udpPorts?: number[];
  /** TCP ports whose connections stay open and echo every line back (for hold()). */
  holdPorts?: number[];
  /** Default: all backends. */
  hosts?: Host[];
}

export interface ConnectOptions {
  /** Default: the client. */
  from?: Host;
  target: string;
  port: number;
  proto: "tcp" | "udp";
  /** Number of connections: each a new TCP connection or a new UDP socket (a new conntrack flow). */
  count: number;
  /** Source addresses to bind, used round-robin (default: the kernel chooses). */
  sources?: string[];
  /** Bind this source port (for symmetric-flow tests; with count 1 typically). */
  sourcePort?: number;
  /** Default 16. */
  concurrency?: number;
  /** Per-connection timeout, default 2000. */
  timeoutMs?: number;
  /** Whole-run bound, default 60000: connections not started by then fail with "deadline". */
  deadlineMs?: number;
}

export interface ConnectResult {
  /** The local address the connection used (bound or chosen by the kernel). */
  source: string;
  backend: string | null;
  seen: string | null;
  error?: string;
}

export interface Tally {
  /** Backend name -> connections answered. */
  byBackend: Record<string, number>;
  /** Timeouts, refusals, resets, connections not started before the deadline. */
  failed: number;
  /** The client address as the backend saw it -> count. */
  seenSources: Record<string, number>;
  /** One per connection, in order. */
  results: ConnectResult[];
}

export interface Lab {
  /** Per-run prefix of namespace names, e.g. "sy-3f9a1c". */
  prefix: string;
  client: Host;
  balancer: Balancer;
  backends: Host[];
  /** `ip netns exec NS argv...` without a shell, in one of this lab's namespaces. */
  exec(ns: string, argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** An extra host on the backend bridge whose default routes go via the balancer. */
  addPeer(name: string, ipv4: string[], ipv6: string[]): Promise<Host>;
  /** A veth from the host's namespace to the balancer (once per lab): the host reaches the balancer at `balancerAddr`. */
  linkHost(): Promise<HostLink>;
  /** Adds an address (with or without a prefix length) to a host; on "lo" also arp_ignore=1/arp_announce=2. */
  addAddress(host: Host, addr: string, dev?: string): Promise<void>;
  startServers(opts: ServerOptions): Promise<void>;
  connect(opts: ConnectOptions): Promise<Tally>;
  /** Opens long-lived TCP connections (to a holdPorts server) that ping until stopped. */
  hold(opts: HoldOptions): Promise<HoldSession>;
  /** Kills what the lab started and deletes its namespaces; idempotent. */
  destroy(): Promise<void>;
}

export interface HoldOptions {
  /** Default: the client. */
  from?: Host;
  target: string;
  port: number;
  /** How many connections to hold open (1..1000). */
  count: number;
  /** A line goes out on every connection this often (default 50 ms). */
  intervalMs?: number;
  /** The holder stops by itself after this long even if never stopped (default 300000). */
  maxMs?: number;
}

export interface HeldConnection {
  backend: string | null;
  pings: number;
  echoes: number;
  /** Longest time without an echo while the connection was held. */
  maxGapMs: number;
  /** Set when the connection failed: a reset, an early close, a timeout. */
  error?: string;
}

export interface HoldReport {
  connections: HeldConnection[];
}

export interface HoldSession {
  /** The backend each connection reached, in order, once all are established. */
  backends: (string | null)[];
  /** Closes every connection gracefully and reports what each one saw. */
  stop(): Promise<HoldReport>;
}
