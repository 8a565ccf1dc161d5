// Installs what a fresh clone lacks: npm packages (when node_modules is missing or older than the lock file)
// and the Go-built servers (scripts/tools.sh skips what is already there at the right version).
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './stack.js';

const lock = join(root, 'package-lock.json');
const marker = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs + 1000)) {
  console.log('ensure: installing npm packages…');
  // npm install, not npm ci: npm 11's ci rejects this lock file over platform-specific optional packages.
  execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}
// `--for=start` (npm start): only what the embedded stack runs (scripts/tools.sh start); without it, everything the
// tests, the cluster profile and the SDKs need.
const forStart = process.argv.includes('--for=start');
execFileSync('bash', [join(root, 'scripts/tools.sh'), ...(forStart ? ['start'] : [])], { cwd: root, stdio: 'inherit' });
if (forStart) process.exit(0);

// Chromium drives the Temporal UI test. Debian's package; installed when missing and we are allowed to.
if (!existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium')) {
  const isRoot = process.getuid?.() === 0;
  const aptGet = ['/usr/bin/apt-get'].find((p) => existsSync(p));
  if (isRoot && aptGet) {
    console.log('ensure: installing chromium (Debian package) for the Temporal UI test…');
    execFileSync(aptGet, ['update', '-qq'], { stdio: 'inherit' });
    execFileSync(aptGet, ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } else {
    console.warn('ensure: chromium is missing and cannot be installed here (needs root and apt-get); the Temporal UI test will be skipped');
  }
}
