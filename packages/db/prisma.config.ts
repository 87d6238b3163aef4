// Prisma CLI configuration (generate only: the CLI's native schema engine cannot be downloaded
// here, so migrations are made and applied with @prisma/schema-engine-wasm, see src/migrate.ts
// and scripts/new-migration.ts).
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
});
