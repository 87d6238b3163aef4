// The audit log's filters as the URL keeps them (shareable, and the back button undoes a
// filter), and as audit.list takes them. Times are typed and shown in UTC, as the log shows them.

export interface AuditFilters {
  user: string;
  type: string;
  name: string;
  action: string;
  /** datetime-local text, UTC: "2026-05-01T09:30" */
  since: string;
  until: string;
}

export const KEYS = ["user", "type", "name", "action", "since", "until"] as const;

export function filtersOf(params: URLSearchParams): AuditFilters {
  return { user: params.get("user") ?? "", type: params.get("type") ?? "", name: params.get("name") ?? "", action: params.get("action") ?? "", since: params.get("since") ?? "", until: params.get("until") ?? "" };
}

export function queryOf(filters: AuditFilters): string {
  const query = new URLSearchParams();
  for (const key of KEYS) if (filters[key].trim() !== "") query.set(key, filters[key].trim());
  return query.toString();
}

/** A datetime-local value read as UTC; null when it is not a time. */
export function utc(value: string): Date | null {
  if (value === "") return null;
  const date = new Date(`${value}Z`);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function apiInput(filters: AuditFilters) {
  const since = utc(filters.since);
  const until = utc(filters.until);
  return {
    ...(filters.user !== "" ? { actor: filters.user } : {}),
    ...(filters.type !== "" ? { entityType: filters.type } : {}),
    ...(filters.name !== "" ? { entityName: filters.name } : {}),
    ...(filters.action !== "" ? { action: filters.action } : {}),
    ...(since !== null ? { since } : {}),
    ...(until !== null ? { until } : {}),
  };
}
