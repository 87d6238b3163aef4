import type { Role } from "@/lib/viewer";

export const ROLES: readonly Role[] = ["viewer", "operator", "admin"];

export const ROLE_HINT: Record<Role, string> = {
  viewer: "reads everything, changes nothing",
  operator: "changes farms and backends, deploys, rolls back, repairs nodes",
  admin: "also manages users, API tokens and nodes",
};
