import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startApp } from '../helpers/app.js';

/**
 * Issue 17 over HTTP: editing, closing and cancelling an event, the time zone, past dates, buyers'
 * details in booking and hold bodies, the organiser's list and the CSV. Bad input: a clear 4xx and
 * nothing changed.
 */
describe('event lifecycle over HTTP', () => {
  let server: Awaited<ReturnType<typeof startApp>>;
  beforeAll(async () => {
    server = await startApp({ service: { defaultTimeZone: 'America/New_York' } });
  });
  afterAll(async () => {
    await server.close();
  });

  type Answer = { status: number; body: any; text: string; bytes: Buffer; headers: Headers };
  async function call(method: string, path: string, options: { body?: unknown; token?: string | null } = {}): Promise<Answer> {
    const headers: Record<string, string> = {};
    const token = options.token === undefined ? ADMIN_TOKEN : options.token;
    if (token) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${server.url}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    const bytes = Buffer.from(await res.arrayBuffer());
    const text = bytes.toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: res.status, body, text, bytes, headers: res.headers };
  }
  const future = '2027-06-12T18:00:00Z';
  async function createEvent(extra: object = {}): Promise<any> {
    const res = await call('POST', '/events', { body: { name: 'Gig', date: future, totalTickets: 10, ...extra } });
    expect(res.status, res.text).toBe(201);
    return res.body;
  }

  it('POST /events: new fields with their defaults, the server zone by default, a given zone canonical', async () => {
    const plain = await createEvent();
    expect(plain).toMatchObject({ description: '', venue: '', timeZone: 'America/New_York', salesOpen: true, status: 'scheduled', buyerDetails: 'none' });
    const full = await createEvent({ description: 'Doors at 19:00', venue: 'Hall 2', timeZone: 'Europe/Berlin', salesOpen: false, buyerDetails: 'optional' });
    expect(full).toMatchObject({ description: 'Doors at 19:00', venue: 'Hall 2', timeZone: 'Europe/Berlin', salesOpen: false, buyerDetails: 'optional' });
    const listed = (await call('GET', '/events', { token: null })).body.find((e: { id: string }) => e.id === full.id);
    expect(listed).toEqual(full);
  });

  it('bad input at creation: a past date, an unknown zone, long texts, a wrong setting: 400 and nothing created', async () => {
    const before = (await call('GET', '/events')).body.length;
    const cases: Array<[object, RegExp]> = [
      [{ date: '2020-01-01T00:00:00Z' }, /date 2020-01-01T00:00:00Z is in the past/],
      [{ timeZone: 'Mars/Olympus' }, /timeZone must be an IANA time zone/],
      [{ timeZone: '+01:00' }, /timeZone must be an IANA time zone/],
      [{ description: 'x'.repeat(2001) }, /description must be text of at most 2000/],
      [{ venue: 'v'.repeat(201) }, /venue must be text of at most 200/],
      [{ venue: 'Hall\u202e2' }, /venue must not contain control or text-direction characters/],
      [{ buyerDetails: 'always' }, /buyerDetails must be "none", "optional" or "required"/],
    ];
    for (const [extra, message] of cases) {
      const res = await call('POST', '/events', { body: { name: 'Bad', date: future, totalTickets: 5, ...extra } });
      expect(res.status, JSON.stringify(extra)).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.body.message).toMatch(message);
    }
    expect((await call('GET', '/events')).body.length).toBe(before);
  });

  it('PATCH /events/:id changes what it names; below sold + held is 409 invalid_stock, and bad fields 400, nothing changed', async () => {
    const event = await createEvent({ totalTickets: 10 });
    expect((await call('POST', `/events/${event.id}/bookings`, { token: null, body: { tickets: 4 } })).status).toBe(201);
    expect((await call('POST', `/events/${event.id}/holds`, { token: null, body: { tickets: 2 } })).status).toBe(201);
    const ok = await call('PATCH', `/events/${event.id}`, { body: { name: 'Gig (moved)', venue: 'Hall 3', timeZone: 'Asia/Tokyo', totalTickets: 12 } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toMatchObject({ name: 'Gig (moved)', venue: 'Hall 3', timeZone: 'Asia/Tokyo', totalTickets: 12, availableTickets: 6, heldTickets: 2 });
    const below = await call('PATCH', `/events/${event.id}`, { body: { totalTickets: 5, name: 'Nope' } });
    expect(below.status).toBe(409);
    expect(below.body).toEqual({ error: 'invalid_stock', message: 'totalTickets cannot be 5: 4 tickets are sold and 2 held, so the event needs at least 6. Nothing was changed.' });
    for (const body of [{ timeZone: 'Not/AZone' }, { totalTickets: 0 }, { colour: 'red' }, {}, { name: '' }, { date: 'tomorrow' }]) {
      const res = await call('PATCH', `/events/${event.id}`, { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toBe('invalid_request');
    }
    expect((await call('PATCH', `/events/${event.id}`, { token: null, body: { name: 'Mine' } })).status).toBe(401);
    expect((await call('PATCH', '/events/3f2b8c4e-6a1d-4e5f-9b7a-2c8d1e0f4a6b', { body: { name: 'Ghost' } })).body.error).toBe('event_not_found');
    expect((await call('GET', `/events/${event.id}`)).body).toMatchObject({ name: 'Gig (moved)', totalTickets: 12, availableTickets: 6 });
    // A past event may be edited (moved into the past here, then corrected).
    expect((await call('PATCH', `/events/${event.id}`, { body: { date: '2020-05-01T20:00:00Z' } })).status).toBe(200);
    const past = await call('POST', `/events/${event.id}/bookings`, { token: null, body: { tickets: 1 } });
    expect(past.status).toBe(409);
    expect(past.body.error).toBe('event_past');
    expect((await call('PATCH', `/events/${event.id}`, { body: { date: future } })).status).toBe(200);
  });

  it('closed sales refuse bookings and holds with 409 sales_closed; reopening sells again', async () => {
    const event = await createEvent();
    expect((await call('PATCH', `/events/${event.id}`, { body: { salesOpen: false } })).body.salesOpen).toBe(false);
    for (const kind of ['bookings', 'holds']) {
      const res = await call('POST', `/events/${event.id}/${kind}`, { token: null, body: { tickets: 1 } });
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ error: 'sales_closed', message: 'Sales for Gig are closed by the organiser; nothing was booked or held.' });
    }
    await call('PATCH', `/events/${event.id}`, { body: { salesOpen: true } });
    expect((await call('POST', `/events/${event.id}/bookings`, { token: null, body: { tickets: 1 } })).status).toBe(201);
  });

  it("POST /events/:id/cancel: every booking cancelled, holds released, stock zeroed; buyers' GET /bookings/:id says so; idempotent", async () => {
    const event = await createEvent({ totalTickets: 10 });
    const booking = (await call('POST', `/events/${event.id}/bookings`, { token: null, body: { tickets: 3 } })).body;
    const hold = (await call('POST', `/events/${event.id}/holds`, { token: null, body: { tickets: 2 } })).body;
    expect((await call('POST', `/events/${event.id}/cancel`, { token: null })).status).toBe(401);
    const cancelled = await call('POST', `/events/${event.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', salesOpen: false, availableTickets: 0, heldTickets: 0 });
    const seen = (await call('GET', `/bookings/${booking.id}`, { token: null })).body;
    expect(seen.eventStatus).toBe('cancelled');
    expect(seen.tickets.map((t: { status: string }) => t.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect((await call('GET', `/holds/${hold.id}`, { token: null })).body.status).toBe('released');
    const confirm = await call('POST', `/holds/${hold.id}/confirm`, { token: null });
    expect(confirm.status).toBe(409);
    expect(confirm.body.error).toBe('event_cancelled');
    const again = await call('POST', `/events/${event.id}/cancel`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(cancelled.body);
    const book = await call('POST', `/events/${event.id}/bookings`, { token: null, body: { tickets: 1 } });
    expect(book.status).toBe(409);
    expect(book.body.error).toBe('event_cancelled');
    expect((await call('PATCH', `/events/${event.id}`, { body: { name: 'Back' } })).body.error).toBe('event_cancelled');
  });

  it("buyer details: stored, required when the event says so, refused when malformed, never in public answers", async () => {
    const event = await createEvent({ buyerDetails: 'required' });
    const missing = await call('POST', `/events/${event.id}/bookings`, { token: null, body: { tickets: 1, buyer: { name: 'Ada' } } });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('buyer_details_required');
    for (const buyer of [{ name: 'Ada', email: 'not-an-email' }, { name: '', email: 'a@b.org' }, { name: 'A\u0007', email: 'a@b.org' }, { name: 'Ada', email: `${'a'.repeat(250)}@b.org` }, 'Ada', { name: 'Ada', email: 'a@b.org', phone: '1' }]) {
      const res = await call('POST', `/events/${event.id}/bookings`, { token: null, body: { tickets: 1, buyer } });
      expect(res.status, JSON.stringify(buyer)).toBe(400);
    }
    expect((await call('GET', `/events/${event.id}`)).body.availableTickets).toBe(10);
    const ok = await call('POST', `/events/${event.id}/bookings`, { token: null, body: { tickets: 2, buyer: { name: 'Ada Lovelace', email: 'ada@example.org' } } });
    expect(ok.status).toBe(201);
    expect(ok.text).not.toContain('Ada');
    const hold = await call('POST', `/events/${event.id}/holds`, { token: null, body: { tickets: 1, buyer: { name: 'Grace Hopper', email: 'grace@example.org' } } });
    expect(hold.status).toBe(201);
    expect(hold.text).not.toContain('Grace');
    const confirmed = await call('POST', `/holds/${hold.body.id}/confirm`, { token: null });
    expect(confirmed.text).not.toContain('Grace');
    expect((await call('GET', `/bookings/${ok.body.id}`, { token: null })).text).not.toContain('ada@');
    const list = await call('GET', `/events/${event.id}/bookings`);
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(2);
    expect(list.body.bookings.map((b: { buyer: unknown }) => b.buyer)).toEqual([
      { name: 'Grace Hopper', email: 'grace@example.org' },
      { name: 'Ada Lovelace', email: 'ada@example.org' },
    ]);
  });

  it('GET /events/:id/bookings: admin only, search, pages, bad parameters 400', async () => {
    const event = await createEvent();
    for (const name of ['Ada Lovelace', 'Alan Turing', 'Grace Hopper']) {
      await call('POST', `/events/${event.id}/bookings`, { token: null, body: { tickets: 1, buyer: { name, email: `${name.split(' ')[0]!.toLowerCase()}@example.org` } } });
    }
    expect((await call('GET', `/events/${event.id}/bookings`, { token: null })).status).toBe(401);
    const search = await call('GET', `/events/${event.id}/bookings?search=LA`);
    expect(search.body.bookings.map((b: { buyer: { name: string } }) => b.buyer.name).sort()).toEqual(['Ada Lovelace', 'Alan Turing']);
    const page = await call('GET', `/events/${event.id}/bookings?offset=1&limit=1`);
    expect(page.body).toMatchObject({ total: 3, offset: 1, limit: 1 });
    expect(page.body.bookings[0].buyer.name).toBe('Alan Turing');
    for (const q of ['limit=0', 'limit=1001', 'offset=-1', `search=${'x'.repeat(201)}`]) {
      expect((await call('GET', `/events/${event.id}/bookings?${q}`)).status, q).toBe(400);
    }
    expect((await call('GET', '/events/3f2b8c4e-6a1d-4e5f-9b7a-2c8d1e0f4a6b/bookings')).status).toBe(404);
  });

  it('attendees.csv: admin only; UTF-8 with BOM, RFC 4180, hostile names defused, read back whole by a CSV parser', async () => {
    const event = await createEvent();
    const hostile = ['=HYPERLINK("http://evil.example","click")', '+1+2', '-2+3', '@SUM(A1)', '\tTabbed', 'Quote "me", please', 'Line\nbreak? no', 'Zoë Ünïcödé'];
    const accepted: string[] = [];
    for (const name of hostile) {
      const res = await call('POST', `/events/${event.id}/bookings`, { token: null, body: { tickets: 1, buyer: { name, email: 'x@example.org' } } });
      // Names with control characters (a newline) are refused; surrounding blanks (the tab) are trimmed.
      if (res.status === 201) accepted.push(name.trim());
      else expect(res.body.error).toBe('invalid_request');
    }
    expect(accepted).toHaveLength(7);
    expect((await call('GET', `/events/${event.id}/attendees.csv`, { token: null })).status).toBe(401);
    const csv = await call('GET', `/events/${event.id}/attendees.csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect([...csv.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const records = parse(csv.bytes, { bom: true, columns: true, relax_column_count: false }) as Array<Record<string, string>>;
    expect(records).toHaveLength(accepted.length);
    const names = records.map((r) => r.name!);
    for (const name of names) expect(name).not.toMatch(/^[=+\-@\t\r]/);
    expect(names.sort()).toEqual(accepted.map((n) => (/^[=+\-@\t\r]/.test(n) ? `'${n}` : n)).sort());
    expect(records.every((r) => r.email === 'x@example.org' && r.status === 'valid')).toBe(true);
  });
});
