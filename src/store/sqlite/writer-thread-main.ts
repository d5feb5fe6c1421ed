import { randomUUID } from 'node:crypto';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { Outcome, WriteBatch } from '../../core/commands.js';
import { keyedSecrets } from '../../core/identity.js';
import { MAX_MERGED_COMMANDS, mergeBatches, splitOutcomes } from './merged-batches.js';
import { openDatabase, SqliteWriter } from './sqlite-writer.js';
import type { WriterReply, WriterRequest } from './writer-protocol.js';

/** Entry point of the writer thread: owns the only write connection of this process. */
const { path, busyTimeoutMs, pollMs, secretKeys, integrityCheck } = workerData as { path: string; busyTimeoutMs: number; pollMs: number; secretKeys?: Uint8Array[]; integrityCheck?: boolean };
const port = parentPort!;
const send = (reply: WriterReply) => port.postMessage(reply);

let writer: SqliteWriter;
try {
  // Booking secrets are derived here, where bookings are decided, from the keys the server read.
  const ids = secretKeys?.length ? { newId: () => randomUUID(), secrets: keyedSecrets(secretKeys) } : undefined;
  writer = new SqliteWriter(openDatabase(path, busyTimeoutMs, { integrityCheck }), ids);
} catch (err) {
  send({ id: -1, ok: false, message: (err as Error).message });
  process.exit(1);
}
send({ id: -1, ok: true });

// Commits by other processes (other --workers) show up as a changed data_version on this connection.
const changedElsewhere = writer.externalChangeProbe();
// The journal is checked here too, so a deleted WAL is noticed (and saved) even with no write coming.
let faultReported = false;
const poll = setInterval(() => {
  if (changedElsewhere()) send({ id: 0, external: true });
  const fault = writer.journal?.check();
  if (fault && !faultReported) {
    faultReported = true;
    send({ id: 0, fault });
  }
}, pollMs);

port.on('message', (msg: WriterRequest) => {
  // Batches the HTTP thread sent while the last transaction committed are waiting in the port:
  // they are decided together, in the order sent, in one transaction (one fsync for all of them).
  const writes: WriteCall[] = [];
  let commands = 0;
  let next: WriterRequest | undefined = msg;
  while (next && isWrite(next) && (writes.length === 0 || commands + sizeOf(next) <= MAX_MERGED_COMMANDS)) {
    writes.push(next);
    commands += sizeOf(next);
    next = receiveMessageOnPort(port)?.message as WriterRequest | undefined;
  }
  if (writes.length > 0) writeMerged(writes);
  // What ended the run (a purge, a close, a batch that would not fit) comes after it, in order.
  if (next) handle(next);
});

type WriteCall = Extract<WriterRequest, { op: 'call' }> & { method: 'write'; args: [WriteBatch] };
const isWrite = (msg: WriterRequest): msg is WriteCall => msg.op === 'call' && msg.method === 'write';
const sizeOf = (msg: WriteCall): number => msg.args[0].commands.length;

function writeMerged(writes: WriteCall[]): void {
  if (writes.length === 1) return handle(writes[0]!);
  const batches = writes.map((w) => w.args[0]);
  let results: Outcome[][];
  try {
    results = splitOutcomes(batches, writer.write(mergeBatches(batches)));
  } catch {
    // One batch must not sink the others: each alone, as if they had never met.
    for (const w of writes) handle(w);
    return;
  }
  writes.forEach((w, i) => send({ id: w.id, ok: true, result: results[i] }));
}

function handle(msg: WriterRequest): void {
  try {
    if (msg.op === 'close') {
      clearInterval(poll);
      writer.db.close();
      send({ id: msg.id, ok: true });
      port.close();
      return;
    }
    const method = writer[msg.method] as (...args: unknown[]) => unknown;
    send({ id: msg.id, ok: true, result: method.apply(writer, msg.args) });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    send({ id: msg.id, ok: false, message: (err as Error).message, ...(typeof code === 'string' && { code }) });
  }
}
