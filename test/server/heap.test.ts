/**
 * The server bounds V8's heap growth (src/server/heap.ts): under an allocation pattern that promotes
 * garbage, the heap swells far less above its live size before a full collection;
 * a value the operator gave (node flag or NODE_OPTIONS) is left alone.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { boundHeapGrowth } from '../../src/server/heap.js';

const script = join(import.meta.dirname, 'heap-growth.js');
const peakMb = (mode: string) => {
  const env: NodeJS.ProcessEnv = { ...process.env, HEAP_MODULE: pathToFileURL(join(import.meta.dirname, '../../src/server/heap.ts')).href };
  delete env.NODE_OPTIONS;
  const out = execFileSync(process.execPath, ['--import', 'tsx', script, mode], { env, encoding: 'utf8' });
  return Number(out.trim().split(' ')[0]);
};

describe('boundHeapGrowth', () => {
  it('swells the heap far less than V8 alone (60 MB alive, promoted garbage)', () => {
    const free = peakMb('free');
    const bound = peakMb('bound');
    // Measured: about 575 MB free, 270 MB bound (a full collection at 1.5 × what survived the last).
    expect(bound).toBeLessThan(free * 0.7);
  }, 60_000);

  it('leaves a value the operator set alone', () => {
    expect(boundHeapGrowth(['--heap-growing-percent=80'], '')).toBe(false);
    expect(boundHeapGrowth([], '--max-old-space-size=512 --heap-growing-percent=10')).toBe(false);
  });
});
