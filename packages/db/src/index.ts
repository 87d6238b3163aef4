export { migrate, type MigrateOptions, type MigrateResult } from "./migrate.ts";
export { openDatabase, type Database, type OpenDatabaseOptions } from "./client.ts";
export { migrationsDir, schemaPath } from "./paths.ts";
export * from "./values.ts";
export { Prisma, PrismaClient } from "./generated/client.ts";
export type {
  ApiToken,
  AuditEvent,
  Backend,
  Deployment,
  Farm,
  Node,
  Revision,
  Session,
  User,
} from "./generated/client.ts";
