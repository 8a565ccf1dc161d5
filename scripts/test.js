// `npm test`: runs the whole suite (unit + integration) with vitest against an isolated test stack that the
// suite's global setup starts on free ports. Afterwards, anything the suite started and left behind is killed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './stack.js';

const pidDir = mkdtempSync(join(tmpdir(), 'hookrelay-pids-'));
// HOOKRELAY_TEST_REPORT_DIR (set by .ci/run): vitest also writes a JSON report there, for CI's summary line.
const reportDir = process.env.HOOKRELAY_TEST_REPORT_DIR;
const reporters = (name) => (reportDir ? ['--reporter=default', '--reporter=json', `--outputFile.json=${join(reportDir, `vitest-${name}.json`)}`] : []);
// Profiles: `embedded` (vitest.config.ts: the whole suite on the embedded stack) and `cluster`
// (vitest.cluster.config.ts: the delivery tests and test/cluster/ on the production shape, scripts/cluster.js).
// `npm test` runs both; `npm test -- <files>` runs those files on the embedded stack; `--profile=cluster` one.
const argv = process.argv.slice(2);
const profileArg = argv.find((a) => a.startsWith('--profile='));
const rest = argv.filter((a) => a !== profileArg);
const profiles = profileArg ? profileArg.slice('--profile='.length).split(',') : rest.length ? ['embedded'] : ['embedded', 'cluster'];
const configs = { embedded: 'vitest.config.ts', cluster: 'vitest.cluster.config.ts' };
// The whole suite keeps every process's log until the end, and then checks them (test/logs/): no API key and
// no signing secret in any log, every log file readable by its owner only.
const wholeSuite = rest.length === 0 && !profileArg && !process.env.HOOKRELAY_TEST_LOG_DIR;
const logsRoot = wholeSuite ? mkdtempSync(join(tmpdir(), 'hookrelay-test-logs-')) : null;
let status = 0;
const run = (name, config, env) => {
  const args = ['vitest', 'run', '--config', config, ...reporters(name), ...rest];
  const res = spawnSync('npx', args, { cwd: root, stdio: 'inherit', env: { ...process.env, HOOKRELAY_PID_DIR: pidDir, ...env } });
  if (res.status !== 0) status = res.status ?? 1;
};
for (const profile of profiles) {
  if (!configs[profile]) {
    console.error(`test: unknown profile ${profile} (embedded, cluster)`);
    process.exit(2);
  }
  console.log(`\ntest: ${profile} profile (${configs[profile]})`);
  run(profile, configs[profile], logsRoot ? { HOOKRELAY_TEST_LOG_DIR: join(logsRoot, profile) } : {});
}
if (logsRoot) {
  console.log('\ntest: the logs of the whole suite (vitest.logs.config.ts)');
  run('logs', 'vitest.logs.config.ts', { HOOKRELAY_LOG_SCAN_DIR: logsRoot });
  // A red run keeps the processes' logs for whoever looks next (they are 0600, and checked free of secrets).
  if (status === 0) rmSync(logsRoot, { recursive: true, force: true });
  else console.log(`\ntest: the processes' logs are kept in ${logsRoot}`);
}
let leftovers = 0;
for (const pid of readdirSync(pidDir)) {
  try {
    process.kill(Number(pid), 'SIGKILL');
    leftovers++;
  } catch {
    // already gone, as it should be
  }
}
rmSync(pidDir, { recursive: true, force: true });
if (leftovers) console.error(`test: killed ${leftovers} process(es) the suite left running`);
process.exit(status);
