import {
  CountersReportSchema,
  DriftReportSchema,
  HostFactsSchema,
  type CountersReport,
  type DriftReport,
  type HostFacts,
  type PatchRuleset,
  type PutRuleset,
} from "@switchyard/core";
import { z } from "zod";

// The control plane's side of the agent's managed API (packages/agent/src/managed/api.ts),
// over real HTTP with the node's token. Every call has a deadline.

export class AgentCallError extends Error {
  constructor(
    message: string,
    /** The agent's HTTP status, when it answered. */
    readonly status: number | null,
    /** The agent's JSON answer, when it answered with one (a 409 names its applied revision). */
    readonly body: unknown = null,
  ) {
    super(message);
    this.name = "AgentCallError";
  }
}

export const AgentStatusSchema = z.object({
  appliedRevision: z.number().nullable(),
  appliedHash: z.string().nullable(),
  lastError: z.object({ message: z.string(), at: z.string() }).nullable(),
  nftVersion: z.string(),
  drift: DriftReportSchema.nullable().optional(),
}).passthrough();
export type AgentStatus = z.output<typeof AgentStatusSchema>;

export interface AgentEndpoint {
  url: string;
  token: string;
}

/** A body that is JSON text already. */
class RawJson {
  constructor(readonly text: string) {}
}

async function call(endpoint: AgentEndpoint, method: string, path: string, body: unknown, timeoutMs: number): Promise<unknown> {
  const url = new URL(path, endpoint.url.endsWith("/") ? endpoint.url : `${endpoint.url}/`);
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: { Authorization: `Bearer ${endpoint.token}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      ...(body === undefined ? {} : { body: body instanceof RawJson ? body.text : JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const reason = error instanceof Error ? (error.name === "TimeoutError" ? `no answer in ${timeoutMs} ms` : ((error.cause as Error | undefined)?.message ?? error.message)) : String(error);
    throw new AgentCallError(`${method} ${url.href}: ${reason}`, null);
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AgentCallError(`${method} ${url.href}: HTTP ${response.status}, not JSON: ${text.trim() === "" ? "(an empty body)" : text.slice(0, 200)}`, response.status);
  }
  if (!response.ok) {
    const message = (json as { error?: unknown }).error;
    throw new AgentCallError(`${method} ${url.href}: HTTP ${response.status}: ${typeof message === "string" ? message : text.slice(0, 500)}`, response.status, json);
  }
  return json;
}

/**
 * PUT /v1/ruleset. The IR comes as its JSON text, serialized once for every node that gets the
 * same ruleset; the body is that text with the request's other fields around it.
 */
export async function putRuleset(endpoint: AgentEndpoint, request: Omit<PutRuleset, "ir">, irJson: string, timeoutMs = 60_000): Promise<{ applied: number; changed: boolean }> {
  return (await call(endpoint, "PUT", "v1/ruleset", withJson(request, "ir", irJson), timeoutMs)) as { applied: number; changed: boolean };
}

/**
 * PATCH /v1/ruleset: the patch (as JSON text, serialized once for every node that gets the same
 * patch) from the ruleset the agent has (`baseHash`) to the one of `hash`. The agent answers 409
 * when it does not have `baseHash`; the caller then sends the whole ruleset.
 */
export async function patchRuleset(endpoint: AgentEndpoint, request: Omit<PatchRuleset, "patch">, patchJson: string, timeoutMs = 60_000): Promise<{ applied: number; changed: boolean }> {
  return (await call(endpoint, "PATCH", "v1/ruleset", withJson(request, "patch", patchJson), timeoutMs)) as { applied: number; changed: boolean };
}

/** `fields` as JSON with `key` set to `json`, a text that is JSON already. */
function withJson(fields: object, key: string, json: string): RawJson {
  const head = JSON.stringify(fields);
  return new RawJson(`${head.slice(0, -1)}${head === "{}" ? "" : ","}${JSON.stringify(key)}:${json}}`);
}

export async function agentStatus(endpoint: AgentEndpoint, timeoutMs = 5_000): Promise<AgentStatus> {
  return AgentStatusSchema.parse(await call(endpoint, "GET", "v1/status", undefined, timeoutMs));
}

export async function agentFacts(endpoint: AgentEndpoint, timeoutMs = 5_000): Promise<HostFacts> {
  return HostFactsSchema.parse(await call(endpoint, "GET", "v1/facts", undefined, timeoutMs));
}

/** Compares the agent's tables in the kernel with what it applied (POST /v1/drift); a full listing, so seconds at 10,000 farms. */
export async function agentCheckDrift(endpoint: AgentEndpoint, timeoutMs = 60_000): Promise<DriftReport> {
  return DriftReportSchema.parse(await call(endpoint, "POST", "v1/drift", undefined, timeoutMs));
}

/** Puts the last applied ruleset back whole (POST /v1/repair), then checks again. */
export async function agentRepair(endpoint: AgentEndpoint, timeoutMs = 120_000): Promise<DriftReport> {
  return DriftReportSchema.parse(await call(endpoint, "POST", "v1/repair", undefined, timeoutMs));
}

/** New connections per farm and backend, read from the kernel's named counters (GET /v1/counters). */
export async function agentCounters(endpoint: AgentEndpoint, timeoutMs = 2_000): Promise<CountersReport> {
  return CountersReportSchema.parse(await call(endpoint, "GET", "v1/counters", undefined, timeoutMs));
}
