import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface AdminToken {
  token: string;
  /** Where it came from, for the startup log (never the token itself). */
  source: 'env' | 'file' | 'generated';
  file?: string;
}

export const ADMIN_TOKEN_ENV = 'BOXOFFICE_ADMIN_TOKEN';
const MIN_LENGTH = 16;

/**
 * The admin token: from BOXOFFICE_ADMIN_TOKEN, else `<dataDir>/admin-token`, created on first start
 * with 256 random bits and mode 0600 so only the organiser's account can read it.
 */
export function resolveAdminToken(dataDir: string, env: NodeJS.ProcessEnv = process.env): AdminToken {
  const fromEnv = env[ADMIN_TOKEN_ENV]?.trim();
  if (fromEnv) {
    if (fromEnv.length < MIN_LENGTH) throw new Error(`${ADMIN_TOKEN_ENV} must be at least ${MIN_LENGTH} characters`);
    return { token: fromEnv, source: 'env' };
  }
  const file = join(dataDir, 'admin-token');
  try {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length < MIN_LENGTH) throw new Error(`${file} holds no usable token (at least ${MIN_LENGTH} characters); delete it to generate a new one`);
    // Tighten a token file someone loosened by hand.
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return { token, source: 'file', file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomBytes(32).toString('base64url');
  // 'wx' fails if another process created it in between; then we read theirs.
  try {
    writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return resolveAdminToken(dataDir, env);
    throw err;
  }
  return { token, source: 'generated', file };
}
