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
let status = 0;
for (const profile of profiles) {
  if (!configs[profile]) {
    console.error(`test: unknown profile ${profile} (embedded, cluster)`);
    process.exit(2);
  }
  console.log(`\ntest: ${profile} profile (${configs[profile]})`);
  const args = ['vitest', 'run', '--config', configs[profile], ...reporters(profile), ...rest];
  const res = spawnSync('npx', args, { cwd: root, stdio: 'inherit', env: { ...process.env, HOOKRELAY_PID_DIR: pidDir } });
  if (res.status !== 0) status = res.status ?? 1;
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
