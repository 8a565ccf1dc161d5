import { createHash, randomBytes } from 'node:crypto';

// API keys: `hrk_` + 32 random letters/digits, shown once and stored only as their SHA-256.
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function generateApiKey(): string {
  const bytes = randomBytes(32);
  let s = '';
  for (const b of bytes) s += ALNUM[b % ALNUM.length];
  return `hrk_${s}`;
}

export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');
