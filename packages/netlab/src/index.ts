export type {
  Balancer,
  ConnectOptions,
  ConnectResult,
  ExecOptions,
  ExecResult,
  HeldConnection,
  HoldOptions,
  HoldReport,
  HoldSession,
  Host,
  HostLink,
  Lab,
  LabOptions,
  ServerOptions,
  Tally,
} from "./types.ts";
export { createLab, withLab } from "./lab.ts";
export { listStaleNamespaces } from "./cleanup.ts";
