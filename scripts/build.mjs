#!/usr/bin/env node
/**
 * Builds dist/ with tsc and records what it was built from in dist/.build-stamp (a hash of every
 * input: the files under src/, the tsconfig files and the TypeScript version).
 *
 *   node scripts/build.mjs             always compile (npm run build, prepare, pretest)
 *   node scripts/build.mjs --if-stale  compile only when an input changed since the last good build
 *                                      (npm start, npm run client: a second start costs no compile)
 *
 * The stamp is written only after tsc succeeded, so a failed build is retried on the next start. A
 * hash instead of file times: a checkout or a copied tree may give old content new times and the
 * other way round. Plain JavaScript so that checking costs no TypeScript loader.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stampFile = join(root, 'dist', '.build-stamp');
const require = createRequire(import.meta.url);

function filesUnder(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

function fingerprint() {
  const hash = createHash('sha256');
  const inputs = [...filesUnder(join(root, 'src')), join(root, 'tsconfig.json'), join(root, 'tsconfig.build.json')].sort();
  for (const file of inputs) {
    hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  hash.update(`typescript ${require('typescript/package.json').version}`);
  return hash.digest('hex');
}

function upToDate(print) {
  if (!existsSync(join(root, 'dist', 'cli.js')) || !existsSync(stampFile)) return false;
  return readFileSync(stampFile, 'utf8').trim() === print;
}

const ifStale = process.argv.includes('--if-stale');
const before = fingerprint();
if (ifStale && upToDate(before)) process.exit(0);

const tsc = require.resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
if (result.status !== 0) process.exit(result.status ?? 1);
// A source edited while tsc ran: record what was read before, so the next start compiles again.
writeFileSync(stampFile, `${before}\n`);
