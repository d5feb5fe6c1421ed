import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { keyedSecrets } from '../../core/identity.js';
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
});
