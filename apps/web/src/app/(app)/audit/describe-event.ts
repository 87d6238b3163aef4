import type { Tone } from "@/components/ui/badge";
import { parseJsonColumn } from "@/lib/json-field-diff";
import type { Outputs } from "@/lib/trpc";

export type AuditEvent = Outputs["audit"]["list"][number];

// What an audit event says, as a sentence without its actor (who is a column of its own):
// "signed in", "created farm web", "imported farm dns (new)". Unknown actions read as
// "ACTION TYPE NAME", so that nothing the API records is hidden.

function roleOf(json: string | null): string | null {
  const value = parseJsonColumn(json);
  return value !== null && typeof value === "object" && typeof (value as { role?: unknown }).role === "string" ? (value as { role: string }).role : null;
}

function importWhat(e: AuditEvent): string {
  if (e.before === null) return "new";
  if (e.after === null) return "removed: not in the file";
  return "changed";
}

export function describeEvent(e: AuditEvent): string {
  const name = e.entityName;
  switch (e.action) {
    case "user.login":
      return "signed in";
    case "user.login-failed":
      return `failed to sign in as ${name} (wrong password, unknown or disabled user)`;
    case "user.setup":
      return "created the first admin account at first run";
    case "user.add": {
      const role = roleOf(e.after);
      return `added user ${name}${role !== null ? ` as ${role}` : ""}`;
    }
    case "user.update":
      return `changed user ${name}`;
    case "token.create": {
      const role = roleOf(e.after);
      return `created API token ${name}${role !== null ? ` (${role})` : ""}`;
    }
    case "token.revoke":
      return `revoked API token ${name}`;
    case "node.add":
      return `added node ${name}`;
    case "node.update":
      return `changed node ${name}`;
    case "node.remove":
      return `removed node ${name}`;
    case "farm.create":
      return `created farm ${name}`;
    case "farm.update":
      return `changed farm ${name}`;
    case "farm.remove":
      return `removed farm ${name}`;
    case "backend.upsert":
      return `changed the backends of farm ${name}`;
    case "backend.state":
      return `set a backend's state in farm ${name}`;
    case "backend.remove":
      return `removed a backend of farm ${name}`;
    case "config.import":
      return `imported farm ${name} (${importWhat(e)})`;
    case "revision.rollback":
      return `rolled back farm ${name}${e.before === null ? " (brought back)" : e.after === null ? " (removed)" : ""}`;
    default:
      return `${e.action} ${e.entityType} ${name}`;
  }
}

export function eventTone(e: AuditEvent): Tone {
  if (e.action === "user.login-failed") return "red";
  if (e.action.startsWith("user.") || e.action.startsWith("token.")) return "blue";
  if (e.action === "revision.rollback") return "amber";
  return "gray";
}
