// `npm run test:fuzz`: schemathesis (from PyPI, installed into .tools/venv) against /openapi.json on an isolated
// stack (Temporal, FerretDB, API; no worker). Fails on any 5xx and on any response that does not match the
// documented schema.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort, root, startApi, startFerret, startTemporal, toolsDir } from './stack.js';

const SCHEMATHESIS = 'schemathesis==4.32.5';
const venv = join(toolsDir, 'venv');
const st = join(venv, 'bin', 'st');
if (!existsSync(st)) {
  console.log('fuzz: installing schemathesis into .tools/venv…');
  execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
  execFileSync(join(venv, 'bin', 'pip'), ['install', '-q', SCHEMATHESIS], { stdio: 'inherit' });
}

const dir = mkdtempSync(join(tmpdir(), 'hookrelay-fuzz-'));
const logDir = join(dir, 'logs');
const procs = [];
let status = 1;
try {
  const [tp, mp] = [await freePort(), await freePort()];
  procs.push(await startTemporal({ port: tp, dbFile: join(dir, 'temporal.db'), logDir, headless: true }));
  procs.push(await startFerret({ port: mp, dataDir: join(dir, 'ferretdb'), logDir }));
  const adminKey = `hrk_${randomBytes(20).toString('hex')}`;
  const env = {
    HOOKRELAY_ENV: 'test', PORT: '0', MONGODB_URL: `mongodb://127.0.0.1:${mp}/`, TEMPORAL_ADDRESS: `127.0.0.1:${tp}`,
    ADMIN_KEY: adminKey, HOOKRELAY_ENCRYPTION_KEY: randomBytes(32).toString('base64'), API_RATE_LIMIT_PER_S: '100000', API_RATE_LIMIT_BURST: '100000', LOG_LEVEL: 'warn',
  };
  const api = await startApi({ env, logDir });
  procs.push(api);
  // No worker: the fuzzer invents webhook URLs, and nothing it invents may ever be sent a request. Workflows
  // it causes stay queued in this throwaway Temporal. For the same reason POST /v1/webhooks/{id}/test, which
  // waits for a worker's first attempt, is left to the integration tests.
  const res = spawnSync(st, [
    'run', `${api.url}/openapi.json`, '--url', api.url,
    '-H', `Authorization: Bearer ${adminKey}`,
    '--checks', 'not_a_server_error,response_schema_conformance',
    '--max-examples', process.env.FUZZ_MAX_EXAMPLES ?? '30',
    '--workers', '1',
    '--exclude-path', '/v1/webhooks/{id}/test',
    // The run report (JSON) gives .ci/run the number of test cases for its summary line.
    ...(process.env.HOOKRELAY_FUZZ_REPORT ? ['--report', 'json', '--report-json-path', process.env.HOOKRELAY_FUZZ_REPORT] : []),
  ], { cwd: root, stdio: 'inherit' });
  status = res.status ?? 1;
  if (status !== 0) console.error(`fuzz: schemathesis failed; API logs in ${logDir}`);
} finally {
  for (const p of procs.reverse()) await p.stop().catch(() => {});
  if (status === 0) rmSync(dir, { recursive: true, force: true });
}
process.exit(status);
