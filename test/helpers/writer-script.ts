/**
 * The SQLite writer thread's entry point, bundled from the TypeScript source once per test process.
 * Started from source, each thread registers tsx and compiles its modules itself (~0.8 s a thread);
 * the store contract opens a fresh store per test, so that was most of the file's time. One bundle
 * made here, from the same source, starts in ~0.2 s and still tests the code as it is now (no build).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { REPO_ROOT } from './server-process.js';

let bundled: Promise<URL> | undefined;

export function writerScript(): Promise<URL> {
  bundled ??= (async () => {
    const result = await build({
      entryPoints: [join(REPO_ROOT, 'src/store/sqlite/writer-thread-main.ts')],
      write: false,
      outfile: 'writer-thread-main.mjs',
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]!.contents;
    // Named by its content: test processes running at once share one file per version of the
    // source, written whole (rename) before any thread reads it. Inside the repository, in the
    // git-ignored test-results/, so that the bundle's imports find node_modules.
    const dir = join(REPO_ROOT, 'test-results', 'writer-thread');
    const file = join(dir, `${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true });
      const partial = `${file}.${process.pid}`;
      writeFileSync(partial, code);
      renameSync(partial, file);
    }
    return pathToFileURL(file);
  })();
  return bundled;
}
