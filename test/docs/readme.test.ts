/**
 * The README as a newcomer meets it: its checked examples run for real against the built server and
 * print what the README shows (scripts/readme-check.ts), the harness notices a drift, and the commands
 * it tells a newcomer to type exist on a fresh clone.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { matches, NOT_RUN, parseReadme, staleNotRun, unaccounted, type IdMap } from '../../scripts/readme-blocks.js';
import { checkReadme, describeDrift } from '../../scripts/readme-check.js';
import { PG_URL } from '../helpers/pg.js';
import { REPO_ROOT } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';

const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const ID_A = '0ef71b67-373d-4d9c-b7e7-3e99fd79c782';
const ID_B = '9b13ab50-4ff1-4311-9451-def6772b6219';

/** Every command line of every `sh` block (checked or not), without its `$ `. */
function shellCommands(text: string): string[] {
  const commands: string[] = [];
  for (const block of text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    for (const line of block[1]!.split('\n')) {
      const command = line.replace(/^\$ /, '').trim();
      if (command && !command.startsWith('#') && (line.startsWith('$ ') || !block[1]!.includes('\n$ '))) commands.push(command);
    }
  }
  return commands;
}

describe('the README comparison', () => {
  it('allows for ids, times, secrets and "…", but an id must stay the same id', () => {
    const ids: IdMap = new Map();
    expect(matches(`{"id":"${ID_A}","at":"2026-11-26T10:09:27.456Z","secret":"9WYl21KJry61GdgZHNhljTG3jcfHpqjH"}`, `{"id":"${ID_B}","at":"2027-01-01T00:00:00.000Z","secret":"Ayh8dNuJFlyXvAZGwmJbTqSsBnUTIXd-_DD76Oh5MIA"}`, ids)).toBe(true);
    expect(ids.get(ID_A)).toBe(ID_B);
    // Later, the README's id stands for this run's.
    expect(matches(`{"eventId":"${ID_A}"}`, `{"eventId":"${ID_B}"}`, ids)).toBe(true);
    expect(matches(`{"eventId":"${ID_A}"}`, `{"eventId":"11111111-1111-4111-8111-111111111111"}`, ids)).toBe(false);
    // Within one output, the same README id twice must be the same real id twice.
    const once: IdMap = new Map();
    expect(matches(`${ID_B} ${ID_B}`, '11111111-1111-4111-8111-111111111111 22222222-2222-4222-8222-222222222222', once)).toBe(false);
    expect(matches('HTTP/1.1 201 Created\n…\n{"a":1}', 'HTTP/1.1 201 Created\r\nx: y\r\n\r\n{"a":1}', new Map())).toBe(true);
  });

  it('allows for what the door walkthrough prints differently each run: door tokens, public keys, times to the second, ids cut short in a sentence', () => {
    const token = (id: string, secret: string) => `{"token":"bod_${id}_${secret}"}`;
    expect(matches(token('39bcc6d504a24c71814d80e45e5ce945', 'XOGW4qHg5IzAPBI5xdhDxP7ks31r0WYpbOkuyZgOZoI'), token('0123456789abcdef0123456789abcdef', 'Ayh8dNuJFlyXvAZGwmJbTqSsBnUTIXd-_DD76Oh5MIA'), new Map())).toBe(true);
    expect(matches(token('39bcc6d504a24c71814d80e45e5ce945', 'XOGW4qHg5IzAPBI5xdhDxP7ks31r0WYpbOkuyZgOZoI'), '{"token":"admin-token"}', new Map())).toBe(false);
    const keys = (k: string) => `{"publicKey":"${k}","publicKeys":["${k}"],"offlineAllowed":false}`;
    expect(matches(keys('Rc1f4G9vn4qe_X41n_kO1DOInzlC6QA9vhrEyOA5IO8'), keys('bQ2-3N0y9lS0Jw7ZV5z2xq9H0eP4cT1uK8mA6dR3fYg'), new Map())).toBe(true);
    expect(matches(keys('Rc1f4G9vn4qe_X41n_kO1DOInzlC6QA9vhrEyOA5IO8'), keys('short'), new Map())).toBe(false);
    const refused = 'Ticket 9b7162ee… already entered at 2026-12-02T01:36:05Z through North door.';
    expect(matches(refused, 'Ticket 1a2b3c4d… already entered at 2027-01-31T23:59:59Z through North door.', new Map())).toBe(true);
    expect(matches(refused, 'Ticket 1a2b3c4d… already entered at 2027-01-31T23:59:59Z through South door.', new Map())).toBe(false);
  });

  it('fails on the drifts the issue found: a missing secret, "1 holds expired", a count', () => {
    expect(matches('{"id":"x"}', '{"id":"x","secret":"9WYl21KJry61GdgZHNhljTG3jcfHpqjH"}', new Map())).toBe(false);
    expect(matches('1 holds expired; their tickets are back on sale', '1 hold expired; their tickets are back on sale', new Map())).toBe(false);
    expect(matches('boxoffice_bookings_total{outcome="booked"} 4', 'boxoffice_bookings_total{outcome="booked"} 5', new Map())).toBe(false);
  });
});

describe('every command block is run or says why not', () => {
  it('each `sh` block is checked or listed in NOT_RUN with a reason, and each entry still names a block', () => {
    expect(unaccounted(README)).toEqual([]);
    expect(staleNotRun(README)).toEqual([]);
    for (const n of NOT_RUN) expect(n.why.length, n.first).toBeGreaterThan(10);
  });

  it('a follow block (run in the background) has one command', () => {
    const follow = '<!-- check: stream follow -->\n```sh\n$ curl -s -N http://127.0.0.1:8080/events/stream\nretry: 1000\n```\n';
    expect(parseReadme(follow)).toMatchObject([{ group: 'stream', follow: true, slow: false, commands: [{ expected: 'retry: 1000' }] }]);
    expect(() => parseReadme(follow.replace('retry: 1000', '$ date'))).toThrow(/a follow block has exactly one command/);
  });

  it('a new block that is neither fails, naming its line', () => {
    const added = README.replace('## Tests\n', '## Tests\n\n```sh\n$ curl -s http://127.0.0.1:8080/something-new\n```\n');
    expect(added).not.toBe(README);
    expect(unaccounted(added)).toEqual([{ line: expect.any(Number), first: '$ curl -s http://127.0.0.1:8080/something-new' }]);
  });
});

describe('the README run for real (needs `npm run build`)', () => {
  it('every checked example prints what the README shows (blocks marked slow left out)', async () => {
    const blocks = parseReadme(README);
    expect(blocks.length).toBeGreaterThan(10);
    const result = await checkReadme({ fast: true });
    expect(result.drifts.map(describeDrift).join('\n')).toBe('');
    expect(result.commands).toBeGreaterThan(60);
    // Each section's examples on their own server.
    expect(new Set(blocks.map((b) => b.group))).toEqual(new Set(['api', 'expiry', 'lifecycle', 'buyers', 'door', 'ops', 'pg', 'stream']));
    // The PostgreSQL dump and restore run when PostgreSQL is configured (BOXOFFICE_REQUIRE_PG=1 makes its absence an error).
    if (PG_URL) expect(result.skipped).toEqual([]);
    else expect(result.skipped.map((s) => s.group)).toEqual(['pg']);
  });

  it('a README whose output drifted fails the check, naming the line', async () => {
    const tmp = tempDir('boxoffice-readme-drift-');
    try {
      const copy = join(tmp.dir, 'README.md');
      // One count changed in the hold example.
      const drifted = README.replace(/"availableTickets":494,"heldTickets":2/, '"availableTickets":495,"heldTickets":2');
      expect(drifted).not.toBe(README);
      writeFileSync(copy, drifted);
      const result = await checkReadme({ readme: copy, groups: ['api'] });
      expect(result.drifts).toHaveLength(1);
      expect(describeDrift(result.drifts[0]!)).toMatch(/^README\.md:\d+ \(group api\): \$ curl -s http:\/\/127\.0\.0\.1:8080\/events\/\$EVENT\n/);
    } finally {
      tmp.cleanup();
    }
  });
});

describe('the commands a newcomer is told to type', () => {
  const scripts = Object.keys((JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);

  it('every `npm run X` is a script in package.json', () => {
    const used = [...README.matchAll(/npm run ([a-z:-]+)/g)].map((m) => m[1]!);
    expect(used.length).toBeGreaterThan(3);
    expect(used.filter((s) => !scripts.includes(s))).toEqual([]);
  });

  it('no command starts with a bare `boxoffice` (not on the PATH of a fresh clone): npx boxoffice, npm run or node dist/cli.js', () => {
    const bare = shellCommands(README).filter((c) => /^(\w+=\S+ )*boxoffice\b/.test(c));
    expect(bare).toEqual([]);
  });

  it('the data directories the README uses are git-ignored', () => {
    const dirs = [...new Set([...README.matchAll(/--data-dir (\.\/[\w-]+)/g)].map((m) => m[1]!))];
    expect(dirs).toContain('./scratch');
    for (const dir of dirs) {
      expect(execFileSync('git', ['check-ignore', '--no-index', `${dir}/admin-token`], { cwd: REPO_ROOT, encoding: 'utf8' }).trim()).toBe(`${dir}/admin-token`);
    }
  });
});
