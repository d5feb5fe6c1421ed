import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemIdentity } from '../../src/core/identity.js';
import { adminHeaders, startApp } from '../helpers/app.js';

/**
 * The waiting room over HTTP (issue 13), on a clock the test moves: joining (one entry per buyer,
 * by address and by cookie), the order drawn when the sale opens, passes (single use, bound to the
 * entry and the event, expiring) and every bad input answered 4xx with nothing changed.
 */
describe('waiting room over HTTP', () => {
  let server: Awaited<ReturnType<typeof startApp>>;
  let clock = Date.parse('2027-01-01T10:00:00Z');
  const onSaleAt = '2027-01-01T11:00:00.000Z';
  beforeAll(async () => {
    server = await startApp({
      service: { identity: { ...systemIdentity, now: () => new Date(clock) }, queueTickMs: 0, sweepIntervalMs: 0, admissionPassSeconds: 60, waitingRoomLeadSeconds: 1800 },
    });
  });
  afterAll(async () => {
    await server.close();
  });

  type Answer = { status: number; body: any; headers: Record<string, unknown> };
  async function call(method: 'GET' | 'POST' | 'PATCH', url: string, options: { body?: unknown; admin?: boolean; ip?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
    const res = await server.app.inject({
      method,
      url,
      remoteAddress: options.ip ?? '127.0.0.1',
      headers: { ...(options.admin ? adminHeaders : options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
      ...(options.body === undefined ? {} : { payload: JSON.stringify(options.body) }),
    });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined, headers: res.headers };
  }
  async function roomEvent(extra: object = {}): Promise<any> {
    const res = await call('POST', '/events', { admin: true, body: { name: 'On-sale', date: '2027-06-01T20:00:00Z', totalTickets: 5, maxTicketsPerBooking: 2, onSaleAt, waitingRoom: true, ...extra } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }
  const join = (eventId: string, ip: string, headers: Record<string, string> = {}) => call('POST', `/events/${eventId}/queue`, { body: {}, ip, headers });
  const status = (eventId: string, entry: { id: string; token: string }) => call('GET', `/events/${eventId}/queue/${entry.id}`, { headers: { 'queue-token': entry.token } });
  const book = (eventId: string, pass: string | undefined, ip = '127.0.0.1') => call('POST', `/events/${eventId}/bookings`, { body: { tickets: 1 }, ip, headers: pass === undefined ? {} : { 'admission-pass': pass } });
  const available = async (eventId: string) => (await call('GET', `/events/${eventId}`)).body.availableTickets as number;

  it('the event carries its sale settings; the room opens 30 min before the sale; joins before it, unknown or roomless events are refused', async () => {
    clock = Date.parse('2027-01-01T10:00:00Z');
    const event = await roomEvent();
    expect(event).toMatchObject({ onSaleAt, waitingRoom: true, waitingRoomOpensAt: '2027-01-01T10:30:00.000Z', queueWindow: null });
    const early = await join(event.id, '127.0.0.2');
    expect(early.status).toBe(403);
    expect(early.body).toMatchObject({ error: 'room_not_open', message: expect.stringContaining('2027-01-01 10:30:00 UTC') });
    expect((await join('0b9c1b9e-3f55-4c36-9a4e-3ad3a2e8a3f1', '127.0.0.2')).body.error).toBe('event_not_found');
    expect((await join('not-a-uuid', '127.0.0.2')).status).toBe(400);
    const plain = await call('POST', '/events', { admin: true, body: { name: 'Plain', date: '2027-06-01T20:00:00Z', totalTickets: 5 } });
    expect(plain.body).toMatchObject({ onSaleAt: null, waitingRoom: false, waitingRoomOpensAt: null });
    expect((await join(plain.body.id, '127.0.0.2')).body.error).toBe('no_waiting_room');
    // PATCH changes the settings and the room's opening with them.
    const patched = await call('PATCH', `/events/${plain.body.id}`, { admin: true, body: { waitingRoom: true, onSaleAt: '2027-02-01T12:00:00Z', queueWindow: 3 } });
    expect(patched.body).toMatchObject({ waitingRoom: true, onSaleAt: '2027-02-01T12:00:00.000Z', waitingRoomOpensAt: '2027-02-01T11:30:00.000Z', queueWindow: 3 });
    for (const bad of [{ onSaleAt: 'tomorrow' }, { waitingRoom: 'yes' }, { queueWindow: 0 }]) {
      const res = await call('PATCH', `/events/${plain.body.id}`, { admin: true, body: bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
  });

  it('a buyer joining 1,000 times has one entry (by address, or by cookie from another address); the order is drawn at onSaleAt', async () => {
    clock = Date.parse('2027-01-01T10:40:00Z');
    const event = await roomEvent();
    const first = await join(event.id, '127.0.1.1');
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ state: 'waiting', position: null, ahead: null, pass: null, shuffleAt: onSaleAt });
    expect(String(first.headers['set-cookie'])).toMatch(/^bo_queue=[^;]+; HttpOnly; SameSite=Lax; Path=\/$/);
    // In rounds of 8 at once: the per-address in-flight cap would answer more of them 429 (which is not what is tested here).
    const repeats: Answer[] = [];
    for (let round = 0; round < 125; round++) repeats.push(...(await Promise.all(Array.from({ length: 8 }, () => join(event.id, '127.0.1.1')))));
    expect(new Set(repeats.map((r) => r.status))).toEqual(new Set([200]));
    expect(new Set(repeats.map((r) => r.body.id))).toEqual(new Set([first.body.id]));
    const cookie = String(first.headers['set-cookie']).split(';')[0]!;
    const moved = await join(event.id, '127.0.1.99', { cookie });
    expect(moved.body.id).toBe(first.body.id);
    // A cookie of another event's entry, or a forged one, is only an address.
    const forged = await join(event.id, '127.0.1.98', { cookie: `bo_queue=${first.body.id}.AAAA` });
    expect(forged.status).toBe(201);
    expect((await call('GET', `/events/${event.id}/queue`, { admin: true })).body).toMatchObject({ length: 2, waiting: 2, open: false });

    // Holds and bookings wait for the sale, pass or not.
    expect((await book(event.id, undefined)).body.error).toBe('not_on_sale');
    for (let i = 2; i <= 6; i++) await join(event.id, `127.0.1.${i}`);
    clock = Date.parse(onSaleAt) + 1000;
    await server.service.queue.tick();
    const positions = [];
    for (const ip of ['127.0.1.1', '127.0.1.98', '127.0.1.2', '127.0.1.3', '127.0.1.4', '127.0.1.5', '127.0.1.6']) positions.push((await join(event.id, ip)).body.position);
    expect([...positions].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // A later joiner goes to the back, and positions stay as drawn.
    const late = await join(event.id, '127.0.1.7');
    expect(late.body.position).toBe(8);
    await server.service.queue.tick();
    expect((await join(event.id, '127.0.1.1')).body.position).toBe(positions[0]);
  });

  it('passes: none, forged, tampered or of another event → 403 queue_required; used twice books once; expired → admission_expired; nothing changes', async () => {
    clock = Date.parse('2027-01-01T10:40:00Z');
    const event = await roomEvent({ queueWindow: 1 });
    const other = await roomEvent({ queueWindow: 1 });
    const a = (await join(event.id, '127.0.2.1')).body;
    const b = (await join(event.id, '127.0.2.2')).body;
    const o = (await join(other.id, '127.0.2.1')).body;
    clock = Date.parse(onSaleAt) + 1000;
    await server.service.queue.tick();
    const [sa, sb] = [(await status(event.id, a)).body, (await status(event.id, b)).body];
    const admitted = sa.state === 'admitted' ? sa : sb;
    const waiting = sa.state === 'admitted' ? sb : sa;
    expect(admitted).toMatchObject({ state: 'admitted', position: 1, ahead: 0, pass: expect.any(String) });
    expect(waiting).toMatchObject({ state: 'waiting', position: 2, ahead: 0, pass: null });
    const otherPass = (await status(other.id, o)).body.pass as string;
    expect(otherPass).toEqual(expect.any(String));

    const [entryId, expires, mac] = admitted.pass.split('.');
    const flipped = mac.slice(0, -1) + (mac.endsWith('A') ? 'B' : 'A');
    for (const pass of [undefined, 'garbage', `${entryId}.${expires}.${flipped}`, `${waiting.id}.${expires}.${mac}`, `${entryId}.${Number(expires) + 60_000}.${mac}`, otherPass]) {
      const res = await book(event.id, pass);
      expect(res.status, String(pass)).toBe(403);
      expect(res.body.error).toBe('queue_required');
      expect(res.body.message).toContain(`POST /events/${event.id}/queue`);
    }
    expect(await available(event.id)).toBe(5);

    // Tokens: forged, of another event, missing → 403; unknown entry → 404.
    expect((await call('GET', `/events/${event.id}/queue/${admitted.id}`, { headers: { 'queue-token': `${admitted.id}.x` } })).body.error).toBe('invalid_queue_token');
    expect((await call('GET', `/events/${event.id}/queue/${admitted.id}`)).status).toBe(403);
    expect((await call('GET', `/events/${other.id}/queue/${o.id}`, { headers: { 'queue-token': admitted.token } })).body.error).toBe('invalid_queue_token');
    expect((await call('GET', `/events/${event.id}/queue/${o.id}`, { headers: { 'queue-token': o.token } })).body.error).toBe('invalid_queue_token');
    expect((await call('GET', `/events/${event.id}/queue/0b9c1b9e-3f55-4c36-9a4e-3ad3a2e8a3f1`, { headers: { 'queue-token': admitted.token } })).status).toBe(404);

    const used = await Promise.all([book(event.id, admitted.pass), book(event.id, admitted.pass), book(event.id, admitted.pass)]);
    expect(used.map((r) => r.status).sort()).toEqual([201, 403, 403]);
    expect(used.filter((r) => r.status === 403).map((r) => r.body.error)).toEqual(['admission_expired', 'admission_expired']);
    expect(await available(event.id)).toBe(4);
    expect((await status(event.id, admitted)).body.state).toBe('done');

    // The used pass freed the slot: the next is admitted; its pass runs out unused, then the slot is free again.
    await server.service.queue.tick();
    const next = (await status(event.id, waiting)).body;
    expect(next.state).toBe('admitted');
    clock += 61_000;
    expect((await status(event.id, waiting)).body.state).toBe('expired');
    expect((await book(event.id, next.pass)).body.error).toBe('admission_expired');
    await server.service.queue.tick();
    expect((await call('GET', `/events/${event.id}/queue`, { admin: true })).body).toMatchObject({ done: 1, expired: 1, inProgress: 0, serving: 2 });
    expect(await available(event.id)).toBe(4);
    // A pass is also needed on POST /reserve.
    expect((await call('POST', `/reserve?eventId=${event.id}&tickets=1`)).body.error).toBe('queue_required');
  });

  it('pause holds admissions; sold out is news at once and nobody new may join; held elsewhere is said', async () => {
    clock = Date.parse('2027-01-01T10:40:00Z');
    const event = await roomEvent({ totalTickets: 2, queueWindow: 1 });
    const entries: Array<{ id: string; token: string }> = [];
    for (let i = 1; i <= 4; i++) entries.push((await join(event.id, `127.0.3.${i}`)).body);
    expect((await call('POST', `/events/${event.id}/queue/pause`, { admin: true, body: {} })).body).toMatchObject({ paused: true });
    clock = Date.parse(onSaleAt) + 1000;
    await server.service.queue.tick();
    expect((await call('GET', `/events/${event.id}/queue`, { admin: true })).body).toMatchObject({ open: true, serving: 0, paused: true });
    expect((await call('POST', `/events/${event.id}/queue/resume`, { admin: true, body: {} })).body).toMatchObject({ paused: false });
    const holdOf = async () => {
      await server.service.queue.tick();
      const states = await Promise.all(entries.map((e) => status(event.id, e)));
      return states.find((s) => s.body.state === 'admitted')!.body;
    };
    const first = await holdOf();
    const hold = await call('POST', `/events/${event.id}/holds`, { body: { tickets: 2 }, headers: { 'admission-pass': first.pass } });
    expect(hold.status, JSON.stringify(hold.body)).toBe(201);
    await server.service.queue.tick();
    const waiting = entries.find((e) => e.id !== first.id)!;
    expect((await status(event.id, waiting)).body).toMatchObject({ state: 'waiting', heldElsewhere: true });
    expect((await call('POST', `/holds/${hold.body.id}/confirm`)).status).toBe(201);
    expect((await status(event.id, waiting)).body).toMatchObject({ state: 'sold_out', heldElsewhere: false });
    expect((await join(event.id, '127.0.3.50')).body.error).toBe('sold_out');
  });

  it('the default window follows the pace: buyers who finish fast widen it past 200 (as many as finished in 4 s)', async () => {
    clock = Date.parse('2027-01-01T10:40:00Z');
    const event = await roomEvent({ totalTickets: 1000, maxTicketsPerBooking: 1 });
    const entries: Array<{ id: string; token: string }> = [];
    for (let i = 0; i < 500; i++) entries.push((await join(event.id, `127.0.${10 + Math.floor(i / 250)}.${(i % 250) + 1}`)).body);
    const summary = async () => (await call('GET', `/events/${event.id}/queue`, { admin: true })).body;
    clock = Date.parse(onSaleAt) + 1000;
    await server.service.queue.tick();
    expect(await summary()).toMatchObject({ serving: 200, window: 200 });
    // The first 200 book at once.
    for (const entry of entries) {
      const answer = (await status(event.id, entry)).body;
      if (answer.state === 'admitted') expect((await book(event.id, answer.pass)).status).toBe(201);
    }
    clock += 1000;
    await server.service.queue.tick();
    // No pace measured yet: the floor again, for the next 200.
    expect(await summary()).toMatchObject({ serving: 400, inProgress: 200 });
    clock += 1000;
    await server.service.queue.tick();
    // 200 finished in the second before this tick: a window of 800, so the last 100 are admitted beside the
    // 200 still shopping (a window of 200 would admit none). The summary shows the pace now: 200 in 2 s → 400.
    expect(await summary()).toMatchObject({ serving: 500, inProgress: 300, window: 400 });
  });

  it('metrics: line length, joins, admissions, expired passes and the wait histogram', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: adminHeaders.authorization } });
    const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'm').exec(res.body)?.[1]);
    expect(value('boxoffice_queue_joins_total')).toBeGreaterThanOrEqual(15);
    expect(value('boxoffice_queue_admissions_total')).toBeGreaterThanOrEqual(4);
    expect(value('boxoffice_queue_expired_passes_total')).toBeGreaterThanOrEqual(1);
    expect(value('boxoffice_queue_wait_seconds_count')).toBeGreaterThanOrEqual(3);
    expect(res.body).toMatch(/^boxoffice_queue_length\{event="[0-9a-f-]{36}"\} \d+$/m);
  });
});

describe('waiting room: a sell-out is news at once', () => {
  it('the last booking publishes "sold out" on the line without waiting for the next tick (a minute away here)', async () => {
    let clock = Date.parse('2027-01-01T10:40:00Z');
    const server = await startApp({ service: { identity: { ...systemIdentity, now: () => new Date(clock) }, queueTickMs: 60_000, sweepIntervalMs: 0, admissionPassSeconds: 60 } });
    try {
      const inject = async (method: 'GET' | 'POST', url: string, ip: string, body?: unknown, headers: Record<string, string> = {}) => {
        const res = await server.app.inject({ method, url, remoteAddress: ip, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
        return JSON.parse(res.body);
      };
      const created = await server.app.inject({ method: 'POST', url: '/events', headers: adminHeaders, payload: { name: 'Tiny', date: '2027-06-01T20:00:00Z', totalTickets: 1, onSaleAt: '2027-01-01T11:00:00Z', waitingRoom: true } });
      const eventId = JSON.parse(created.body).id as string;
      const joined = [await inject('POST', `/events/${eventId}/queue`, '127.0.5.1', {}), await inject('POST', `/events/${eventId}/queue`, '127.0.5.2', {})];
      clock = Date.parse('2027-01-01T11:00:01Z');
      await server.service.queue.tick();
      const heard: boolean[] = [];
      server.service.queue.subscribe((updates) => heard.push(...updates.filter((u) => u.eventId === eventId).map((u) => u.soldOut)));
      // One ticket, so a window of one: whichever of the two the draw put first holds the pass.
      const entries = await Promise.all(joined.map((e, i) => inject('GET', `/events/${eventId}/queue/${e.id}`, `127.0.5.${i + 1}`, undefined, { 'queue-token': e.token })));
      const entry = entries.find((e) => e.state === 'admitted');
      expect(entries.map((e) => e.state).sort()).toEqual(['admitted', 'waiting']);
      expect((await inject('POST', `/events/${eventId}/bookings`, '127.0.5.9', { tickets: 1 }, { 'admission-pass': entry.pass })).tickets).toHaveLength(1);
      await expect.poll(() => heard.includes(true), { timeout: 5000, interval: 20 }).toBe(true);
    } finally {
      await server.close();
    }
  });
});
