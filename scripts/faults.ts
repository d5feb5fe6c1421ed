/**
 * Deliberate faults, one at a time: each is applied to a source file, the tests that guard that
 * code run, and the fault must make them fail. It proves the suite can see a broken rule in a
 * decision or a broken write in any adapter, rather than passing whatever the code does.
 *
 *   npm run faults                 every fault (several minutes: each runs its tests)
 *   npm run faults -- oversell     only faults whose id contains "oversell"
 *
 * The source is restored after each fault, also on Ctrl-C. Results are printed as a table; the last
 * run is recorded in test/FAULTS.md. PostgreSQL faults need BOXOFFICE_TEST_PG_URL.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

interface Fault {
  id: string;
  what: string;
  file: string;
  find: string;
  replace: string;
  tests: string[];
}

const STORE_AND_CORE = ['test/store', 'test/core'];
const FAULTS: Fault[] = [
  { id: 'decision-oversell', what: 'a booking may take one ticket more than is available', file: 'src/core/decisions/place.ts', find: 'if (tickets > event.availableTickets) {', replace: 'if (tickets > event.availableTickets + 1) {', tests: STORE_AND_CORE },
  { id: 'decision-hold-limit', what: 'the per-buyer hold limit ignores what the buyer already holds', file: 'src/core/decisions/place.ts', find: "if (type === 'hold' && mine.held + tickets > event.maxHeldPerBuyer)", replace: "if (type === 'hold' && tickets > event.maxHeldPerBuyer)", tests: STORE_AND_CORE },
  { id: 'decision-idempotency', what: 'a reused key with a different request replays the first answer', file: 'src/core/decisions/place.ts', find: 'return stored.fingerprint === claim.fingerprint ? replay(', replace: 'return true ? replay(', tests: STORE_AND_CORE },
  { id: 'decision-expiry-boundary', what: 'a hold counts as expired only after, not at, its expiresAt', file: 'src/core/presenting.ts', find: 'Date.parse(hold.expiresAt) <= now.getTime()', replace: 'Date.parse(hold.expiresAt) < now.getTime()', tests: STORE_AND_CORE },
  { id: 'decision-cancel-secret', what: "cancelling accepts any booking's secret", file: 'src/core/decisions/cancel.ts', find: "if (!proof.admin && !secretMatches(proof.secret!, booking.secretHash)) return refusal(Errors.forbidden('booking'));", replace: '', tests: STORE_AND_CORE },
  { id: 'ledger-stock-sign', what: 'a hold moves stock into held without taking it from available', file: 'src/core/decisions/ledger.ts', find: 'availableTickets: event.availableTickets + available,', replace: 'availableTickets: event.availableTickets + Math.max(0, available),', tests: STORE_AND_CORE },
  { id: 'group-commit-order', what: 'a batch is decided newest first (FIFO broken)', file: 'src/core/group-commit.ts', find: 'const commands = batch.map((w) => w.command);', replace: 'batch.reverse();\n      const commands = batch.map((w) => w.command);', tests: ['test/core', 'test/http/fifo.test.ts'] },
  { id: 'memory-end-hold', what: 'memory adapter: ending a hold does not record its new status', file: 'src/store/memory/memory-store.ts', find: 'this.holdRows.set(ending.id, ending.bookingId ? { ...hold, status: ending.status, bookingId: ending.bookingId } : { ...hold, status: ending.status });', replace: '', tests: ['test/store/memory.test.ts'] },
  { id: 'sqlite-end-hold-twice', what: 'SQLite adapter: an ended hold may end again', file: 'src/store/sqlite/sqlite-writer.ts', find: "WHERE id = ? AND status = 'active'\")", replace: "WHERE id = ?\")", tests: ['test/store/sqlite.test.ts', 'test/store/apply-guards.test.ts'] },
  { id: 'sqlite-cancel-ticket', what: 'SQLite adapter: cancelling writes no cancellation time', file: 'src/store/sqlite/sqlite-writer.ts', find: "cancelTicket: db.prepare('UPDATE tickets SET cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL')", replace: "cancelTicket: db.prepare('UPDATE tickets SET cancelled_at = cancelled_at WHERE id = ? AND ? IS NOT NULL AND cancelled_at IS NULL')", tests: ['test/store/sqlite.test.ts'] },
  { id: 'postgres-due-holds', what: 'PostgreSQL adapter: due holds are those not yet due', file: 'src/store/postgres/postgres-rows.ts', find: "WHERE status = 'active' AND expires_at <= $1", replace: "WHERE status = 'active' AND expires_at > $1", tests: ['test/store/postgres.test.ts'] },
  { id: 'postgres-end-hold-twice', what: 'PostgreSQL adapter: an ended hold may end again', file: 'src/store/postgres/postgres-rows.ts', find: "WHERE h.id = d.id AND h.status = 'active'", replace: 'WHERE h.id = d.id', tests: ['test/store/postgres.test.ts', 'test/store/apply-guards.test.ts'] },
  { id: 'decision-checkin-twice', what: 'a ticket already admitted is admitted again', file: 'src/core/decisions/checkin.ts', find: '  if (first) {', replace: "  if (first && first.ticketId === '') {", tests: ['test/core/decisions.test.ts', 'test/store/memory.test.ts'] },
  { id: 'decision-checkin-cancelled', what: 'a cancelled ticket is admitted at the door', file: 'src/core/decisions/checkin.ts', find: '  if (ticket.cancelled) {', replace: '  if (false) {', tests: ['test/core/decisions.test.ts', 'test/store/memory.test.ts'] },
  { id: 'decision-checkin-revoked', what: 'a revoked door still admits', file: 'src/core/decisions/checkin.ts', find: 'if (!door || door.revokedAt) return refusal(Errors.doorRevoked());', replace: 'if (!door) return refusal(Errors.doorRevoked());', tests: ['test/core/decisions.test.ts', 'test/store/memory.test.ts'] },
  { id: 'memory-checkin-guard', what: 'memory adapter: a second admission of a ticket is stored', file: 'src/store/memory/memory-store.ts', find: 'if (this.admissionRows.has(a.ticketId) || admitted.has(a.ticketId)) throw', replace: 'if (false) throw', tests: ['test/store/checkin-guards.test.ts'] },
  { id: 'sqlite-checkin-guard', what: 'SQLite adapter: a refused admission insert goes unnoticed', file: 'src/store/sqlite/sqlite-writer.ts', find: 'for (const a of effects.admissions) expectOne(this.stmt.admit.run({ ...a, offline: a.offline ? 1 : 0 }).changes, `ticket ${a.ticketId} is already admitted`);', replace: 'for (const a of effects.admissions) this.stmt.admit.run({ ...a, offline: a.offline ? 1 : 0 });', tests: ['test/store/checkin-guards.test.ts'] },
  { id: 'postgres-checkin-guard', what: 'PostgreSQL adapter: a refused admission insert goes unnoticed', file: 'src/store/postgres/postgres-rows.ts', find: '      done.admitted !== e.admissions.length', replace: '      false', tests: ['test/store/checkin-guards.test.ts'] },
  { id: 'decision-queue-pass-reuse', what: 'a waiting-room pass is not used up by the booking it allows', file: 'src/core/decisions/place.ts', find: '  if (pass) usePass(ledger, pass);', replace: '', tests: ['test/core/queue-decisions.test.ts', 'test/store/memory.test.ts'] },
  { id: 'decision-queue-window', what: 'the waiting room admits one more than its window', file: 'src/core/decisions/queue.ts', find: 'Math.min(queueWindow(event) - line.admitted,', replace: 'Math.min(queueWindow(event) + 1 - line.admitted,', tests: ['test/core/queue-decisions.test.ts'] },
  { id: 'sqlite-queue-draw-twice', what: 'SQLite adapter: a line changed under the batch is overwritten', file: 'src/store/sqlite/sqlite-queue.ts', find: 'WHERE event_id = @eventId AND version = @expectVersion', replace: 'WHERE event_id = @eventId AND @expectVersion IS NOT NULL AND version = version', tests: ['test/store/sqlite.test.ts'] },
  { id: 'postgres-buyer-counters', what: "PostgreSQL adapter: a buyer's counters are never moved", file: 'src/store/postgres/postgres-rows.ts', find: 'UPDATE buyer_tickets t SET held = t.held + d.h, bought = t.bought + d.b', replace: 'UPDATE buyer_tickets t SET held = t.held, bought = t.bought', tests: ['test/store/postgres.test.ts'] },
];

/** Runs a command to its end; async so that Ctrl-C reaches the handler below and the source is restored. */
function run(command: string, args: string[]): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: process.env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (status) => resolve({ status, output }));
  });
}

// The faults are written into the working tree: refuse to mix them with uncommitted work.
const dirty = await run('git', ['status', '--porcelain', '--untracked-files=no', 'src']);
if (dirty.output.trim() !== '') {
  console.error('scripts/faults.ts: src/ has uncommitted changes; commit or stash them first (faults are written into src/ and restored after each run).');
  process.exit(2);
}

const only = process.argv[2];
const chosen = FAULTS.filter((f) => !only || f.id.includes(only));
const original = new Map<string, string>();
const restore = () => {
  for (const [file, text] of original) writeFileSync(file, text);
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    restore();
    process.exit(130);
  });
}

const rows: string[] = [];
let missed = 0;
for (const fault of chosen) {
  const text = readFileSync(fault.file, 'utf8');
  if (!text.includes(fault.find)) {
    rows.push(`| ${fault.id} | ${fault.what} | \`${fault.file}\` | — | **fault no longer applies: update scripts/faults.ts** |`);
    missed++;
    continue;
  }
  original.set(fault.file, text);
  writeFileSync(fault.file, text.replace(fault.find, fault.replace));
  const started = Date.now();
  // The writer thread and the server processes run built code: build the fault in first.
  const build = await run('npm', ['run', 'build', '--silent']);
  const tests = build.status === 0 ? await run('npx', ['vitest', 'run', ...fault.tests]) : build;
  restore();
  original.clear();
  // A fault that breaks the build (or a broken install) proves nothing about the tests: only failing tests count.
  const failedTests = /Tests\s+(\d+) failed/.exec(tests.output)?.[1];
  const caught = build.status === 0 && tests.status !== 0 && failedTests !== undefined;
  if (!caught) missed++;
  const result = build.status !== 0 ? '**build failed: fix the fault or the install**' : caught ? `caught: ${failedTests} failing` : '**NOT CAUGHT**';
  rows.push(`| ${fault.id} | ${fault.what} | \`${fault.file}\` | ${fault.tests.join(', ')} | ${result} (${Math.round((Date.now() - started) / 1000)} s) |`);
  console.log(rows.at(-1));
}
await run('npm', ['run', 'build', '--silent']);
console.log(`\n| Fault | What it breaks | Where | Tests run | Result |\n| --- | --- | --- | --- | --- |\n${rows.join('\n')}`);
console.log(`\n${chosen.length - missed} of ${chosen.length} faults caught`);
process.exit(missed === 0 ? 0 : 1);
