/**
 * The SQLite writer thread's entry point, bundled from the TypeScript source once per test process.
 * Started from source, each thread registers tsx and compiles its modules itself (~0.8 s a thread);
 * the store contract opens a fresh store per test, so that was most of the file's time. One bundle
 * made here, from the same source, starts in ~0.2 s and still tests the code as it is now (no build).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { REPO_ROOT } from './server-process.js';

let bundled: Promise<URL> | undefined;

export function writerScript(): Promise<URL> {
  bundled ??= (async () => {
    // Inside the repository (test-results/ is git-ignored) so the bundle finds node_modules.
    const dir = join(REPO_ROOT, 'test-results', `writer-thread-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const outfile = join(dir, 'writer-thread-main.mjs');
    await build({
      entryPoints: [join(REPO_ROOT, 'src/store/sqlite/writer-thread-main.ts')],
      outfile,
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'silent',
    });
    return pathToFileURL(outfile);
  })();
  return bundled;
}
