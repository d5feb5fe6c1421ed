import { createPublicKey, verify } from 'node:crypto';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentitySource } from '../../src/core/identity.js';
import { ticketCodes } from '../../src/core/ticket-codes.js';
import type { Booking, Event } from '../../src/core/types.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { adminHeaders, startApp } from '../helpers/app.js';

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; body: any; text: string };

const SERVER_KEY = new Uint8Array(32).fill(11);

/** Check-in at the door (issue 14) through the real HTTP stack: every refusal, replays, sync, the organiser's views. */
describe('check-in over HTTP', () => {
  const clock = { t: Date.UTC(2027, 0, 1, 20) };
  const identity: IdentitySource = { newId: () => crypto.randomUUID(), now: () => new Date(clock.t) };
  const codes = ticketCodes(SERVER_KEY);
  let server: Awaited<ReturnType<typeof startApp>>;
  let pool: Pool;
  let nonces = 0;
  const nonce = () => `nonce-${String(++nonces).padStart(6, '0')}-${crypto.randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    server = await startApp({ store: new MemoryStore(identity), service: { identity, sweepIntervalMs: 0, ticketCodes: codes } });
    pool = new Pool(server.url, { connections: 8 });
  });
  afterAll(async () => {
    await pool.close();
    await server.close();
  });

  async function call(method: string, path: string, options: { body?: unknown; raw?: string | Buffer; token?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined || options.raw !== undefined) headers['content-type'] = 'application/json';
    const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    const res = await pool.request({ method: method as 'GET', path, headers, body });
    const text = await res.body.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.statusCode, headers: res.headers, body: parsed, text };
  }
  const admin = adminHeaders.authorization.slice('Bearer '.length);

  async function createEvent(body: object = {}): Promise<Event> {
    const res = await call('POST', '/events', { token: admin, body: { name: 'Night show', date: '2027-01-01T21:00:00Z', totalTickets: 20, ...body } });
    expect(res.status, res.text).toBe(201);
    return res.body;
  }
  async function book(eventId: string, tickets: number): Promise<Booking> {
    const res = await call('POST', `/events/${eventId}/bookings`, { body: { tickets } });
    expect(res.status, res.text).toBe(201);
    return res.body;
  }
  async function createDoor(eventId: string, name: string): Promise<{ id: string; token: string }> {
    const res = await call('POST', `/events/${eventId}/doors`, { token: admin, body: { name } });
    expect(res.status, res.text).toBe(201);
    return res.body;
  }
  const scan = (eventId: string, door: { token: string }, code: string, n = nonce()) => call('POST', `/events/${eventId}/checkins`, { token: door.token, body: { code, nonce: n } });

  it('every ticket in a booking answer (and its replay, and a confirmed hold) carries its signed code; /reserve stays plain ids', async () => {
    const event = await createEvent();
    const key = crypto.randomUUID();
    const first = await call('POST', `/events/${event.id}/bookings`, { body: { tickets: 2 }, headers: { 'idempotency-key': key } });
    const again = await call('POST', `/events/${event.id}/bookings`, { body: { tickets: 2 }, headers: { 'idempotency-key': key } });
    expect(again.headers['idempotent-replayed']).toBe('true');
    for (const t of first.body.tickets) {
      expect(t.code).toMatch(/^BO1\.[A-Za-z0-9_-]{128}$/);
      expect(codes.read(t.code)).toEqual({ ok: true, ticketId: t.id, eventId: event.id });
    }
    expect(again.body.tickets.map((t: { code: string }) => t.code)).toEqual(first.body.tickets.map((t: { code: string }) => t.code));
    const hold = await call('POST', `/events/${event.id}/holds`, { body: { tickets: 1 } });
    const confirmed = await call('POST', `/holds/${hold.body.id}/confirm`);
    expect(confirmed.body.tickets[0].code).toBe(codes.codeFor(confirmed.body.tickets[0].id, event.id));
    const legacy = await call('POST', `/reserve?eventId=${event.id}&tickets=1`);
    expect(legacy.status).toBe(200);
    expect(legacy.body).toEqual([expect.stringMatching(/^[0-9a-f-]{36}$/)]);
  });

  it('doors: created with a one-time token, listed with what they admitted, revoked; admin token needed', async () => {
    const event = await createEvent();
    const res = await call('POST', `/events/${event.id}/doors`, { token: admin, body: { name: 'North door' } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(String), eventId: event.id, name: 'North door', token: expect.stringMatching(/^bod_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/), createdAt: new Date(clock.t).toISOString() });
    expect(res.body.token.slice(4, 36)).toBe(res.body.id.replaceAll('-', ''));
    expect((await call('POST', `/events/${event.id}/doors`, { body: { name: 'x' } })).status).toBe(401);
    expect((await call('POST', `/events/${event.id}/doors`, { token: admin, body: { name: '' } })).body.error).toBe('invalid_request');
    expect((await call('POST', `/events/${event.id}/doors`, { token: admin, body: { name: 'x'.repeat(61) } })).body.error).toBe('invalid_request');
    expect((await call('POST', `/events/${event.id}/doors`, { token: admin, body: { name: 'a\u202eb' } })).body.error).toBe('invalid_request');
    const [ticket] = (await book(event.id, 1)).tickets;
    expect((await scan(event.id, res.body, ticket!.code!)).status).toBe(200);
    const list = await call('GET', `/events/${event.id}/doors`, { token: admin });
    expect(list.body).toEqual([{ id: res.body.id, eventId: event.id, name: 'North door', createdAt: res.body.createdAt, admitted: 1 }]);
    expect(JSON.stringify(list.body)).not.toContain(res.body.token);
    const revoked = await call('DELETE', `/events/${event.id}/doors/${res.body.id}`, { token: admin });
    expect(revoked.body).toMatchObject({ id: res.body.id, revokedAt: new Date(clock.t).toISOString() });
    const [other] = (await book(event.id, 1)).tickets;
    const refused = await scan(event.id, res.body, other!.code!);
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({ error: 'door_revoked', message: expect.stringContaining('revoked') });
    expect((await call('GET', `/events/${event.id}/door-list`, { token: res.body.token })).body.error).toBe('door_revoked');
    expect((await call('DELETE', `/events/${event.id}/doors/${crypto.randomUUID()}`, { token: admin })).status).toBe(404);
  });

  it('a scan admits once; a second door hears when and where it entered; a repeated nonce answers the first answer again', async () => {
    const event = await createEvent();
    const north = await createDoor(event.id, 'North door');
    const south = await createDoor(event.id, 'South door');
    const [ticket] = (await book(event.id, 1)).tickets;
    const n1 = nonce();
    const ok = await scan(event.id, north, ticket!.code!, n1);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ outcome: 'admitted', ticket: { id: ticket!.id, eventId: event.id, bookingId: ticket!.bookingId }, door: { id: north.id, name: 'North door' }, at: new Date(clock.t).toISOString() });
    expect(ok.headers['idempotent-replayed']).toBeUndefined();
    const replay = await scan(event.id, north, ticket!.code!, n1);
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(ok.body);
    const n2 = nonce();
    const second = await scan(event.id, south, ticket!.code!, n2);
    expect(second.status).toBe(409);
    expect(second.body).toEqual({
      error: 'already_checked_in',
      message: `Ticket ${ticket!.id.slice(0, 8)}… already entered at 2027-01-01T20:00:00Z through North door.`,
      firstCheckIn: { door: { id: north.id, name: 'North door' }, at: new Date(clock.t).toISOString() },
    });
    const secondAgain = await scan(event.id, south, ticket!.code!, n2);
    expect(secondAgain.status).toBe(409);
    expect(secondAgain.headers['idempotent-replayed']).toBe('true');
    expect(secondAgain.body).toEqual(second.body);
    const [t2] = (await book(event.id, 1)).tickets;
    expect((await scan(event.id, north, t2!.code!, n1)).body.error).toBe('idempotency_key_reused');
    expect((await call('GET', `/events/${event.id}`)).body).toMatchObject({ checkedInTickets: 1, offlineCheckIn: false });
  });

  it('refuses forged, truncated, altered, garbage, unknown, cancelled and other-event codes, admitting nothing', async () => {
    const event = await createEvent();
    const other = await createEvent();
    const door = await createDoor(event.id, 'Main door');
    const booking = await book(event.id, 2);
    const [ticket, cancelledTicket] = booking.tickets;
    const genuine = ticket!.code!;
    const forged = ticketCodes(new Uint8Array(32).fill(99)).codeFor(ticket!.id, event.id);
    const altered = `${genuine.slice(0, 10)}${genuine[10] === 'A' ? 'B' : 'A'}${genuine.slice(11)}`;
    const last = genuine.at(-1)!;
    const respelled = `${genuine.slice(0, -1)}${String.fromCharCode(last.charCodeAt(0) ^ 1)}`;
    const cases: Array<[string, string, number, string]> = [
      ['forged (another key)', forged, 400, 'invalid_code'],
      ['truncated', genuine.slice(0, 100), 400, 'invalid_code'],
      ['altered', altered, 400, 'invalid_code'],
      ['last character changed', respelled, 400, 'invalid_code'],
      ['garbage', 'hello world', 400, 'invalid_code'],
      ['a bare ticket id (the old QR)', ticket!.id, 400, 'invalid_code'],
      ['genuine, of another event', codes.codeFor(crypto.randomUUID(), other.id), 403, 'wrong_event'],
      ['genuine signature, no such ticket', codes.codeFor(crypto.randomUUID(), event.id), 404, 'ticket_not_found'],
    ];
    for (const [what, code, status, error] of cases) {
      const res = await scan(event.id, door, code);
      expect([what, res.status, res.body.error]).toEqual([what, status, error]);
      expect(res.body.message).toEqual(expect.any(String));
    }
    expect((await call('DELETE', `/bookings/${booking.id}`, { token: admin, body: { tickets: [cancelledTicket!.id] } })).status).toBe(200);
    const cancelled = await scan(event.id, door, cancelledTicket!.code!);
    expect([cancelled.status, cancelled.body.error]).toEqual([410, 'ticket_cancelled']);
    expect((await scan(event.id, door, ticket!.code!, 'short')).body.error).toBe('invalid_request');
    expect((await call('POST', `/events/${event.id}/checkins`, { token: door.token, body: { code: genuine } })).body.error).toBe('invalid_request');
    expect((await call('GET', `/events/${event.id}`)).body.checkedInTickets).toBe(0);
    expect((await scan(event.id, door, genuine)).status).toBe(200);
  });

  it('door tokens: only in Authorization, only their own event, only the door routes', async () => {
    const event = await createEvent();
    const other = await createEvent();
    const door = await createDoor(event.id, 'Main door');
    const [ticket] = (await book(event.id, 1)).tickets;
    const body = { code: ticket!.code!, nonce: nonce() };
    const noToken = await call('POST', `/events/${event.id}/checkins`, { body });
    expect([noToken.status, noToken.body.error]).toEqual([401, 'unauthorized']);
    for (const q of ['token', 'access_token', 'auth']) {
      const inQuery = await call('POST', `/events/${event.id}/checkins?${q}=${door.token}`, { body });
      expect([q, inQuery.status]).toEqual([q, 401]);
    }
    expect((await call('POST', `/events/${event.id}/checkins`, { body, token: `${door.token.slice(0, -1)}x` })).status).toBe(401);
    expect((await call('POST', `/events/${event.id}/checkins`, { body, token: admin })).status).toBe(401);
    const elsewhere = await call('POST', `/events/${other.id}/checkins`, { body, token: door.token });
    expect([elsewhere.status, elsewhere.body.error]).toEqual([403, 'wrong_event']);
    expect((await call('GET', `/events/${other.id}/door-list`, { token: door.token })).status).toBe(403);
    // Anything else with a door token is as if no admin token was sent.
    const adminRoutes: Array<[string, string, unknown?]> = [
      ['POST', '/events', { name: 'x', date: '2027-01-01T00:00:00Z', totalTickets: 1 }],
      ['GET', `/events/${event.id}/doors`],
      ['POST', `/events/${event.id}/doors`, { name: 'Sneaky door' }],
      ['DELETE', `/events/${event.id}/doors/${door.id}`],
      ['PUT', `/events/${event.id}/checkin-settings`, { offlineCheckIn: true }],
      ['GET', `/events/${event.id}/checkins`],
      ['GET', `/events/${event.id}/attendees.csv`],
      ['GET', '/metrics'],
    ];
    for (const [method, path, b] of adminRoutes) {
      const res = await call(method, path, { token: door.token, body: b });
      expect([method, path, res.status]).toEqual([method, path, 401]);
    }
    const cancel = await call('DELETE', `/bookings/${ticket!.bookingId}`, { token: door.token });
    expect(cancel.status).toBe(403);
    expect((await call('GET', `/events/${event.id}`)).body.checkedInTickets).toBe(0);
  });

  it('10 MB of garbage to the scan and sync routes: 413, nothing admitted', async () => {
    const event = await createEvent({ offlineCheckIn: true });
    const door = await createDoor(event.id, 'Main door');
    const garbage = Buffer.alloc(10 * 1024 * 1024, 0x41);
    for (const path of [`/events/${event.id}/checkins`, `/events/${event.id}/checkins/sync`]) {
      const res = await call('POST', path, { token: door.token, raw: garbage });
      expect([path, res.status, res.body?.error]).toEqual([path, 413, 'payload_too_large']);
    }
    expect((await call('GET', `/events/${event.id}/checkins`, { token: admin })).body).toEqual({ checkedIn: 0, recent: [], conflicts: [] });
  });

  it('offline: refused unless the organiser allows it; two doors admitting one ticket apart make one conflict, shown to both and the organiser', async () => {
    const event = await createEvent();
    const north = await createDoor(event.id, 'North door');
    const south = await createDoor(event.id, 'South "back" door, =1+1');
    const tickets = (await book(event.id, 3)).tickets;
    const at = (minutes: number) => new Date(clock.t + minutes * 60_000).toISOString();
    const upload = (door: { token: string }, scans: unknown[]) => call('POST', `/events/${event.id}/checkins/sync`, { token: door.token, body: { scans } });
    const northScans = [
      { code: tickets[0]!.code, nonce: 'north-offline-0001', scannedAt: at(-30) },
      { code: tickets[1]!.code, nonce: 'north-offline-0002', scannedAt: at(-29) },
    ];
    const notAllowed = await upload(north, northScans);
    expect([notAllowed.status, notAllowed.body.error]).toEqual([403, 'offline_not_allowed']);
    const allowed = await call('PUT', `/events/${event.id}/checkin-settings`, { token: admin, body: { offlineCheckIn: true } });
    expect(allowed.body).toMatchObject({ id: event.id, offlineCheckIn: true });
    expect((await call('GET', `/events/${event.id}/door-list`, { token: north.token })).body.offlineAllowed).toBe(true);

    const first = await upload(north, northScans);
    expect(first.body.results).toEqual([
      { nonce: 'north-offline-0001', outcome: 'admitted', ticketId: tickets[0]!.id },
      { nonce: 'north-offline-0002', outcome: 'admitted', ticketId: tickets[1]!.id },
    ]);
    const southScans = [
      { code: tickets[0]!.code, nonce: 'south-offline-0001', scannedAt: at(-20) },
      { code: tickets[2]!.code, nonce: 'south-offline-0002', scannedAt: at(25 * 60) },
      { code: 'garbage', nonce: 'south-offline-0003', scannedAt: at(-10) },
    ];
    const second = await upload(south, southScans);
    expect(second.body.results).toEqual([
      { nonce: 'south-offline-0001', outcome: 'conflict', ticketId: tickets[0]!.id, firstCheckIn: { door: { id: north.id, name: 'North door' }, at: at(-30) } },
      { nonce: 'south-offline-0002', outcome: 'refused', error: 'invalid_request', message: expect.stringContaining('24 hours') },
      { nonce: 'south-offline-0003', outcome: 'refused', error: 'invalid_code', message: expect.any(String) },
    ]);
    const report = await call('GET', `/events/${event.id}/checkins`, { token: admin });
    const replayed = await upload(south, southScans);
    expect(replayed.body.results[0]).toMatchObject({ outcome: 'conflict', replayed: true });
    expect(await call('GET', `/events/${event.id}/checkins`, { token: admin })).toMatchObject({ body: report.body });
    expect(report.body.checkedIn).toBe(2);
    expect(report.body.conflicts).toEqual([
      {
        ticketId: tickets[0]!.id,
        scans: [
          { door: { id: north.id, name: 'North door' }, at: at(-30), offline: true, outcome: 'admitted' },
          { door: { id: south.id, name: 'South "back" door, =1+1' }, at: at(-20), offline: true, outcome: 'conflict' },
        ],
      },
    ]);
    expect(report.body.recent.map((r: { outcome: string }) => r.outcome)).toEqual(['conflict', 'admitted', 'admitted']);
    for (const door of [north, south]) {
      const list = await call('GET', `/events/${event.id}/door-list`, { token: door.token });
      expect(list.body.conflicts.map((c: { ticketId: string }) => c.ticketId)).toEqual([tickets[0]!.id]);
    }
    const metrics = await call('GET', '/metrics', { token: admin });
    expect(metrics.text).toMatch(/boxoffice_checkin_conflicts_total 1\b/);
    expect(metrics.text).toMatch(/boxoffice_offline_scans_synced_total 3\b/);
    expect(metrics.text).toMatch(/boxoffice_checkins_total\{outcome="conflict"\} 1\b/);

    // CSV: one row per ticket, the door's name quoted and defused.
    const csv = await call('GET', `/events/${event.id}/attendees.csv`, { token: admin });
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    const lines = csv.text.trimEnd().split('\r\n');
    // (text() drops the byte order mark; test/http/lifecycle.test.ts checks the bytes.)
    expect(lines[0]).toBe('ticket_id,booking_id,booked_at,status,checked_in_at,door,name,email');
    expect(lines).toHaveLength(4);
    expect(lines).toContain(`${tickets[0]!.id},${tickets[0]!.bookingId},${new Date(clock.t).toISOString()},valid,${at(-30)},North door,,`);
    expect(lines).toContain(`${tickets[2]!.id},${tickets[2]!.bookingId},${new Date(clock.t).toISOString()},valid,,,,`);
  });

  it("the door list: the event's public key verifies every code; cancelled and admitted tickets listed", async () => {
    const event = await createEvent();
    const door = await createDoor(event.id, 'Main door');
    const booking = await book(event.id, 3);
    await call('DELETE', `/bookings/${booking.id}`, { token: admin, body: { tickets: [booking.tickets[0]!.id] } });
    await scan(event.id, door, booking.tickets[1]!.code!);
    const list = await call('GET', `/events/${event.id}/door-list`, { token: door.token });
    expect(list.body).toEqual({
      door: { id: door.id, name: 'Main door' },
      eventId: event.id,
      eventName: 'Night show',
      publicKey: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      publicKeys: [list.body.publicKey],
      offlineAllowed: false,
      generatedAt: new Date(clock.t).toISOString(),
      cancelled: [booking.tickets[0]!.id],
      checkedIn: [booking.tickets[1]!.id],
      conflicts: [],
    });
    const key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(list.body.publicKey, 'base64url')]), format: 'der', type: 'spki' });
    for (const t of booking.tickets) {
      const bytes = Buffer.from(t.code!.slice(4), 'base64url');
      expect(verify(null, bytes.subarray(0, 32), key, bytes.subarray(32))).toBe(true);
    }
  });

  it('GET /bookings/:id: without credentials no codes; with the booking secret or the admin token every door code; a wrong secret 403', async () => {
    const event = await createEvent();
    const booking = await book(event.id, 2);
    const codes = booking.tickets.map((t) => t.code);
    const plain = await call('GET', `/bookings/${booking.id}`);
    expect(plain.status).toBe(200);
    expect(plain.body.tickets.map((t: { code?: string }) => t.code)).toEqual([undefined, undefined]);
    expect(plain.body.secret).toBeUndefined();
    const own = await call('GET', `/bookings/${booking.id}`, { token: booking.secret });
    expect(own.status, own.text).toBe(200);
    expect(own.body.tickets.map((t: { code?: string }) => t.code)).toEqual(codes);
    expect(own.body.secret).toBeUndefined();
    expect((await call('GET', `/bookings/${booking.id}`, { token: admin })).body.tickets.map((t: { code?: string }) => t.code)).toEqual(codes);
    const wrong = await call('GET', `/bookings/${booking.id}`, { token: 'not-the-secret-of-this-booking-000000000000' });
    expect(wrong.status).toBe(403);
    expect(wrong.body).toMatchObject({ error: 'forbidden' });
    expect(wrong.text).not.toContain('BO1.');
  });

  it('GET /doors/self tells a door token which door it is and for which event; nothing else opens it', async () => {
    const event = await createEvent();
    const door = await createDoor(event.id, 'Side door');
    const self = await call('GET', '/doors/self', { token: door.token });
    expect(self.status, self.text).toBe(200);
    expect(self.body).toEqual({ door: { id: door.id, name: 'Side door' }, eventId: event.id, eventName: 'Night show' });
    expect((await call('GET', '/doors/self')).status).toBe(401);
    expect((await call('GET', '/doors/self', { token: admin })).status).toBe(401);
    await call('DELETE', `/events/${event.id}/doors/${door.id}`, { token: admin });
    expect((await call('GET', '/doors/self', { token: door.token })).body).toMatchObject({ error: 'door_revoked' });
  });

  it('POST /events accepts offlineCheckIn; the event JSON shows it and the checked-in count', async () => {
    const event = await createEvent({ offlineCheckIn: true });
    expect(event).toMatchObject({ offlineCheckIn: true, checkedInTickets: 0 });
    expect((await call('POST', '/events', { token: admin, body: { name: 'x', date: '2027-01-01T00:00:00Z', totalTickets: 1, offlineCheckIn: 'yes' } })).body.error).toBe('invalid_request');
    const listed = (await call('GET', '/events')).body.find((e: Event) => e.id === event.id);
    expect(listed).toMatchObject({ offlineCheckIn: true, checkedInTickets: 0 });
  });
});
