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
export const METRICS_TOKEN_ENV = 'BOXOFFICE_METRICS_TOKEN';
const MIN_LENGTH = 16;

/** The token itself, or an Error whose message is the one line the CLI prints. */
function checkUsable(token: string, where: string, hint = ''): string {
  if (token.length < MIN_LENGTH) throw new Error(`${where} must be at least ${MIN_LENGTH} characters${hint}`);
  // What a client can put after "Bearer " and have arrive byte for byte: a token with a space, a
  // control or a non-ASCII character could never authenticate, so the server would start locked.
  const bad = /[^\x21-\x7e]/u.exec(token);
  if (bad) {
    const code = `U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    throw new Error(
      `${where} must be visible ASCII characters only (no spaces), found ${code} at character ${bad.index + 1}: a client could never send it${hint}`,
    );
  }
  return token;
}

/**
 * The credential a Prometheus scraper may use for /metrics and nothing else, so the admin token
 * need not sit in the monitoring system's configuration. Unset: only the admin token reads metrics.
 */
export function resolveMetricsToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[METRICS_TOKEN_ENV]?.trim();
  return value ? checkUsable(value, METRICS_TOKEN_ENV) : undefined;
}

/**
 * The admin token: from BOXOFFICE_ADMIN_TOKEN, else `<dataDir>/admin-token`, created on first start
 * with 256 random bits and mode 0600 so only the organiser's account can read it.
 */
export function resolveAdminToken(dataDir: string, env: NodeJS.ProcessEnv = process.env): AdminToken {
  const fromEnv = env[ADMIN_TOKEN_ENV]?.trim();
  if (fromEnv) return { token: checkUsable(fromEnv, ADMIN_TOKEN_ENV), source: 'env' };
  const file = join(dataDir, 'admin-token');
  try {
    const token = checkUsable(readFileSync(file, 'utf8').trim(), file, '; delete it to generate a new one');
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
