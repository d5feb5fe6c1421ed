import { afterEach, describe, expect, it } from 'vitest';
import { parseTrustProxy, type TrustProxy } from '../../src/http/trust-proxy.js';
import { startApp } from '../helpers/app.js';
import { rawRequest, type RawExchange } from '../helpers/raw-http.js';

/**
 * Issue 15, item 4: behind a proxy the client's address is the rightmost X-Forwarded-For entry not
 * written by a trusted proxy. The leftmost entry is whatever the client wrote, so trusting it let one
 * client pose as endless others (no 429 ever) or as a victim (the victim refused).
 */

/** A request whose body is held back, so it keeps its client's one upload place (and, before, a slot). */
function held(port: number, forwardedFor: string, from?: string): RawExchange {
  return rawRequest(
    port,
    `POST /noop HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: ${forwardedFor}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n`,
    from,
  );
}

/** 429 if refused within 600 ms, else 'pending' (still admitted and waiting for its body). */
async function outcome(exchange: RawExchange): Promise<number | 'pending'> {
  const status = await Promise.race([exchange.answer.then((a) => a.status), new Promise<'pending'>((r) => setTimeout(() => r('pending'), 600))]);
  exchange.socket.destroy();
  return status;
}

describe('--trust-proxy trusts only the proxy', () => {
  let server: Awaited<ReturnType<typeof startApp>> | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  // One request at a time per client, so two requests from one client show up as one refusal.
  const oneEach = (trustProxy: TrustProxy) => startApp({ config: { maxInFlightPerClient: 1, maxUploadsPerClient: 1, trustProxy } });

  it('a client cannot pose as others by writing addresses in front of the one the proxy appended', async () => {
    server = await oneEach(true);
    // The proxy on 127.0.0.1 appended 10.0.0.9, the address it saw; the client wrote the rest.
    const both = await Promise.all([outcome(held(server.port, '1.1.1.1, 10.0.0.9')), outcome(held(server.port, '2.2.2.2, 10.0.0.9'))]);
    expect(both.sort()).toEqual([429, 'pending']);
  });

  it("a client cannot frame a victim by writing the victim's address", async () => {
    server = await oneEach(true);
    const attacker = held(server.port, '10.0.0.7, 10.0.0.66');
    await new Promise((r) => setTimeout(r, 100));
    const victim = held(server.port, '10.0.0.7');
    expect(await Promise.all([outcome(attacker), outcome(victim)])).toEqual(['pending', 'pending']);
  });

  it('with a hop count, the entry that many proxies back is the client', async () => {
    server = await oneEach(2);
    // 127.0.0.1 is the second proxy; 10.0.0.50 the first, which appended the client 10.0.0.9.
    const both = await Promise.all([
      outcome(held(server.port, 'forged-a, 10.0.0.9, 10.0.0.50')),
      outcome(held(server.port, '3.3.3.3, 10.0.0.9, 10.0.0.50')),
    ]);
    expect(both.sort()).toEqual([429, 'pending']);
  });

  it('a client not on the proxy list is keyed on its socket and keeps its socket allowance; the proxy has none', async () => {
    server = await startApp({ config: { trustProxy: '127.0.0.1', maxConnectionsPerClient: 3 } });
    const ask = async (from: string, forwardedFor: string) => {
      const sockets = Array.from({ length: 6 }, () => rawRequest(server!.port, '', from));
      await Promise.all(sockets.map((s) => new Promise((r) => s.socket.once('connect', r))));
      await new Promise((r) => setTimeout(r, 100));
      for (const s of sockets) s.socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: ${forwardedFor}\r\n\r\n`);
      const statuses = await Promise.all(sockets.map((s) => s.answer.then((a) => a.status)));
      for (const s of sockets) s.socket.destroy();
      return statuses.sort();
    };
    expect(await ask('127.0.0.2', '10.0.0.1')).toEqual([200, 200, 200, 429, 429, 429]);
    expect(await ask('127.0.0.1', '10.0.0.1')).toEqual([200, 200, 200, 200, 200, 200]);
  });

  it('the flag takes a hop count or proxy addresses and refuses anything else', () => {
    expect(parseTrustProxy('1')).toBe(1);
    expect(parseTrustProxy('10.0.0.5, 10.0.1.0/24,loopback')).toEqual(['10.0.0.5', '10.0.1.0/24', 'loopback']);
    for (const bad of ['0', '33', 'proxy.example', '10.0.0.0/99', ',', '-1']) expect(() => parseTrustProxy(bad)).toThrow();
  });
});
