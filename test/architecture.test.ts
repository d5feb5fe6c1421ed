/**
 * The layout rules of docs/ARCHITECTURE.md, checked on every run: no import cycle in src/ (type-only
 * imports included), src/core imports no other layer and no file, socket, database or HTTP library,
 * and no file in src/ is over 400 lines.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/server-process.js';

const SRC = join(REPO_ROOT, 'src');
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : /\.tsx?$/.test(name) ? [path] : [];
  });
}
const files = sources(SRC);
const IMPORT = /^(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm;
const importsOf = (file: string) => [...readFileSync(file, 'utf8').matchAll(IMPORT)].map((m) => m[1]!);

describe('the layout of src/', () => {
  it('has no import cycle', () => {
    const graph = new Map<string, string[]>();
    for (const file of files) {
      const local = importsOf(file).filter((spec) => spec.startsWith('.'));
      graph.set(
        file,
        local.flatMap((spec) => {
          const base = resolve(dirname(file), spec).replace(/\.js$/, '');
          return [`${base}.ts`, `${base}.tsx`].filter((candidate) => files.includes(candidate));
        }),
      );
    }
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]) => {
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === 'open') cycles.push([...path.slice(path.indexOf(next)), next].map((f) => relative(SRC, f)).join(' → '));
        else if (!state.has(next)) visit(next, [...path, next]);
      }
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) visit(file, [file]);
    expect(cycles).toEqual([]);
  });

  it('src/core imports no other layer and no file, socket, database or HTTP library', () => {
    const forbidden = /^(?:(?:\.\.\/)+(?:store|http|server|client|tui)\/|pg$|better-sqlite3$|fastify|node:(?:fs|net|http|https|dgram|child_process))/;
    const offending = files
      .filter((file) => relative(SRC, file).startsWith('core/'))
      .flatMap((file) => importsOf(file).filter((spec) => forbidden.test(spec)).map((spec) => `${relative(SRC, file)}: ${spec}`));
    expect(offending).toEqual([]);
  });

  it('no file in src/ is over 400 lines', () => {
    const long = files.map((file) => [relative(SRC, file), readFileSync(file, 'utf8').split('\n').length - 1] as const).filter(([, lines]) => lines > 400);
    expect(long).toEqual([]);
  });
});
