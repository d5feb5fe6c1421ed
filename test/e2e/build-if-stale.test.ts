/**
 * `npm start` compiles only when the sources changed since the last good build: a start on a current
 * dist/ costs no compile, a fresh clone (no dist/) or an edited source still builds. Run in a copy of
 * the sources (never the repository's own dist/, which other tests run).
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('boxoffice-build-');
afterAll(() => tmp.cleanup());

const SENTINEL = '// left by the test: a compile would overwrite this\n';

function buildIfStale(dir: string) {
  const result = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: dir, encoding: 'utf8' });
  expect(result.status, result.stderr + result.stdout).toBe(0);
}

describe('scripts/build.mjs --if-stale (prestart)', () => {
  it('builds a fresh copy, skips the compile while nothing changed, compiles again after an edit', () => {
    const dir = join(tmp.dir, 'clone');
    for (const path of ['src', 'scripts', 'tsconfig.json', 'tsconfig.build.json', 'package.json']) cpSync(join(REPO_ROOT, path), join(dir, path), { recursive: true });
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
    const output = join(dir, 'dist', 'server', 'version.js');

    buildIfStale(dir);
    expect(existsSync(join(dir, 'dist', 'cli.js'))).toBe(true);
    expect(existsSync(join(dir, 'dist', '.build-stamp'))).toBe(true);

    writeFileSync(output, SENTINEL);
    buildIfStale(dir);
    expect(readFileSync(output, 'utf8')).toBe(SENTINEL);

    appendFileSync(join(dir, 'src', 'server', 'version.ts'), '\n// edited\n');
    buildIfStale(dir);
    expect(readFileSync(output, 'utf8')).not.toBe(SENTINEL);
  }, 120_000);
});
