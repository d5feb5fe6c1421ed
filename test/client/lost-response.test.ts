/**
 * The point of the Idempotency-Key, end to end against the real app: the server books, the answer is
 * lost on the way back, the client sends the same request again with the same key, and the server
 * answers with the first booking instead of booking again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoxofficeClient, type Booking, type Hold, type RetryNotice } from '../../src/client/index.js';
import { ADMIN_TOKEN, startApp } from '../helpers/app.js';

let app: Awaited<ReturnType<typeof startApp>>;
let admin: BoxofficeClient;
beforeAll(async () => {
  app = await startApp();
  admin = new BoxofficeClient({ baseUrl: app.url, adminToken: ADMIN_TOKEN });
});
afterAll(() => app.close());

interface Delivered {
  key: string | undefined;
  status: number;
  replayed: string | null;
  body: unknown;
}

/**
 * A `fetch` that lets requests matching `lose` reach the server but, the first `times` times, throws
 * the network error undici gives for a reset connection instead of handing the answer over.
 * `inFlight`: throw at once, while the server is still working on it (the retry overtakes it).
 */
function lossyFetch(lose: (method: string, url: URL) => boolean, options: { times?: number; inFlight?: boolean } = {}) {
  let lost = 0;
  const delivered: Delivered[] = [];
  const pending: Promise<unknown>[] = [];
  const lossy: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const key = new Headers(init?.headers).get('idempotency-key') ?? undefined;
    const answer = fetch(input, { ...init, signal: undefined }).then(async (res) => {
      const text = await res.text();
      const d = { key, status: res.status, replayed: res.headers.get('idempotent-replayed'), body: JSON.parse(text) as unknown };
      delivered.push(d);
      return { res, text };
    });
    if (lose(init?.method ?? 'GET', url) && lost < (options.times ?? 1)) {
      lost++;
      pending.push(answer);
      // The server has the request; the client never sees the answer.
      if (!options.inFlight) await answer;
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
    }
    const { res, text } = await answer;
    return new Response(text, { status: res.status, headers: res.headers });
  };
  return { fetch: lossy, delivered, settled: () => Promise.all(pending) };
}

function clientWith(fetchImpl: typeof fetch, notices: RetryNotice[] = []) {
  return new BoxofficeClient({ baseUrl: app.url, fetch: fetchImpl, baseRetryDelayMs: 20, onRetry: (n) => notices.push(n) });
}

const isPost = (suffix: string) => (method: string, url: URL) => method === 'POST' && url.pathname.endsWith(suffix);

describe('a lost answer to a booking, retried with the same key', () => {
  it('books once: availability drops by n, not 2n, and the ticket ids are those of the stored booking', async () => {
    const event = await admin.createEvent({ name: 'Lost Answer', date: '2027-06-01T20:00:00Z', totalTickets: 10 });
    const lossy = lossyFetch(isPost('/bookings'));
    const notices: RetryNotice[] = [];
    const booking = await clientWith(lossy.fetch, notices).book(event.id, 3);

    expect(notices).toMatchObject([{ cause: 'unreachable', attempt: 1 }]);
    // Two requests reached the server with one key; the second was answered from the first.
    expect(lossy.delivered).toHaveLength(2);
    const [first, second] = lossy.delivered;
    expect(first!.key).toBeDefined();
    expect(second!.key).toBe(first!.key);
    expect(first).toMatchObject({ status: 201, replayed: null });
    expect(second).toMatchObject({ status: 201, replayed: 'true' });
    expect(second!.body).toEqual(first!.body);

    expect((await admin.getEvent(event.id)).availableTickets).toBe(7);
    const stored = await admin.getBooking(booking.id);
    expect(booking.tickets.map((t) => t.id)).toEqual(stored.tickets.map((t) => t.id));
    expect(booking.id).toBe((first!.body as Booking).id);
    expect(booking.secret).toBeTruthy();
    expect(booking.secret).toBe((first!.body as Booking).secret);
  });

  it('also when the retry overtakes the first request still in flight', async () => {
    const event = await admin.createEvent({ name: 'Overtaken', date: '2027-06-01T20:00:00Z', totalTickets: 10 });
    const lossy = lossyFetch(isPost('/bookings'), { inFlight: true });
    const booking = await clientWith(lossy.fetch).book(event.id, 4);
    await lossy.settled();
    expect(lossy.delivered).toHaveLength(2);
    expect(lossy.delivered.map((d) => d.status)).toEqual([201, 201]);
    expect(new Set(lossy.delivered.map((d) => (d.body as Booking).id))).toEqual(new Set([booking.id]));
    expect((await admin.getEvent(event.id)).availableTickets).toBe(6);
    expect((await admin.getBooking(booking.id)).tickets.map((t) => t.id)).toEqual(booking.tickets.map((t) => t.id));
  });

  it('the original protocol too: POST /reserve answers the same ticket ids', async () => {
    const event = await admin.createEvent({ name: 'Lost Reserve', date: '2027-06-01T20:00:00Z', totalTickets: 10 });
    const lossy = lossyFetch(isPost('/reserve'));
    const ids = await clientWith(lossy.fetch).reserve(event.id, 2);
    expect(lossy.delivered).toHaveLength(2);
    expect(ids).toEqual(lossy.delivered[0]!.body);
    expect((await admin.getEvent(event.id)).availableTickets).toBe(8);
    expect((await admin.getTicket(ids[0]!)).bookingId).toBe((await admin.getTicket(ids[1]!)).bookingId);
  });

  it('and a hold: held once, the same hold id', async () => {
    const event = await admin.createEvent({ name: 'Lost Hold', date: '2027-06-01T20:00:00Z', totalTickets: 10 });
    const lossy = lossyFetch(isPost('/holds'), { times: 2 });
    const hold = await clientWith(lossy.fetch).holdTickets(event.id, 2);
    expect(lossy.delivered).toHaveLength(3);
    expect(new Set(lossy.delivered.map((d) => (d.body as Hold).id))).toEqual(new Set([hold.id]));
    expect(await admin.getEvent(event.id)).toMatchObject({ availableTickets: 8, heldTickets: 2 });
    // Confirming, with its answer lost too, makes one booking.
    const confirm = lossyFetch(isPost('/confirm'));
    const booking = await clientWith(confirm.fetch).confirmHold(hold.id);
    expect(confirm.delivered.map((d) => d.status)).toEqual([201, 200]);
    expect(booking.tickets).toHaveLength(2);
    expect(await admin.getEvent(event.id)).toMatchObject({ availableTickets: 8, heldTickets: 0 });
    expect(await admin.getHold(hold.id)).toMatchObject({ status: 'confirmed', bookingId: booking.id });
  });

  it('a different request under a reused key is refused, not booked', async () => {
    const event = await admin.createEvent({ name: 'Reused Key', date: '2027-06-01T20:00:00Z', totalTickets: 10 });
    const client = new BoxofficeClient({ baseUrl: app.url });
    const key = `reuse-${event.id}`;
    await client.book(event.id, 1, { idempotencyKey: key });
    await expect(client.book(event.id, 2, { idempotencyKey: key })).rejects.toMatchObject({ status: 422, code: 'idempotency_key_reused' });
    expect((await admin.getEvent(event.id)).availableTickets).toBe(9);
  });
});
