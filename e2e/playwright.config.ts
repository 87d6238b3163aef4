import { defineConfig } from "@playwright/test";
import { CHROMIUM } from "./browser.ts";

// One fleet (control plane + two agents in namespaces) for the whole run, set up by
// global-setup.ts; the scenarios build on each other, so they run in order in one worker.
export default defineConfig({
  testDir: "tests",
  globalSetup: "./global-setup.ts",
  globalTeardown: "./global-teardown.ts",
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  outputDir: "../.ci-out/e2e/results",
  reporter: [["list"], ["json", { outputFile: "../.ci-out/e2e/report.json" }]],
  use: {
    launchOptions: CHROMIUM,
    browserName: "chromium",
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    viewport: { width: 1360, height: 860 },
  },
});
