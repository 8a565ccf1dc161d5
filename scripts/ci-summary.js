// Prints the one summary line CI reads — `N passed, M failed` — over every report given: vitest JSON reports
// (`--reporter=json`) and schemathesis JSON run reports (`--report json`). A report that is missing or
// unreadable means its runner crashed before counting: it counts as one failure, so a broken run can never
// look green. Exits 1 when anything failed.
import { existsSync, readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
for (const file of process.argv.slice(2)) {
  let report;
  try {
    report = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
  } catch {
    report = null;
  }
  if (report && typeof report.numTotalTests === 'number') {
    // vitest: a file that failed to load counts as a failed suite with no tests in it.
    passed += report.numPassedTests;
    failed += report.numFailedTests + (report.numFailedTestSuites > 0 && report.numFailedTests === 0 ? report.numFailedTestSuites : 0);
    if (report.numTotalTests === 0) failed += 1;
  } else if (report && report.test_cases) {
    // schemathesis: each generated test case is one test.
    const bad = report.test_cases.with_failures + report.test_cases.errored + (report.operations?.errored ?? 0) + (report.errors?.length ?? 0);
    failed += bad;
    passed += Math.max(0, report.test_cases.generated - report.test_cases.with_failures - report.test_cases.errored);
    if (report.exit_code !== 0 && bad === 0) failed += 1;
  } else {
    console.error(`ci-summary: no readable report at ${file}; counted as 1 failed`);
    failed += 1;
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
