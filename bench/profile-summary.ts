/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`, e.g. `npm run bench -- --only hot --cpu-prof DIR`):
 * the top functions by self time, and self time grouped by where the code lives.
 *
 *   node dist-bench/profile-summary.js <file.cpuprofile> [top=25]
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function area(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (functionName === '(idle)') return '(idle: waiting for I/O)';
  if (functionName === '(garbage collector)') return '(garbage collector)';
  if (functionName === '(program)') return '(program: V8/native, unattributed)';
  if (!url) return '(native / builtins)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const own = /\/dist\/(.+)$/.exec(url);
  if (own) return `boxoffice ${own[1]!.split('/').slice(0, -1).join('/') || '.'}`;
  return url;
}

function main(): void {
  const [file, topArg] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node dist-bench/profile-summary.js <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  const top = Number(topArg ?? 25);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const idle = [...selfUs].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, us]) => a + us, 0);
  const busy = total - idle;
  const byFunction = new Map<string, { us: number; area: string }>();
  const byArea = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    const where = frame.url ? `${frame.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName || '(anonymous)'} ${where}`.trim();
    const entry = byFunction.get(key) ?? { us: 0, area: area(frame) };
    entry.us += us;
    byFunction.set(key, entry);
    byArea.set(area(frame), (byArea.get(area(frame)) ?? 0) + us);
  }
  const pct = (us: number, of: number) => `${((100 * us) / of).toFixed(1).padStart(5)} %`;
  process.stdout.write(`${file}\nwall ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (${pct(busy, total).trim()}), idle ${(idle / 1e6).toFixed(1)} s\n\n`);
  process.stdout.write(`self time by area (share of busy time):\n`);
  for (const [name, us] of [...byArea].filter(([n]) => !n.startsWith('(idle')).sort((a, b) => b[1] - a[1]).slice(0, 20)) {
    process.stdout.write(`  ${pct(us, busy)}  ${name}\n`);
  }
  process.stdout.write(`\ntop ${top} functions by self time (share of busy time):\n`);
  for (const [name, { us }] of [...byFunction].filter(([n]) => !n.startsWith('(idle)')).sort((a, b) => b[1].us - a[1].us).slice(0, top)) {
    process.stdout.write(`  ${pct(us, busy)}  ${name}\n`);
  }
}

main();
