// The values that the schema keeps in String columns (portable: no database enums).

export const ROLES = ["admin", "operator", "viewer"] as const;
export type Role = (typeof ROLES)[number];

/** "held": not sent, because the canary node of a staged deploy did not apply the revision. */
export const DEPLOYMENT_STATUSES = ["pending", "applying", "applied", "failed", "held"] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

export const REVISION_KINDS = ["change", "rollback", "import"] as const;
export type RevisionKind = (typeof REVISION_KINDS)[number];
