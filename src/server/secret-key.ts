import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIN_SECRET_KEY_BYTES } from '../core/identity.js';

export const SECRET_KEY_ENV = 'BOXOFFICE_SECRET_KEY';
export const PREVIOUS_SECRET_KEY_ENV = 'BOXOFFICE_SECRET_KEY_PREVIOUS';
export const SECRET_KEY_FILE = 'secret.key';

export interface SecretKeys {
  /** Current key first; previous ones only recompute secrets of bookings made before a rotation. */
  keys: Buffer[];
  /** Where the current key came from, for the startup log (never the key). */
  source: 'env' | 'file' | 'generated';
  file?: string;
}

const HOW = `at least ${MIN_SECRET_KEY_BYTES} random bytes written as hex or base64 (for example: openssl rand -base64 32)`;

/**
 * The key booking secrets are derived from (HMAC of the booking id): from BOXOFFICE_SECRET_KEY,
 * shared by every node, else `<dataDir>/secret.key`, created on first start with 256 random bits and
 * mode 0600. Never in the database: a copy of the database alone must reveal no secret.
 * BOXOFFICE_SECRET_KEY_PREVIOUS (optional, comma-separated) names keys used before a rotation.
 */
export function resolveSecretKeys(dataDir: string, env: NodeJS.ProcessEnv = process.env): SecretKeys {
  const previous = (env[PREVIOUS_SECRET_KEY_ENV] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((text) => decodeKey(text, PREVIOUS_SECRET_KEY_ENV));
  const fromEnv = env[SECRET_KEY_ENV]?.trim();
  if (fromEnv) return { keys: [decodeKey(fromEnv, SECRET_KEY_ENV), ...previous], source: 'env' };
  const file = join(dataDir, SECRET_KEY_FILE);
  try {
    const key = decodeKey(readFileSync(file, 'utf8').trim(), file);
    // Tighten a key file someone loosened by hand.
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return { keys: [key, ...previous], source: 'file', file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = randomBytes(MIN_SECRET_KEY_BYTES);
  // 'wx' fails if another process (another --workers worker) created it in between; then read theirs.
  try {
    writeFileSync(file, `${key.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return resolveSecretKeys(dataDir, env);
    throw new Error(`no ${SECRET_KEY_ENV} is set and ${file} cannot be created (${code ?? (err as Error).message}); set ${SECRET_KEY_ENV} to ${HOW}`);
  }
  return { keys: [key, ...previous], source: 'generated', file };
}

/** Hex if it looks like hex, else base64 or base64url; refused unless it carries enough bytes. */
export function decodeKey(text: string, where: string): Buffer {
  let key: Buffer | undefined;
  if (/^(?:[0-9a-fA-F]{2})+$/.test(text)) key = Buffer.from(text, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) key = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (!key || key.length < MIN_SECRET_KEY_BYTES) {
    throw new Error(`${where} must hold ${HOW}; it holds ${key ? `${key.length} bytes` : 'something that is neither hex nor base64'}`);
  }
  return key;
}
