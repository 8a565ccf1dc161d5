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
const args = ['vitest', 'run', ...reporters('embedded'), ...process.argv.slice(2)];
const res = spawnSync('npx', args, { cwd: root, stdio: 'inherit', env: { ...process.env, HOOKRELAY_PID_DIR: pidDir } });
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
process.exit(res.status ?? 1);
