import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, adminHeaders, startApp } from '../helpers/app.js';

type App = Awaited<ReturnType<typeof startApp>>;
let app: App | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** Sends a booking's headers with X-Forwarded-For and holds the body back; resolves with the status if one comes within `ms`. */
function heldRequest(port: number, forwardedFor: string, ms = 800): Promise<number | 'pending'> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write(
      `POST /noop HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: ${forwardedFor}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n`,
    );
    const timer = setTimeout(() => resolve('pending'), ms);
    socket.once('data', (chunk) => {
      clearTimeout(timer);
      resolve(Number(chunk.toString('latin1').split(' ')[1]));
    });
    setTimeout(() => socket.destroy(), ms + 200);
  });
}

describe('security', () => {
  it('sets security headers on answers and errors alike', async () => {
    app = await startApp();
    for (const url of ['/healthz', '/events', '/nowhere', `/events/${crypto.randomUUID()}`]) {
      const res = await app.app.inject({ method: 'GET', url });
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('answers written before routing (HTTP parser, Expect) carry the same security headers', async () => {
    app = await startApp();
    for (const bytes of ['GARBAGE\r\n\r\n', 'GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nConnection: close\r\n\r\n']) {
      const head = await new Promise<string>((resolve) => {
        const socket = connect(app!.port, '127.0.0.1');
        let data = '';
        socket.on('data', (c) => (data += c.toString('latin1')));
        socket.on('close', () => resolve(data.split('\r\n\r\n')[0]!.toLowerCase()));
        socket.on('error', () => resolve(data.toLowerCase()));
        socket.write(bytes);
        setTimeout(() => socket.destroy(), 2000);
      });
      expect(head).toMatch(/^http\/1\.1 4\d\d/);
      expect(head).toContain('x-content-type-options: nosniff');
      expect(head).toContain('cache-control: no-store');
      expect(head).toContain('x-frame-options: deny');
    }
  });

  it('CORS is off unless an origin is named, and then only for that origin', async () => {
    app = await startApp();
    const off = await app.app.inject({ method: 'GET', url: '/events', headers: { origin: 'https://evil.example' } });
    expect(off.headers['access-control-allow-origin']).toBeUndefined();
    await app.close();

    app = await startApp({ config: { corsOrigin: 'https://tickets.example' } });
    const allowed = await app.app.inject({ method: 'GET', url: '/events', headers: { origin: 'https://tickets.example' } });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://tickets.example');
    const other = await app.app.inject({ method: 'GET', url: '/events', headers: { origin: 'https://evil.example' } });
    expect(other.headers['access-control-allow-origin']).not.toBe('https://evil.example');
    const preflight = await app.app.inject({
      method: 'OPTIONS',
      url: '/events',
      headers: { origin: 'https://tickets.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(preflight.statusCode).toBeLessThan(300);
    expect(String(preflight.headers['access-control-allow-headers'])).toMatch(/authorization/);
  });

  it('the admin token works only as a Bearer header, never from the query string or a cookie', async () => {
    app = await startApp();
    const body = JSON.stringify({ name: 'X', date: '2027-01-01T00:00:00Z', totalTickets: 1 });
    const json = { 'content-type': 'application/json' };
    const attempts = [
      { url: `/events?token=${ADMIN_TOKEN}`, headers: json },
      { url: `/events?access_token=${ADMIN_TOKEN}`, headers: json },
      { url: '/events', headers: { ...json, cookie: `token=${ADMIN_TOKEN}` } },
      { url: '/events', headers: { ...json, authorization: ADMIN_TOKEN } },
      { url: '/events', headers: { ...json, authorization: `Bearer ${ADMIN_TOKEN}x` } },
      { url: '/events', headers: { ...json, authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` } },
    ];
    for (const a of attempts) {
      const res = await app.app.inject({ method: 'POST', url: a.url, headers: a.headers, payload: body });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    expect((await app.app.inject({ method: 'POST', url: '/events', headers: adminHeaders, payload: body })).statusCode).toBe(201);
    expect(await app.store.listEvents()).toHaveLength(1);
  });

  it('per-client limits key on the socket address, and on X-Forwarded-For only with trustProxy', async () => {
    app = await startApp({ config: { maxInFlightPerClient: 1, maxUploadsPerClient: 1 } });
    // Without trust, both requests come from 127.0.0.1 whatever they claim: the second is refused.
    const [first, second] = await Promise.all([heldRequest(app.port, '10.0.0.1'), heldRequest(app.port, '10.0.0.2')]);
    expect([first, second].sort()).toEqual([429, 'pending']);
    await app.close();

    app = await startApp({ config: { maxInFlightPerClient: 1, maxUploadsPerClient: 1, trustProxy: true } });
    const both = await Promise.all([heldRequest(app.port, '10.0.0.1'), heldRequest(app.port, '10.0.0.2')]);
    expect(both).toEqual(['pending', 'pending']);
    // The same forwarded client twice is still one client.
    const same = await Promise.all([heldRequest(app.port, '10.0.0.3'), heldRequest(app.port, '10.0.0.3')]);
    expect(same.sort()).toEqual([429, 'pending']);
  });
});
