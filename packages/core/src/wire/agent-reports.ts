import { z } from "zod";

// What a managed agent reports about its kernel, as both sides read it: the drift report of
// POST /v1/drift, POST /v1/repair and GET /v1/status (drift), and the counters of
// GET /v1/counters. The agent builds them; the control plane parses them.

export const DriftReportSchema = z.object({
  /** null until the first check after an apply. */
  drifted: z.boolean().nullable(),
  /** When the kernel was first seen to differ, for the drift now reported (ISO 8601). */
  since: z.string().nullable(),
  checkedAt: z.string().nullable(),
  /** What differs, one sentence each (at most 20). */
  differences: z.array(z.string()),
  checks: z.number().int(),
  repairs: z.number().int(),
  autoRepair: z.boolean(),
});

export const BackendCountersSchema = z.object({
  name: z.string(),
  /** New connections balanced to this backend since its counter was created. */
  connections: z.number(),
  /** Packets of those connections, both directions (client to backend and back), through the balancer. */
  packets: z.number(),
  /** Bytes of those packets (their IP length). */
  bytes: z.number(),
});

export const FarmCountersSchema = z.object({
  name: z.string(),
  /** The sums over its backends. */
  connections: z.number(),
  packets: z.number(),
  bytes: z.number(),
  backends: z.array(BackendCountersSchema),
});

export const CountersReportSchema = z.object({
  table: z.string(),
  /** When the kernel was read (ISO 8601). */
  readAt: z.string(),
  /** How long the read took, in milliseconds. */
  readMs: z.number(),
  farms: z.array(FarmCountersSchema),
});

export type DriftReport = z.output<typeof DriftReportSchema>;
export type BackendCounters = z.output<typeof BackendCountersSchema>;
export type FarmCounters = z.output<typeof FarmCountersSchema>;
export type CountersReport = z.output<typeof CountersReportSchema>;
