import { defineConfig } from "vitest/config";

// Two tiers, named in the file: *.unit.test.ts (pure, parallel) and
// *.integration.test.ts (real nft in network namespaces: serial, so that traffic
// shares are not skewed by another test's load on a 2-core machine).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.unit.test.ts", "apps/*/src/**/*.unit.test.ts", "bench/**/*.unit.test.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["packages/*/src/**/*.integration.test.ts"],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
