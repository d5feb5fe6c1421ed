/** The outputs: markdown table (stdout and RESULTS.md), raw numbers (results.json), chart (chart.svg). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { BenchOptions, Row } from './scenarios.js';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  commit: string;
  dirty: boolean;
  date: string;
  autocannon: string;
  postgres?: string | undefined;
  /** 1-minute load average when the run started and when it ended: how busy the shared machine was. */
  loadStart: number;
  loadEnd?: number | undefined;
}

export interface Target {
  name: string;
  want: string;
  measured: string;
  met: boolean | undefined;
}

export function describeMachine(repoRoot: string, autocannonVersion: string): Machine {
  let cpu = 'unknown';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    cpu = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  } catch {
    cpu = os.cpus()[0]?.model ?? 'unknown';
  }
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '';
    }
  };
  return {
    cpu,
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    commit: git('rev-parse', '--short=12', 'HEAD') || 'unknown',
    // Uncommitted changes to the server's source make the commit alone an incomplete description.
    dirty: git('status', '--porcelain', '--', 'src').length > 0,
    date: new Date().toISOString(),
    autocannon: autocannonVersion,
    loadStart: Math.round(os.loadavg()[0]! * 100) / 100,
  };
}

const CEILING_GET = 'ceiling-get';
const CEILING_POST = 'ceiling-post';

/** rps of the matching ceiling; mixed compares with the 90/10 blend of the two (harmonic: time per request adds up). */
export function attachRatios(rows: Row[]): void {
  const rps = (id: string) => rows.find((r) => r.id === id && r.status === 'ok' && r.rps > 0)?.rps;
  for (const row of rows) {
    if (row.status === 'error' || row.status === 'warning' || !row.ceiling) continue;
    let ceiling: number | undefined;
    if (row.ceiling === 'blend') {
      const get = rps(CEILING_GET);
      const post = rps(CEILING_POST);
      ceiling = get && post ? 1 / (0.9 / get + 0.1 / post) : undefined;
    } else {
      ceiling = rps(row.ceiling);
    }
    row.ratio = ceiling ? row.rps / ceiling : undefined;
  }
}

export function evaluateTargets(rows: Row[]): Target[] {
  const get = (id: string) => rows.find((r) => r.id === id && (r.status === 'ok' || r.status === 'failed'));
  const targets: Target[] = [];
  const x = (n: number | undefined) => (n === undefined ? 'n/a' : `${n.toFixed(2)} ×`);
  const hot = get('hot');
  targets.push({
    name: '`hot` on SQLite (synchronous=FULL) vs the no-op POST',
    want: '≥ 0.70 × ceiling and p99 ≤ 25 ms at 64 connections',
    measured: hot ? `${x(hot.ratio)}, p99 ${hot.p99.toFixed(1)} ms at ${hot.connections} connections` : 'not run',
    met: hot && hot.ratio !== undefined ? hot.ratio >= 0.7 && hot.p99 <= 25 && hot.connections >= 64 : undefined,
  });
  const list = get('list');
  targets.push({
    name: '`list` with 1,000 events vs the no-op GET',
    want: '≥ 0.80 × ceiling',
    measured: list ? x(list.ratio) : 'not run',
    met: list && list.ratio !== undefined ? list.ratio >= 0.8 : undefined,
  });
  const spread = get('spread');
  targets.push({
    name: '`spread` over 1,000 events vs the no-op POST',
    want: '≥ 0.70 × ceiling',
    measured: spread ? x(spread.ratio) : 'not run',
    met: spread && spread.ratio !== undefined ? spread.ratio >= 0.7 : undefined,
  });
  const pgHot = get('pg-hot');
  const textbook = get('pgbench');
  const pgFactor = pgHot && textbook && textbook.rps > 0 ? pgHot.rps / textbook.rps : undefined;
  targets.push({
    name: '`hot` on PostgreSQL, one process, vs the textbook transaction (pgbench, 32 clients)',
    want: '≥ 3 × the textbook bookings/s',
    measured: pgFactor !== undefined ? `${pgFactor.toFixed(2)} × (${fmt(pgHot!.rps)} vs ${fmt(textbook!.rps)} bookings/s)` : 'not run (needs --db postgres://…)',
    met: pgFactor !== undefined ? pgFactor >= 3 : undefined,
  });
  const nogc = get('hot-nogc');
  const gcFactor = hot && nogc && nogc.rps > 0 ? hot.rps / nogc.rps : undefined;
  const pgNogc = get('pg-hot-nogc');
  const pgGcFactor = pgHot && pgNogc && pgNogc.rps > 0 ? pgHot.rps / pgNogc.rps : undefined;
  targets.push({
    name: 'group commit on vs off (`hot` vs `--max-batch 1`)',
    want: 'the table shows the factor',
    measured: [
      gcFactor !== undefined ? `SQLite ${gcFactor.toFixed(2)} × (p99 ${hot!.p99.toFixed(1)} vs ${nogc!.p99.toFixed(1)} ms)` : undefined,
      pgGcFactor !== undefined ? `PostgreSQL ${pgGcFactor.toFixed(2)} × (p99 ${pgHot!.p99.toFixed(1)} vs ${pgNogc!.p99.toFixed(1)} ms)` : undefined,
    ]
      .filter(Boolean)
      .join('; ') || 'not run',
    met: gcFactor !== undefined || pgGcFactor !== undefined ? true : undefined,
  });
  const checkin = get('checkin');
  const checkinFactor = checkin && hot && hot.rps > 0 ? checkin.rps / hot.rps : undefined;
  targets.push({
    name: '`checkin`: 8 doors racing over 20,000 tickets vs `hot` of the same run',
    want: '≥ 0.5 × the `hot` bookings/s, each ticket admitted exactly once',
    measured: checkin ? `${checkinFactor !== undefined ? `${checkinFactor.toFixed(2)} × ` : ''}(${fmt(checkin.rps)} scans/s vs ${hot ? fmt(hot.rps) : '—'} bookings/s), p99 ${checkin.p99.toFixed(1)} ms, ${checkin.verify?.ok ? 'exactly once' : 'NOT verified'}` : 'not run',
    met: checkinFactor !== undefined ? checkinFactor >= 0.5 && checkin!.verify?.ok === true : undefined,
  });
  targets.push(...queueTargets(get('queue'), hot));
  targets.push({
    name: 'server peak RSS during `hot`',
    want: '< 300 MB',
    measured: hot ? `${mb(hot.peakRssBytes)} MB` : 'not run',
    met: hot ? hot.peakRssBytes > 0 && hot.peakRssBytes < 300 * 1e6 : undefined,
  });
  return targets;
}

/** The two waiting-room targets of issue 13, both against `hot` of the same run. */
function queueTargets(queue: Row | undefined, hot: Row | undefined): Target[] {
  const buyers = Number(queue?.extra.buyers ?? 0);
  const verified = queue?.verify?.ok ? 'verified' : 'NOT verified';
  const hotRps = hot && hot.rps > 0 ? hot.rps : undefined;
  const joins = queue && hotRps ? queue.rps / hotRps : undefined;
  // The memory target is stated for 10,000 buyers; a smaller run says so rather than claiming it.
  const fullSize = buyers >= 10_000;
  const rssOk = queue ? queue.peakRssBytes > 0 && queue.peakRssBytes < 500 * 1e6 : false;
  const admitted = Number(queue?.extra.admittedBookingsPerSecond ?? 0);
  const booking = queue && hotRps && admitted > 0 ? admitted / hotRps : undefined;
  const hotText = hot ? `${fmt(hot.rps)} bookings/s` : '`hot` not run';
  return [
    {
      name: `\`queue\`: ${fmt(buyers || 10_000)} buyers join before the sale, each following the line on its own stream`,
      want: 'joins/s ≥ 0.5 × the `hot` bookings/s; server peak RSS < 500 MB with 10,000 buyers',
      measured: queue
        ? `${joins !== undefined ? `${joins.toFixed(2)} × ` : ''}(${fmt(queue.rps)} joins/s vs ${hotText}), peak RSS ${mb(queue.peakRssBytes)} MB${fullSize ? '' : ` with ${fmt(buyers)} buyers (not the 10,000 of the target)`}, ${verified}`
        : 'not run',
      met: joins !== undefined ? joins >= 0.5 && (!fullSize || rssOk) && queue!.verify?.ok === true : undefined,
    },
    {
      name: '`queue`: bookings/s of the admitted buyers vs `hot` of the same run',
      want: '≥ 0.9 × the `hot` bookings/s',
      measured: queue ? `${booking !== undefined ? `${booking.toFixed(2)} × ` : ''}(${fmt(admitted)} admitted bookings/s vs ${hotText})` : 'not run',
      met: booking !== undefined ? booking >= 0.9 && queue!.verify?.ok === true : undefined,
    },
  ];
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(0);
}

function ms(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

function statusText(row: Row): string {
  const entries = Object.entries(row.statuses).sort(([a], [b]) => a.localeCompare(b));
  const parts = entries.map(([code, n]) => `${code}×${fmt(n)}`);
  if (row.errors > 0) parts.push(`err×${fmt(row.errors)}`);
  return parts.join(' ') || '—';
}

function verifyText(row: Row): string {
  if (!row.verify) return row.kind === 'book' || row.kind === 'mixed' || row.kind === 'textbook' ? '—' : '';
  if (!row.verify.ok) return '**FAIL**';
  const answered = row.kind === 'textbook' ? 'commits' : '2xx';
  return `ok (${fmt(row.verify.ticketsStored)} stored = ${fmt(row.verify.answered2xx)} ${answered})`;
}

export function markdownTable(rows: Row[]): string {
  const head = ['scenario', 'store', 'layout', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'statuses', '× ceiling', 'peak RSS MB', 'verified', 'notes'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i >= 3 && i <= 6 ? '---:' : i === 8 || i === 9 ? '---:' : '---')).join('|')}|`];
  for (const row of rows) {
    const failed = row.status === 'error' || row.status === 'warning';
    const cells = [
      `\`${row.id}\` ${row.title.replace(/\|/g, '\\|')}`,
      row.store,
      row.layout,
      failed ? '—' : fmt(row.rps),
      failed ? '—' : ms(row.p50),
      failed ? '—' : ms(row.p99),
      failed ? '—' : ms(row.p999),
      failed ? '—' : statusText(row),
      row.ratio !== undefined ? row.ratio.toFixed(2) : '—',
      row.peakRssBytes ? (row.rss.length > 1 ? `${mb(row.peakRssBytes)} (${row.rss.length} proc)` : mb(row.peakRssBytes)) : '—',
      verifyText(row),
      [row.status === 'warning' ? '**WARNING**' : row.status === 'error' ? '**ERROR**' : '', ...row.notes].filter(Boolean).join('; ').replace(/\|/g, '\\|'),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

export function targetsTable(targets: Target[]): string {
  const lines = ['| target | wanted | measured | met |', '|---|---|---|---|'];
  for (const t of targets) lines.push(`| ${t.name} | ${t.want} | ${t.measured} | ${t.met === undefined ? '—' : t.met ? 'yes' : '**no**'} |`);
  return lines.join('\n');
}

export function resultsMarkdown(machine: Machine, options: BenchOptions, rows: Row[], targets: Target[], wallSeconds: number): string {
  const mode = options.quick ? 'quick' : 'default';
  return `# Benchmark results

Generated by \`npm run bench${options.quick ? ' -- --quick' : ''}${options.pgUrl ? ' … --db postgres://…' : ''}\` — see [README.md](README.md) for how to run it and read it, [NOTES.md](NOTES.md) for where the time goes.

![requests per second (bars) and p99 latency (dots) per scenario](chart.svg)

| machine | |
|---|---|
| CPU | ${machine.cpu} |
| cores | ${machine.cores} (shared with the load generator, and with PostgreSQL in its rows) |
| memory | ${machine.memoryGiB} GiB |
| OS | ${machine.os} |
| Node | ${machine.node} |
| load generator | autocannon ${machine.autocannon}, in the benchmark's process, keep-alive, pipelining 1 |
${machine.postgres ? `| PostgreSQL | ${machine.postgres} |\n` : ''}| commit | ${machine.commit}${machine.dirty ? ' (with uncommitted changes in src/)' : ''} |
| date | ${machine.date} |
| load average (1 min) | ${machine.loadStart} at the start, ${machine.loadEnd ?? '?'} at the end (this run's own load is ~2–3; more means other work shared the cores) |
| run | ${mode}: ${options.connections} connections, ${options.durationSec} s measured after ${options.warmupSec} s warm-up per scenario; took ${wallSeconds.toFixed(0)} s |

${markdownTable(rows)}

## Targets (issue 5)

${targetsTable(targets)}

Server command per row (\`$PG_URL\` is the \`--db\` URL):

${rows.map((r) => `- \`${r.id}\`: \`${r.command}\``).join('\n')}
`;
}

/** A hand-written SVG: one bar of req/s per scenario (left axis), p99 latency as dots (right axis). */
export function chartSvg(rows: Row[], machine: Machine): string {
  const data = rows.filter((r) => (r.status === 'ok' || r.status === 'failed') && r.rps > 0);
  const W = Math.max(640, 110 + data.length * 64 + 90);
  const H = 460;
  const left = 80;
  const right = W - 80;
  const top = 50;
  const bottom = 300;
  const maxRps = niceMax(Math.max(1, ...data.map((r) => r.rps)));
  const maxP99 = niceMax(Math.max(1, ...data.map((r) => r.p99)));
  const slot = (right - left) / Math.max(1, data.length);
  const y = (v: number, max: number) => bottom - (v / max) * (bottom - top);
  const color = (r: Row) =>
    r.kind === 'ceiling' ? '#9aa5b1' : r.kind === 'textbook' ? '#c98b2b' : r.store === 'postgres' ? '#3b7dd8' : r.kind === 'read' ? '#4caf7d' : r.kind === 'mixed' ? '#7e6bc4' : r.kind === 'checkin' ? '#d35f5f' : r.kind === 'queue' ? '#d08c3a' : '#2e8b57';
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="11">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">boxoffice: requests/s (bars) and p99 latency (red dots)</text>`);
  out.push(`<text x="${W / 2}" y="36" text-anchor="middle" fill="#555">${esc(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, commit ${machine.commit}${machine.dirty ? '+' : ''}, ${machine.date.slice(0, 10)}`)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const vy = bottom - (i / 5) * (bottom - top);
    out.push(`<line x1="${left}" y1="${vy}" x2="${right}" y2="${vy}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${left - 6}" y="${vy + 4}" text-anchor="end">${fmt((maxRps * i) / 5)}</text>`);
    const p99Tick = (maxP99 * i) / 5;
    out.push(`<text x="${right + 6}" y="${vy + 4}" fill="#c0392b">${p99Tick >= 10 ? fmt(p99Tick) : ms(p99Tick)}</text>`);
  }
  out.push(`<text transform="translate(18 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle">requests / s</text>`);
  out.push(`<text transform="translate(${W - 16} ${(top + bottom) / 2}) rotate(90)" text-anchor="middle" fill="#c0392b">p99 latency, ms</text>`);
  out.push(`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#333"/>`);
  const dots: string[] = [];
  data.forEach((r, i) => {
    const cx = left + slot * i + slot / 2;
    const bw = Math.min(40, slot * 0.7);
    const by = y(r.rps, maxRps);
    out.push(`<rect x="${cx - bw / 2}" y="${by}" width="${bw}" height="${bottom - by}" fill="${color(r)}"><title>${esc(`${r.id}: ${fmt(r.rps)} req/s, p99 ${ms(r.p99)} ms`)}</title></rect>`);
    out.push(`<text x="${cx}" y="${by - 4}" text-anchor="middle" font-size="10">${fmt(r.rps)}</text>`);
    out.push(`<text transform="translate(${cx + 3} ${bottom + 8}) rotate(60)" font-size="11">${esc(r.id)}</text>`);
    const py = y(r.p99, maxP99);
    dots.push(`${cx},${py}`);
    out.push(`<circle cx="${cx}" cy="${py}" r="4.5" fill="#c0392b" stroke="#fff" stroke-width="1"><title>${esc(`${r.id}: p99 ${ms(r.p99)} ms`)}</title></circle>`);
  });
  out.push(`<polyline points="${dots.join(' ')}" fill="none" stroke="#c0392b" stroke-width="1" stroke-dasharray="3 3" opacity="0.6"/>`);
  const legend = [
    ['#9aa5b1', 'ceiling (no-op)'],
    ['#4caf7d', 'read'],
    ['#2e8b57', 'booking, SQLite'],
    ['#7e6bc4', 'mixed'],
    ['#3b7dd8', 'PostgreSQL'],
    ['#c98b2b', 'textbook (pgbench)'],
  ];
  legend.forEach(([c, label], i) => {
    const lx = left + i * 125;
    out.push(`<rect x="${lx}" y="${H - 22}" width="12" height="12" fill="${c}"/><text x="${lx + 16}" y="${H - 12}">${esc(label!)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function niceMax(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
