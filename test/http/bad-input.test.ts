import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { ADMIN_TOKEN, adminHeaders, startApp } from '../helpers/app.js';
import { tempDir } from '../helpers/tmp.js';

interface Case {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: (eventId: string) => string;
  headers?: Record<string, string>;
  body?: string;
  status: number;
  error: string;
}

const json = { 'content-type': 'application/json' };
const reserve = (q: string) => (id: string) => `/reserve?${q.replaceAll('ID', id)}`;
const book = (id: string) => `/events/${id}/bookings`;
const unknownId = '0f8fad5b-d9cb-469f-a165-70867728950e';

const cases: Case[] = [
  ...['-5', '0', 'abc', '1.5', '1e3', '99999999999', '', '0x10', '%2B3', '101'].map(
    (n): Case => ({ name: `reserve tickets=${n}`, method: 'POST', path: reserve(`eventId=ID&tickets=${n}`), status: 400, error: 'invalid_request' }),
  ),
  { name: 'reserve without tickets', method: 'POST', path: reserve('eventId=ID'), status: 400, error: 'invalid_request' },
  { name: 'reserve with tickets twice', method: 'POST', path: reserve('eventId=ID&tickets=1&tickets=2'), status: 400, error: 'invalid_request' },
  { name: 'reserve with tickets[]', method: 'POST', path: reserve('eventId=ID&tickets[]=1'), status: 400, error: 'invalid_request' },
  { name: 'reserve without eventId', method: 'POST', path: reserve('tickets=1'), status: 400, error: 'invalid_request' },
  { name: 'reserve with a malformed eventId', method: 'POST', path: reserve('eventId=../../etc&tickets=1'), status: 400, error: 'invalid_request' },
  { name: 'reserve with eventId twice', method: 'POST', path: reserve('eventId=ID&eventId=ID&tickets=1'), status: 400, error: 'invalid_request' },
  { name: 'reserve on an unknown event', method: 'POST', path: reserve(`eventId=${unknownId}&tickets=1`), status: 404, error: 'event_not_found' },
  { name: 'reserve with a non-empty form body', method: 'POST', path: reserve('eventId=ID&tickets=abc'), headers: { 'content-type': 'application/json' }, body: '{}', status: 400, error: 'invalid_request' },
  { name: 'reserve by GET', method: 'GET', path: reserve('eventId=ID&tickets=1'), status: 405, error: 'method_not_allowed' },
  ...['-5', '0', '"abc"', '1.5', '"3"', '1e3', '99999999999', 'null', 'true', '[1]', '{"n":1}'].map(
    (n): Case => ({ name: `book {"tickets":${n}}`, method: 'POST', path: book, headers: json, body: `{"tickets":${n}}`, status: 400, error: 'invalid_request' }),
  ),
  { name: 'book with an empty object', method: 'POST', path: book, headers: json, body: '{}', status: 400, error: 'invalid_request' },
  { name: 'book with an unknown field', method: 'POST', path: book, headers: json, body: '{"tickets":1,"price":0}', status: 400, error: 'invalid_request' },
  { name: 'book with a JSON array body', method: 'POST', path: book, headers: json, body: '[{"tickets":1}]', status: 400, error: 'invalid_request' },
  { name: 'book with malformed JSON', method: 'POST', path: book, headers: json, body: '{"tickets":', status: 400, error: 'invalid_request' },
  { name: 'book with an empty JSON body', method: 'POST', path: book, headers: json, body: '', status: 400, error: 'invalid_request' },
  { name: 'book with __proto__', method: 'POST', path: book, headers: json, body: '{"__proto__":{"tickets":1},"tickets":1}', status: 400, error: 'invalid_request' },
  { name: 'book with constructor.prototype', method: 'POST', path: book, headers: json, body: '{"constructor":{"prototype":{"x":1}},"tickets":1}', status: 400, error: 'invalid_request' },
  { name: 'book as text/plain', method: 'POST', path: book, headers: { 'content-type': 'text/plain' }, body: 'tickets=1', status: 415, error: 'unsupported_media_type' },
  { name: 'book as a form', method: 'POST', path: book, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'tickets=1', status: 415, error: 'unsupported_media_type' },
  { name: 'book with a body over the limit', method: 'POST', path: book, headers: json, body: `{"tickets":1,"pad":"${'x'.repeat(40_000)}"}`, status: 413, error: 'payload_too_large' },
  { name: 'book on a malformed event id', method: 'POST', path: () => book('not-a-uuid'), headers: json, body: '{"tickets":1}', status: 400, error: 'invalid_request' },
  { name: 'book on an unknown event', method: 'POST', path: () => book(unknownId), headers: json, body: '{"tickets":1}', status: 404, error: 'event_not_found' },
  { name: 'read a malformed event id', method: 'GET', path: () => '/events/%00', status: 400, error: 'invalid_request' },
  { name: 'read a malformed ticket id', method: 'GET', path: () => '/tickets/abc', status: 400, error: 'invalid_request' },
  { name: 'an unknown route', method: 'GET', path: () => '/admin/../../etc/passwd', status: 404, error: 'not_found' },
  { name: 'an unknown method on events', method: 'DELETE', path: () => '/events', status: 405, error: 'method_not_allowed' },
];

const goodEvent = { name: 'Gig', date: '2027-01-01T20:00:00Z', totalTickets: 5 };
const eventCases: Case[] = [
  { name: 'create without a token', method: 'POST', path: () => '/events', headers: json, body: JSON.stringify(goodEvent), status: 401, error: 'unauthorized' },
  { name: 'create with a wrong token', method: 'POST', path: () => '/events', headers: { ...json, authorization: 'Bearer wrong-token-000000000000' }, body: JSON.stringify(goodEvent), status: 401, error: 'unauthorized' },
  { name: 'create with the token in the query string', method: 'POST', path: () => `/events?token=${ADMIN_TOKEN}`, headers: json, body: JSON.stringify(goodEvent), status: 401, error: 'unauthorized' },
  { name: 'create with Basic auth', method: 'POST', path: () => '/events', headers: { ...json, authorization: `Basic ${ADMIN_TOKEN}` }, body: JSON.stringify(goodEvent), status: 401, error: 'unauthorized' },
  { name: 'create with ESC in the name', method: 'POST', path: () => '/events', headers: { ...json, authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ ...goodEvent, name: 'Gig \u001b[2J' }), status: 400, error: 'invalid_request' },
  { name: 'create with a bidi override in the name', method: 'POST', path: () => '/events', headers: { ...json, authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ ...goodEvent, name: 'Gig \u202e' }), status: 400, error: 'invalid_request' },
  ...[
    { name: '' },
    { name: '   ' },
    { name: 'x'.repeat(201) },
    { date: 'next friday' },
    { date: '2027-02-30T20:00:00Z' },
    { totalTickets: 0 },
    { totalTickets: 10_000_001 },
    { totalTickets: -1 },
    { totalTickets: 2.5 },
    { totalTickets: '5' },
    { maxTicketsPerBooking: 0 },
    { availableTickets: 1 },
  ].map(
    (patch): Case => ({
      name: `create with ${JSON.stringify(patch).slice(0, 40)}`,
      method: 'POST',
      path: () => '/events',
      headers: adminHeaders,
      body: JSON.stringify({ ...goodEvent, ...patch }),
      status: 400,
      error: 'invalid_request',
    }),
  ),
];

describe('bad input over HTTP: a clear 4xx, the error shape, and an untouched inventory', () => {
  const tmp = tempDir();
  let server: Awaited<ReturnType<typeof startApp>>;
  let eventId: string;
  let before: string;

  beforeAll(async () => {
    server = await startApp({ store: new SqliteStore(`${tmp.dir}/bad-input.db`) });
    const res = await request(`${server.url}/events`, { method: 'POST', headers: adminHeaders, body: JSON.stringify({ ...goodEvent, totalTickets: 100 }) });
    eventId = ((await res.body.json()) as { id: string }).id;
    before = await (await request(`${server.url}/events`)).body.text();
  });
  afterAll(async () => {
    // Nothing any bad request did reached the inventory.
    expect(await (await request(`${server.url}/events`)).body.text()).toBe(before);
    expect(await server.store.countTickets(eventId)).toBe(0);
    expect(await server.store.listEvents()).toHaveLength(1);
    await server.close();
    tmp.cleanup();
  });

  it.each([...cases, ...eventCases])('$name → $status $error', async (c) => {
    const res = await request(`${server.url}${c.path(eventId)}`, { method: c.method, headers: c.headers, body: c.body });
    const text = await res.body.text();
    expect(res.statusCode, text).toBe(c.status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['error', 'message']);
    expect(body.error).toBe(c.error);
    expect(typeof body.message).toBe('string');
    expect((body.message as string).length).toBeGreaterThan(10);
    // No stack traces or file paths leak into answers.
    expect(text).not.toMatch(/\bat \w|node_modules|\/src\//);
  });
});

describe('bad input to the check-in routes: a clear 4xx, the error shape, nothing admitted (issue 14)', () => {
  let server: Awaited<ReturnType<typeof startApp>>;
  let eventId: string;
  let door: string;
  let code: string;

  beforeAll(async () => {
    server = await startApp();
    const res = await request(`${server.url}/events`, { method: 'POST', headers: adminHeaders, body: JSON.stringify({ ...goodEvent, totalTickets: 10, offlineCheckIn: true }) });
    eventId = ((await res.body.json()) as { id: string }).id;
    const booked = await request(`${server.url}/events/${eventId}/bookings`, { method: 'POST', headers: json, body: '{"tickets":1}' });
    code = ((await booked.body.json()) as { tickets: Array<{ code: string }> }).tickets[0]!.code;
    const made = await request(`${server.url}/events/${eventId}/doors`, { method: 'POST', headers: adminHeaders, body: '{"name":"Main door"}' });
    door = ((await made.body.json()) as { token: string }).token;
  });
  afterAll(async () => {
    const event = (await (await request(`${server.url}/events/${eventId}`)).body.json()) as { checkedInTickets: number };
    expect(event.checkedInTickets).toBe(0);
    await server.close();
  });

  type DoorCase = { name: string; method: 'POST' | 'PUT' | 'GET'; path: (id: string) => string; auth: 'door' | 'admin' | 'none'; body?: (code: string) => string; status: number; error: string };
  const scan = (id: string) => `/events/${id}/checkins`;
  const sync = (id: string) => `/events/${id}/checkins/sync`;
  const doorCases: DoorCase[] = [
    { name: 'scan without a body', method: 'POST', path: scan, auth: 'door', body: () => '', status: 400, error: 'invalid_request' },
    { name: 'scan without a nonce', method: 'POST', path: scan, auth: 'door', body: (c) => JSON.stringify({ code: c }), status: 400, error: 'invalid_request' },
    { name: 'scan with a 15-character nonce', method: 'POST', path: scan, auth: 'door', body: (c) => JSON.stringify({ code: c, nonce: 'x'.repeat(15) }), status: 400, error: 'invalid_request' },
    { name: 'scan with a 65-character nonce', method: 'POST', path: scan, auth: 'door', body: (c) => JSON.stringify({ code: c, nonce: 'x'.repeat(65) }), status: 400, error: 'invalid_request' },
    { name: 'scan with a nonce holding a space', method: 'POST', path: scan, auth: 'door', body: (c) => JSON.stringify({ code: c, nonce: 'nonce with spaces ok?' }), status: 400, error: 'invalid_request' },
    { name: 'scan with a numeric code', method: 'POST', path: scan, auth: 'door', body: () => '{"code":12345,"nonce":"0123456789abcdef"}', status: 400, error: 'invalid_request' },
    { name: 'scan with an empty code', method: 'POST', path: scan, auth: 'door', body: () => '{"code":"","nonce":"0123456789abcdef"}', status: 400, error: 'invalid_code' },
    { name: 'scan with an unknown field', method: 'POST', path: scan, auth: 'door', body: (c) => JSON.stringify({ code: c, nonce: '0123456789abcdef', admit: true }), status: 400, error: 'invalid_request' },
    { name: 'scan with the code lower-cased', method: 'POST', path: scan, auth: 'door', body: (c) => JSON.stringify({ code: c.toLowerCase(), nonce: '0123456789abcdef' }), status: 400, error: 'invalid_code' },
    { name: 'scan on a malformed event id', method: 'POST', path: () => scan('not-a-uuid'), auth: 'door', body: (c) => JSON.stringify({ code: c, nonce: '0123456789abcdef' }), status: 403, error: 'wrong_event' },
    { name: 'scan with the admin token', method: 'POST', path: scan, auth: 'admin', body: (c) => JSON.stringify({ code: c, nonce: '0123456789abcdef' }), status: 401, error: 'unauthorized' },
    { name: 'sync with no scans', method: 'POST', path: sync, auth: 'door', body: () => '{"scans":[]}', status: 400, error: 'invalid_request' },
    { name: 'sync with 1,001 scans', method: 'POST', path: sync, auth: 'door', body: (c) => JSON.stringify({ scans: Array.from({ length: 1001 }, (_, i) => ({ code: c, nonce: `n-${String(i).padStart(14, '0')}`, scannedAt: '2027-01-01T20:00:00Z' })) }), status: 400, error: 'invalid_request' },
    { name: 'sync without scannedAt', method: 'POST', path: sync, auth: 'door', body: (c) => JSON.stringify({ scans: [{ code: c, nonce: '0123456789abcdef' }] }), status: 400, error: 'invalid_request' },
    { name: 'sync with a scannedAt without a zone', method: 'POST', path: sync, auth: 'door', body: (c) => JSON.stringify({ scans: [{ code: c, nonce: '0123456789abcdef', scannedAt: '2027-01-01T20:00:00' }] }), status: 400, error: 'invalid_request' },
    { name: 'sync with scans as an object', method: 'POST', path: sync, auth: 'door', body: () => '{"scans":{"0":1}}', status: 400, error: 'invalid_request' },
    { name: 'door with a name of 61 characters', method: 'POST', path: (id) => `/events/${id}/doors`, auth: 'admin', body: () => JSON.stringify({ name: 'd'.repeat(61) }), status: 400, error: 'invalid_request' },
    { name: 'door with ESC in the name', method: 'POST', path: (id) => `/events/${id}/doors`, auth: 'admin', body: () => JSON.stringify({ name: 'Door \u001b[2J' }), status: 400, error: 'invalid_request' },
    { name: 'door on an unknown event', method: 'POST', path: () => `/events/${unknownId}/doors`, auth: 'admin', body: () => '{"name":"Door"}', status: 404, error: 'event_not_found' },
    { name: 'settings with a string', method: 'PUT', path: (id) => `/events/${id}/checkin-settings`, auth: 'admin', body: () => '{"offlineCheckIn":"yes"}', status: 400, error: 'invalid_request' },
    { name: 'settings without the token', method: 'PUT', path: (id) => `/events/${id}/checkin-settings`, auth: 'none', body: () => '{"offlineCheckIn":false}', status: 401, error: 'unauthorized' },
    { name: 'door list without a token', method: 'GET', path: (id) => `/events/${id}/door-list`, auth: 'none', status: 401, error: 'unauthorized' },
  ];

  it.each(doorCases)('$name → $status $error', async (c) => {
    const headers: Record<string, string> = { ...(c.body ? json : {}) };
    if (c.auth === 'door') headers.authorization = `Bearer ${door}`;
    if (c.auth === 'admin') headers.authorization = `Bearer ${ADMIN_TOKEN}`;
    const res = await request(`${server.url}${c.path(eventId)}`, { method: c.method, headers, body: c.body?.(code) });
    const text = await res.body.text();
    expect(res.statusCode, text).toBe(c.status);
    const body = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['error', 'message']);
    expect(body.error).toBe(c.error);
    expect(text).not.toMatch(/\bat \w|node_modules|\/src\//);
  });
});
