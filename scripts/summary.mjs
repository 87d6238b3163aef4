// Prints the closing line CI reads: "tests: N passed, N failed", from Vitest's JSON report and,
// when given, Playwright's. A type-check failure or a missing report counts as a failure, never as a pass.
import { readFileSync } from "node:fs";

const [file, status, e2eFile] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const report = JSON.parse(readFileSync(file, "utf8"));
  passed = report.numPassedTests;
  failed = report.numFailedTests + (report.numFailedTestSuites ?? 0);
  skipped = report.numPendingTests + report.numTodoTests;
} catch {
  failed += 1;
}
if (e2eFile !== undefined) {
  try {
    const { stats } = JSON.parse(readFileSync(e2eFile, "utf8"));
    passed += stats.expected;
    failed += stats.unexpected + stats.flaky;
    skipped += stats.skipped;
  } catch {
    failed += 1;
  }
}
if (status !== "0" && failed === 0) failed = 1; // type-check or runner failure outside the tests
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
