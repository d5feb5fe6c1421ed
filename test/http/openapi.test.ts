import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../helpers/app.js';

/** Every route of the API, as the README documents it. */
const API_ROUTES = [
  ['get', '/events'],
  ['post', '/events'],
  ['get', '/events/{id}'],
  ['post', '/events/{id}/bookings'],
  ['post', '/events/{id}/holds'],
  ['get', '/events/stream'],
  ['get', '/holds/{id}'],
  ['post', '/holds/{id}/confirm'],
  ['delete', '/holds/{id}'],
  ['get', '/bookings/{id}'],
  ['delete', '/bookings/{id}'],
  ['get', '/tickets/{id}'],
  ['post', '/reserve'],
  ['get', '/healthz'],
  ['get', '/readyz'],
  ['get', '/metrics'],
  ['post', '/noop'],
  ['post', '/events/{id}/doors'],
  ['get', '/events/{id}/doors'],
  ['delete', '/events/{id}/doors/{doorId}'],
  ['put', '/events/{id}/checkin-settings'],
  ['post', '/events/{id}/checkins'],
  ['get', '/events/{id}/checkins'],
  ['post', '/events/{id}/checkins/sync'],
  ['get', '/events/{id}/door-list'],
  ['get', '/doors/self'],
  ['get', '/events/{id}/attendees.csv'],
  ['patch', '/events/{id}'],
  ['post', '/events/{id}/cancel'],
  ['get', '/events/{id}/bookings'],
  ['post', '/events/{id}/queue'],
  ['get', '/events/{id}/queue/{entryId}'],
  ['get', '/events/{id}/queue'],
  ['post', '/events/{id}/queue/pause'],
  ['post', '/events/{id}/queue/resume'],
] as const;

type Operation = { summary?: string; responses: Record<string, { content?: Record<string, { schema: unknown }> }>; parameters?: Array<{ in: string; name: string }> };

describe('GET /openapi.json', () => {
  let server: Awaited<ReturnType<typeof startApp>>;
  let doc: { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };
  beforeAll(async () => {
    server = await startApp();
    const res = await fetch(`${server.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    doc = (await res.json()) as typeof doc;
  });
  afterAll(() => server.close());

  it('is an OpenAPI 3 document with the domain schemas as components', () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.components.schemas).sort()).toEqual(['Booking', 'Door', 'Error', 'Event', 'FirstCheckIn', 'Hold', 'ScanResult', 'Ticket']);
  });

  it('describes every API route, each with a summary, and nothing that is not an API route', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`));
    expect(documented.sort()).toEqual(API_ROUTES.map(([m, p]) => `${m} ${p}`).sort());
    for (const [method, path] of API_ROUTES) expect(doc.paths[path]![method]!.summary, `${method} ${path}`).toBeTruthy();
  });

  it('every documented route really exists on the server', () => {
    for (const [method, path] of API_ROUTES) {
      expect(server.app.hasRoute({ method: method.toUpperCase() as 'GET', url: path.replace(/\{(\w+)\}/g, ':$1') }), `${method} ${path}`).toBe(true);
    }
  });

  it('documents the Idempotency-Key header and the error answers where they apply', () => {
    for (const path of ['/events/{id}/bookings', '/events/{id}/holds', '/reserve']) {
      expect(doc.paths[path]!.post!.parameters?.some((p) => p.in === 'header' && p.name === 'idempotency-key'), path).toBe(true);
      expect(doc.paths[path]!.post!.responses['422'], path).toBeDefined();
    }
    expect(doc.paths['/holds/{id}/confirm']!.post!.responses['410']).toBeDefined();
    expect(doc.paths['/bookings/{id}']!.delete!.responses['403']).toBeDefined();
    expect(JSON.stringify(doc.paths['/events/{id}/holds']!.post!.responses['201'])).toContain('#/components/schemas/Hold');
  });
});
