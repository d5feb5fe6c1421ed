/**
 * The README's checked examples, as data: which `sh` blocks are checked, the commands in them and the
 * output each one shows, and how a real output is compared with what the README shows.
 *
 * A block is checked when the line just before its fence is `<!-- check: GROUP -->` (or
 * `<!-- check: GROUP slow -->` for one that waits on purpose, e.g. for a hold to expire, or
 * `<!-- check: GROUP follow -->` for one command that keeps printing until Ctrl-C, e.g. the live stream:
 * it runs in the background while the group's later commands make the changes it shows, and its output
 * is compared after the group's last command). The blocks of
 * one group run in order in one shell against one fresh server, as a reader would type them. In a
 * block, a line starting with `$ ` is a command (continued while a line ends with `\`); the lines up to
 * the next command are its output.
 *
 * The comparison allows for what differs on every run: ids (UUIDs), timestamps, secrets, ETags,
 * `Date:` and `content-length:` headers, and `…` (anything, as the README says). An id must still be
 * the same id wherever the README repeats it: the first time an id appears it is bound to the real one,
 * and later commands and outputs use the real one.
 */

export interface Command {
  /** The command as written, continuation lines included, without the `$ `. */
  text: string;
  /** What the README shows it printing. */
  expected: string;
  /** Lines in README.md (1-based): the command's first line, and the output's span (end exclusive). */
  line: number;
  outputStart: number;
  outputEnd: number;
}

export interface Block {
  group: string;
  slow: boolean;
  /** Its one command runs in the background, a reader's second terminal (see above). */
  follow: boolean;
  /** The fence's line (1-based) and the block's length in lines, fences included. */
  line: number;
  length: number;
  commands: Command[];
}

const MARKER = /^<!-- check: ([a-z0-9-]+)( slow| follow)? -->$/;

export function parseReadme(text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const marker = MARKER.exec(lines[i]!.trim());
    if (!marker) continue;
    if (lines[i + 1] !== '```sh') throw new Error(`README.md:${i + 1}: a check marker must be followed by a \`\`\`sh block`);
    const start = i + 2;
    let end = start;
    while (end < lines.length && lines[end] !== '```') end++;
    const commands = parseCommands(lines, start, end);
    const follow = marker[2] === ' follow';
    if (follow && commands.length !== 1) throw new Error(`README.md:${i + 1}: a follow block has exactly one command`);
    blocks.push({ group: marker[1]!, slow: marker[2] === ' slow', follow, line: i + 2, length: end - i, commands });
    i = end;
  }
  return blocks;
}

function parseCommands(lines: string[], start: number, end: number): Command[] {
  const commands: Command[] = [];
  let i = start;
  while (i < end) {
    if (!lines[i]!.startsWith('$ ')) {
      if (lines[i]!.trim() !== '') throw new Error(`README.md:${i + 1}: output before any command in a checked block`);
      i++;
      continue;
    }
    const first = i;
    const text = [lines[i]!.slice(2)];
    while (lines[i]!.endsWith('\\') && i + 1 < end) text.push(lines[++i]!);
    const outputStart = ++i;
    while (i < end && !lines[i]!.startsWith('$ ')) i++;
    let outputEnd = i;
    while (outputEnd > outputStart && lines[outputEnd - 1]!.trim() === '') outputEnd--;
    commands.push({ text: text.join('\n'), expected: lines.slice(outputStart, outputEnd).join('\n'), line: first + 1, outputStart: outputStart + 1, outputEnd: outputEnd + 1 });
  }
  return commands;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/;

/** Pieces of an expected output that stand for "whatever this run printed there". */
const PLACEHOLDERS: Array<{ find: RegExp; match: string }> = [
  { find: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/, match: String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z` },
  { find: /"secret":"[A-Za-z0-9_-]{20,64}"/, match: String.raw`"secret":"[A-Za-z0-9_-]{20,64}"` },
  // A ticket's signed door code.
  { find: /"code":"BO1\.[A-Za-z0-9_-]+"/, match: String.raw`"code":"BO1\.[A-Za-z0-9_-]+"` },
  { find: /^Date: .*GMT$/m, match: String.raw`Date: [^\n]*GMT` },
  { find: /^content-length: \d+$/m, match: String.raw`content-length: \d+` },
  { find: /^etag: "[^"\n]*"$/m, match: String.raw`etag: "[^"\n]*"` },
  // An id cut short in the README: `"bde2f0a0-…"`, or in a sentence: `Ticket 9b7162ee… already entered`.
  { find: /[0-9a-f]{8}-(?=…)/, match: String.raw`[0-9a-f]{8}-` },
  { find: /\b[0-9a-f]{8}(?=…)/, match: String.raw`[0-9a-f]{8}` },
  // A time to the second, as an error message or a door's clock writes it.
  { find: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/, match: String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z` },
  // A door's token (`bod_<door id>_<secret>`, shown once) and an event's Ed25519 public key (32 bytes, base64url).
  { find: /"token":"bod_[0-9a-f]{32}_[A-Za-z0-9_-]{20,64}"/, match: String.raw`"token":"bod_[0-9a-f]{32}_[A-Za-z0-9_-]{20,64}"` },
  { find: /(?<="publicKeys?":\[?)"[A-Za-z0-9_-]{43}"/, match: String.raw`"[A-Za-z0-9_-]{43}"` },
];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Real ids by the README's ids, carried from one command to the next within a group. */
export type IdMap = Map<string, string>;

/** The command with the README's ids replaced by this run's (e.g. `EVENT=0ef7…` copied from an earlier output). */
export function withRealIds(text: string, ids: IdMap): string {
  return text.replace(new RegExp(UUID.source, 'g'), (id) => ids.get(id) ?? id);
}

/**
 * Whether `actual` is what `expected` shows, up to the placeholders. On a match, ids seen for the
 * first time are added to `ids`.
 */
export function matches(expected: string, actual: string, ids: IdMap): boolean {
  const fresh = new Map<string, string>();
  let pattern = '';
  const tokens = new RegExp([UUID, ...PLACEHOLDERS.map((p) => p.find), /…/].map((r) => `(${r.source})`).join('|'), 'gm');
  let last = 0;
  for (const m of expected.matchAll(tokens)) {
    pattern += escape(expected.slice(last, m.index));
    last = m.index + m[0].length;
    const token = m[0];
    if (m[1] !== undefined) {
      const known = ids.get(token);
      if (known) pattern += escape(known);
      else if (fresh.has(token)) pattern += `\\k<${fresh.get(token)}>`;
      else {
        const name = `u${fresh.size}`;
        fresh.set(token, name);
        pattern += `(?<${name}>${UUID.source})`;
      }
    } else if (token === '…') pattern += '[\\s\\S]*?';
    else pattern += PLACEHOLDERS[m.slice(2).findIndex((g) => g !== undefined)]!.match;
  }
  pattern += escape(expected.slice(last));
  const found = new RegExp(`^${pattern}$`).exec(normalise(actual));
  if (!found) return false;
  for (const [id, name] of fresh) ids.set(id, found.groups![name]!);
  return true;
}

/**
 * Trailing spaces and blank lines at either end do not count; CRLF (HTTP headers from curl -i) reads as
 * LF; a byte order mark (the CSV export's, which a terminal shows as nothing) is left out.
 */
export function normalise(output: string): string {
  return output
    .replace(/\r\n/g, '\n')
    .replace(/\uFEFF/g, '')
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .replace(/^\n+|\n+$/g, '');
}

/**
 * After a drift, binds the README's new ids to this run's by order of first appearance, so the
 * commands after it still use real ids and one drift is reported once, not again by everything after it.
 */
export function bindByOrder(expected: string, actual: string, ids: IdMap): void {
  const distinct = (text: string) => [...new Set(text.match(new RegExp(UUID.source, 'g')) ?? [])];
  const known = new Set(ids.values());
  const real = distinct(actual).filter((id) => !known.has(id));
  const shown = distinct(expected).filter((id) => !ids.has(id));
  for (const [i, id] of shown.entries()) if (real[i]) ids.set(id, real[i]);
}

/**
 * The README's `sh` blocks that are not run, each with why, by the first line of the block. A block
 * neither checked nor listed here fails test/docs/readme.test.ts, so a new example is either run or
 * explicitly excused.
 */
export const NOT_RUN: ReadonlyArray<{ first: string; why: string }> = [
  { first: 'npm install && npm start', why: 'installs packages and starts a server in the foreground; the checked groups run what npm start runs (node dist/cli.js serve), and test/e2e/npm-start.test.ts runs npm start itself' },
  { first: 'npm test', why: 'the whole suite, this test included' },
  // The first line is shared with the checked lifecycle block; this entry names the waiting-room one.
  { first: `$ curl -s -X POST http://127.0.0.1:8080/events -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\`, why: 'the waiting room: its answers are shown with elisions (…) and the sale time is in the future; test/http/waiting-room.test.ts and test/e2e/waiting-room.test.ts run the same calls (not run yet: a group with a sale opening a few seconds ahead)' },
  { first: "$ curl -s -X POST http://127.0.0.1:8080/events/$EVENT/queue", why: 'the waiting room as a buyer meets it, elided (…) and minutes apart; test/http/waiting-room.test.ts and test/e2e/waiting-room.test.ts run these calls' },
  { first: 'npm start -- --headless --port 9000 --data-dir ./scratch', why: 'a server in the foreground until Ctrl-C; test/e2e/npm-start.test.ts starts it' },
  { first: '$ curl -s -i http://127.0.0.1:8080/events/stream     # with 8 already open from this address', why: 'needs 8 streams held open in other terminals; test/http/stream-limits.test.ts' },
  { first: '$ npx openapi-typescript http://127.0.0.1:8080/openapi.json -o boxoffice-api.d.ts', why: 'writes a file and prints its own timing; test/http/openapi-tools.test.ts generates the client and calls the server through it' },
  { first: 'BOXOFFICE_DOOR_TOKEN=bod_… npx boxoffice door --url http://tickets.example:8080', why: 'a full-screen terminal UI against a remote host; test/e2e/tui-door.test.ts drives it in tmux' },
  { first: 'npm start -- --workers', why: 'a server in the foreground, in the --workers section another change is rewriting; to be checked when it lands (test/e2e covers --workers)' },
  { first: 'createdb -h 127.0.0.1 -U postgres boxoffice', why: 'several nodes on PostgreSQL, in a section another change is rewriting; to be checked when it lands' },
  { first: 'useradd --system', why: 'needs root and systemd (useradd, /etc, systemctl); test/deploy validates the unit with systemd-analyze verify' },
  { first: 'podman build', why: 'no container runtime on the test machines; test/deploy checks the Containerfile' },
  { first: 'BOXOFFICE_PORT=9000 BOXOFFICE_DATA_DIR=/srv/boxoffice', why: 'a server in the foreground writing under /srv; the BOXOFFICE_ variables are tested in test/e2e/cli.test.ts' },
  { first: 'systemctl stop boxoffice', why: 'restoring under systemd (systemctl, /var/lib/boxoffice, chown); the restore itself is tested by the backup tests' },
  { first: 'node dist/cli.js backup backups/before-upgrade.db', why: 'an upgrade under systemd (systemctl, git pull, npm ci in /opt)' },
  { first: 'npm start                        # terminal 1', why: 'two interactive terminals; test/e2e/tui-client.test.ts drives both screens in tmux' },
  { first: 'node dist/cli.js admin --url http://tickets.example:8080', why: 'an interactive terminal UI against a remote host; test/e2e/tui-admin.test.ts drives it in tmux' },
  { first: 'apt-get install -y chromium', why: 'a package install as root' },
];

/** Every `sh` block that is neither checked nor listed in NOT_RUN, by its line and first line. */
export function unaccounted(text: string): Array<{ line: number; first: string }> {
  const lines = text.split('\n');
  const found: Array<{ line: number; first: string }> = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```sh') continue;
    const first = lines[i + 1] ?? '';
    const checked = MARKER.test((lines[i - 1] ?? '').trim());
    if (!checked && !NOT_RUN.some((n) => first.startsWith(n.first))) found.push({ line: i + 1, first });
    while (i + 1 < lines.length && lines[++i] !== '```');
  }
  return found;
}

/** Entries of NOT_RUN that no unchecked block starts with any more (the README changed under them). */
export function staleNotRun(text: string): string[] {
  const firsts = text.split('\n').flatMap((l, i, all) => (l === '```sh' && !MARKER.test((all[i - 1] ?? '').trim()) ? [all[i + 1] ?? ''] : []));
  return NOT_RUN.filter((n) => !firsts.some((f) => f.startsWith(n.first))).map((n) => n.first);
}
