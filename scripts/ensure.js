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
execFileSync('bash', [join(root, 'scripts/tools.sh')], { cwd: root, stdio: 'inherit' });
