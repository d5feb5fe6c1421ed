import { request } from 'node:http';
import type { QueueEntry, QueueUpdate } from '../../src/core/types.js';
import { readEventStream } from '../../src/client/event-stream.js';
import { TEST_ADMIN_TOKEN } from './server-process.js';

/**
 * Buyers of the waiting-room end-to-end tests: each one a distinct loopback address (127.1.x.y), so
 * the server sees 2,000 different buyers from one machine. One request per socket (no agent); a 429
 * or 503 is retried after a short pause, as a browser's page would.
 */
export const buyerAddress = (i: number): string => `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;

export interface Answer {
  status: number;
  body: any;
}

export function call(url: string, method: string, path: string, options: { from?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const { hostname, port } = new URL(url);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: hostname,
        port,
        method,
        path,
        agent: false,
        ...(options.from ? { localAddress: options.from } : {}),
        headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...options.headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** `call`, retried on 429/503 and on a refused or reset socket (busy machine), up to ~20 s. */
export async function patiently(url: string, method: string, path: string, options: Parameters<typeof call>[3] = {}): Promise<Answer> {
  for (let attempt = 0; ; attempt++) {
    try {
      const answer = await call(url, method, path, options);
      if ((answer.status !== 429 && answer.status !== 503) || attempt > 100) return answer;
    } catch (err) {
      if (attempt > 100) throw err;
    }
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 150));
  }
}

export const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

export async function createRoomEvent(url: string, totalTickets: number, onSaleAt: Date): Promise<string> {
  const res = await call(url, 'POST', '/events', {
    headers: admin,
    body: { name: 'Big on-sale', date: '2027-06-01T20:00:00Z', totalTickets, maxTicketsPerBooking: 2, onSaleAt: onSaleAt.toISOString(), waitingRoom: true },
  });
  if (res.status !== 201) throw new Error(`create event: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

export const joinAs = (url: string, eventId: string, i: number) => patiently(url, 'POST', `/events/${eventId}/queue`, { from: buyerAddress(i), body: {} });
export const entryOf = (url: string, eventId: string, entry: Pick<QueueEntry, 'id' | 'token'>, i: number) =>
  patiently(url, 'GET', `/events/${eventId}/queue/${entry.id}`, { from: buyerAddress(i), headers: { 'queue-token': entry.token } });

/** Follows the event stream's `queue` messages for one event, with the time each arrived. */
export function followLine(url: string, eventId: string) {
  const updates: Array<{ at: number; update: QueueUpdate }> = [];
  const waiters: Array<{ test: (u: QueueUpdate) => boolean; resolve: (u: QueueUpdate) => void }> = [];
  const controller = new AbortController();
  const { hostname, port } = new URL(url);
  const req = request({ host: hostname, port, path: '/events/stream', agent: false, signal: controller.signal, headers: { accept: 'text/event-stream' } }, (res) => {
    void (async () => {
      try {
        for await (const data of readEventStream(res)) {
          const message = JSON.parse(data) as { type: string; queues?: QueueUpdate[] };
          if (message.type !== 'queue') continue;
          for (const update of message.queues!) {
            if (update.eventId !== eventId) continue;
            updates.push({ at: Date.now(), update });
            for (const w of [...waiters]) if (w.test(update)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(update);
            }
          }
        }
      } catch {
        // closed
      }
    })();
  });
  req.on('error', () => {});
  req.end();
  return {
    updates,
    latest: () => updates[updates.length - 1]?.update,
    until(test: (u: QueueUpdate) => boolean): Promise<QueueUpdate> {
      const seen = updates.find((u) => test(u.update));
      if (seen) return Promise.resolve(seen.update);
      return new Promise((resolve) => waiters.push({ test, resolve }));
    },
    close: () => controller.abort(),
  };
}
