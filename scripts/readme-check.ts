/**
 * Runs the README's checked examples for real and fails when an output drifts from what the README
 * shows (see scripts/readme-blocks.ts for what is checked and how outputs are compared).
 *
 *   npm run build && node --import tsx scripts/readme-check.ts            # every group
 *   node --import tsx scripts/readme-check.ts --group api --fast          # one group, without the slow blocks
 *   node --import tsx scripts/readme-check.ts --update                    # write the real outputs of drifted commands into README.md
 *
 * Each group gets a fresh `node dist/cli.js serve --headless` on a free port with its data directory at
 * `./data` of a temporary working directory, and one bash in that directory: variables set by one
 * command are there for the next, as in a reader's terminal. `TOKEN` is set from `data/admin-token`
 * before the first command (the README sets it once, at the top). The README's address
 * `127.0.0.1:8080` is replaced by the server's in commands and back in outputs. The one flag the
 * server gets beyond a reader's is `--buyer-rate 1000`: a reader does not type ten writes a second,
 * this script does. A group may start its server with the flags its section names (GROUP_FLAGS). The
 * working directory reads as `/srv/shop` in outputs, as the README's paths show it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PG_GROUP, pgRun, pgUnavailable } from './readme-pg.js';
import { bindByOrder, matches, normalise, parseReadme, withRealIds, type Block, type Command, type IdMap } from './readme-blocks.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const README_ADDRESS = /(127\.0\.0\.1|localhost):8080/g;

export interface Drift {
  group: string;
  command: Command;
  actual: string;
}

export interface CheckOptions {
  readme?: string;
  /** Only these groups (default: all). */
  groups?: readonly string[];
  /** Leave out blocks marked slow (and the rest of their group keeps running). */
  fast?: boolean;
}

export interface CheckResult {
  commands: number;
  drifts: Drift[];
  /** Groups not run, with why (PostgreSQL not configured). */
  skipped: Array<{ group: string; why: string }>;
  /** Per group: the README's ids and this run's, and the README lines the group's blocks span. */
  runs: Array<{ ids: IdMap; lines: Array<[number, number]> }>;
}

export async function checkReadme(options: CheckOptions = {}): Promise<CheckResult> {
  const blocks = parseReadme(readFileSync(options.readme ?? join(ROOT, 'README.md'), 'utf8'));
  const result: CheckResult = { commands: 0, drifts: [], skipped: [], runs: [] };
  const noPg = pgUnavailable();
  const groups = [...new Set(blocks.map((b) => b.group))]
    .filter((g) => !options.groups || options.groups.includes(g))
    .filter((g) => g !== PG_GROUP || noPg === undefined || (result.skipped.push({ group: g, why: noPg }), false));
  // Groups share nothing (own server, port and directory), so they run side by side: the check takes
  // about as long as its longest group.
  // A closed probe's port may be handed out again: one distinct port per group, chosen up front.
  const ports = new Set<number>();
  while (ports.size < groups.length) ports.add(await freePort());
  const runs = await Promise.all(
    groups.map(async (group, i) => {
      const chosen = blocks.filter((b) => b.group === group && !(options.fast && b.slow));
      return { chosen, ...(await runGroup(group, chosen, [...ports][i]!)) };
    }),
  );
  for (const { chosen, drifts, ids } of runs) {
    result.commands += chosen.reduce((n, b) => n + b.commands.length, 0);
    result.drifts.push(...drifts);
    result.runs.push({ ids, lines: chosen.map((b) => [b.line, b.line + b.length] as [number, number]) });
  }
  return result;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

async function waitForHealth(url: string, exited: () => string | undefined): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const gone = exited();
    if (gone !== undefined) throw new Error(`the server exited before answering: ${gone}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`no answer from ${url}/healthz within 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const MARK = '@@readme-check@@';

/**
 * The pause after a command while a follow block runs: a reader types slower than the live stream's
 * 100 ms batching (STREAM_FLUSH_MS), so each change the README shows arrives as its own message.
 */
const SETTLE_MS = 250;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Flags a group's server gets because its section says the examples ran with them. */
const GROUP_FLAGS: Record<string, string[]> = {
  lifecycle: ['--time-zone', 'Europe/Berlin'],
};

/** Where the README's outputs were run (Operating boxoffice: backups next to `./data`). */
const README_DIR = '/srv/shop';

async function runGroup(group: string, blocks: Block[], port: number): Promise<{ drifts: Drift[]; ids: IdMap }> {
  const commands = blocks.flatMap((b) => b.commands.map((command) => ({ command, follow: b.follow })));
  const ids: IdMap = new Map();
  if (commands.length === 0) return { drifts: [], ids };
  const dir = mkdtempSync(join(tmpdir(), `boxoffice-readme-${group}-`));
  // `node dist/cli.js …` as typed in a clone (the commands run in the temporary directory).
  symlinkSync(join(ROOT, 'dist'), join(dir, 'dist'));
  // The server reads BOXOFFICE_* settings; a reader's fresh shell has none.
  const pg = group === PG_GROUP ? pgRun() : undefined;
  const env = { ...Object.fromEntries(Object.entries({ ...process.env, NO_COLOR: '1' }).filter(([k]) => !k.startsWith('BOXOFFICE_'))), ...pg?.env };
  const flags = [...(GROUP_FLAGS[group] ?? []), ...(pg?.flags ?? [])];
  const server = spawn(process.execPath, [join(ROOT, 'dist/cli.js'), 'serve', '--headless', '--port', String(port), '--data-dir', join(dir, 'data'), '--buyer-rate', '1000', ...flags], {
    cwd: dir,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let exit: string | undefined;
  server.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  server.on('exit', (code, signal) => (exit = `code ${code ?? signal}; ${stderr.trim().slice(-500)}`));
  const here = `127.0.0.1:${port}`;
  try {
    await waitForHealth(`http://${here}`, () => exit);
    // One command at a time, each after the previous one's output has been compared: a command may use
    // an id from an earlier output, which the README shows as the id of its own run.
    const drifts: Drift[] = [];
    const shell = spawn('bash', ['--norc', '--noprofile'], { cwd: dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    shell.stdout.on('data', (d: Buffer) => (out += d.toString()));
    shell.stderr.on('data', (d: Buffer) => (out += d.toString()));
    shell.stdin.write(`exec 2>&1\nTOKEN=$(cat data/admin-token)\n`);
    const clean = (output: string) => normalise(output.replaceAll(here, '127.0.0.1:8080').replaceAll(dir, README_DIR));
    /** Types `text` into the shell and answers what it printed, once it has finished. */
    const type = async (text: string, end: string, command: Command): Promise<string> => {
      out = '';
      shell.stdin.write(`${text}\nprintf '\\n${end}\\n'\n`);
      const deadline = Date.now() + 60_000;
      while (!out.includes(`${end}\n`)) {
        if (Date.now() > deadline || shell.exitCode !== null) throw new Error(`README.md:${command.line}: no end to \`${command.text}\` within 60 s`);
        await sleep(20);
      }
      return out.slice(0, out.lastIndexOf(`\n${end}\n`));
    };
    const compare = (command: Command, actual: string) => {
      if (matches(command.expected, actual, ids)) return;
      drifts.push({ group, command, actual });
      bindByOrder(command.expected, actual, ids);
    };
    const following: Array<{ command: Command; file: string; job: string }> = [];
    for (const [i, { command, follow }] of commands.entries()) {
      const typed = withRealIds(command.text, ids).replace(README_ADDRESS, here);
      const text = pg ? pg.rewrite(typed) : typed;
      if (follow) {
        // A reader's second terminal. Its own process group (set -m), so that stopping it stops all it started.
        const file = `.readme-follow-${i}`;
        await type(`set -m\n{\n${text}\n} > ${file} 2>&1 &\nFOLLOW_${i}=$!\nset +m`, `${MARK}${i}`, command);
        const deadline = Date.now() + 10_000;
        // The background shell creates the file: it may not be there yet.
        while (!existsSync(join(dir, file)) || readFileSync(join(dir, file), 'utf8') === '') {
          if (Date.now() > deadline) throw new Error(`README.md:${command.line}: \`${command.text}\` printed nothing within 10 s`);
          await sleep(20);
        }
        await sleep(SETTLE_MS);
        following.push({ command, file: join(dir, file), job: `FOLLOW_${i}` });
        continue;
      }
      compare(command, clean(await type(`{\n${text}\n}`, `${MARK}${i}`, command)));
      if (following.length > 0) await sleep(SETTLE_MS);
    }
    for (const [i, { command, file, job }] of following.entries()) {
      // Its last message may still be on its way: give it a moment, but a drift does not wait long.
      const deadline = Date.now() + 5_000;
      while (!matches(command.expected, clean(readFileSync(file, 'utf8')), new Map(ids)) && Date.now() < deadline) await sleep(100);
      await type(`kill -- -$${job}; wait $${job} 2>/dev/null`, `${MARK}stop${i}`, command);
      compare(command, clean(readFileSync(file, 'utf8')));
    }
    shell.stdin.end();
    return { drifts, ids };
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => (exit !== undefined ? r(undefined) : server.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
    pg?.cleanup();
  }
}

/**
 * Writes this run into README.md: each drifted command's output becomes what it printed, and every id
 * in the checked blocks becomes this run's, so the README's commands and outputs agree again.
 */
export function writeOutputs(result: CheckResult, readme = join(ROOT, 'README.md')): void {
  const lines = readFileSync(readme, 'utf8').split('\n');
  for (const run of result.runs) {
    for (const [start, end] of run.lines) for (let i = start - 1; i < end && i < lines.length; i++) lines[i] = withRealIds(lines[i]!, run.ids);
  }
  // From the bottom up, so earlier line numbers stay right.
  for (const d of [...result.drifts].sort((a, b) => b.command.line - a.command.line)) {
    lines.splice(d.command.outputStart - 1, d.command.outputEnd - d.command.outputStart, ...d.actual.split('\n'));
  }
  writeFileSync(readme, lines.join('\n'));
}

export function describeDrift(d: Drift): string {
  return [
    `README.md:${d.command.line} (group ${d.group}): $ ${d.command.text}`,
    '--- the README shows',
    d.command.expected,
    '--- it printed',
    d.actual,
    '',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const groups: string[] = [];
  for (let i = 0; i < argv.length; i++) if (argv[i] === '--group') groups.push(argv[++i]!);
  const result = await checkReadme({ groups: groups.length > 0 ? groups : undefined, fast: argv.includes('--fast') });
  for (const d of result.drifts) process.stdout.write(`${describeDrift(d)}\n`);
  if (argv.includes('--update') && result.drifts.length > 0) {
    writeOutputs(result);
    process.stdout.write(`wrote ${result.drifts.length} outputs into README.md: read the diff, put back any "…" you want\n`);
  }
  for (const s of result.skipped) process.stdout.write(`group ${s.group} NOT RUN: ${s.why}\n`);
  process.stdout.write(`${result.commands} commands, ${result.drifts.length} drifted\n`);
  return result.drifts.length === 0 ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`readme-check: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(2);
    },
  );
}
