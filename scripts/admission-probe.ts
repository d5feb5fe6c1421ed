/**
 * Attacks a running server from outside over loopback, the ways issue 15 (items 1, 2, 4, 7)
 * describes, and prints what each side got:
 *
 *   node --import tsx scripts/admission-probe.ts burst  http://127.0.0.1:8080   # 1,000 sockets from one address
 *   node --import tsx scripts/admission-probe.ts forged http://127.0.0.1:8080   # random X-Forwarded-For through a proxy
 *   node --import tsx scripts/admission-probe.ts frame  http://127.0.0.1:8080   # framing a victim's address
 *   node --import tsx scripts/admission-probe.ts slow   http://127.0.0.1:8080   # 9 addresses × 64 bodies at 1 byte/s
 *   node --import tsx scripts/admission-probe.ts leak   http://127.0.0.1:8080   # 16 addresses × 72 pipelining sockets that die (item 1)
 *
 * `forged` and `frame` stand in for a proxy on 127.0.0.1 that appends the address it saw, as nginx's
 * `$proxy_add_x_forwarded_for` does; start the server with `--trust-proxy` for them.
 */
import { connect } from 'node:net';
import { Agent, request } from 'undici';

const ADMIN = process.env.BOXOFFICE_ADMIN_TOKEN ?? '';
const [mode, url = 'http://127.0.0.1:8080'] = process.argv.slice(2);
const { hostname, port } = new URL(url);

async function createEvent(total: number): Promise<string> {
  const res = await request(`${url}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Probe', date: '2027-06-01T20:00:00Z', totalTickets: total, maxTicketsPerBooking: 10 }),
  });
  const body = (await res.body.json()) as { id?: string };
  if (!body.id) throw new Error(`create event: ${res.statusCode} ${JSON.stringify(body)}`);
  return body.id;
}

function tally(into: Map<string, number>, key: string | number): void {
  into.set(String(key), (into.get(String(key)) ?? 0) + 1);
}

/** One request per fresh socket from `from`, all at once; a socket error counts by its code. */
async function burst(eventId: string, count: number, from: string): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  await Promise.all(
    Array.from({ length: count }, async () => {
      const dispatcher = new Agent({ connect: { localAddress: from }, connections: 1, pipelining: 0 });
      try {
        const res = await request(`${url}/events/${eventId}/bookings`, {
          method: 'POST',
          dispatcher,
          headers: { 'content-type': 'application/json' },
          body: '{"tickets":1}',
        });
        await res.body.dump();
        tally(seen, res.statusCode);
      } catch (err) {
        const e = err as { code?: string; cause?: { code?: string } };
        tally(seen, e.cause?.code ?? e.code ?? 'error');
      } finally {
        void dispatcher.destroy();
      }
    }),
  );
  return seen;
}

/** `workers` keep-alive loops for `seconds`, each request claiming the forwarded chain `chain()`. */
async function flood(eventId: string, seconds: number, workers: number, chain: () => string): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  const dispatcher = new Agent({ connections: workers });
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (Date.now() < until) {
        const res = await request(`${url}/events/${eventId}/bookings`, {
          method: 'POST',
          dispatcher,
          headers: { 'content-type': 'application/json', 'x-forwarded-for': chain() },
          body: '{"tickets":1}',
        });
        await res.body.dump();
        tally(seen, res.statusCode);
      }
    }),
  );
  await dispatcher.close();
  return seen;
}

const randomIp = () => Array.from({ length: 4 }, () => Math.floor(Math.random() * 250) + 1).join('.');
const print = (label: string, seen: Map<string, number>) =>
  console.log(`${label}: ${[...seen].sort().map(([k, v]) => `${v} × ${k}`).join(', ')}`);

/** A socket that sends /healthz and four pipelined requests, then dies before reading any answer. */
function pipelineAndDie(from: string, eventId: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port), localAddress: from });
    const get = `GET /events/${eventId} HTTP/1.1\r\nHost: x\r\n\r\n`;
    const noop = 'POST /noop HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}';
    socket.on('connect', () => {
      socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n${get}${noop}${get}${noop}`);
      socket.destroy();
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve());
  });
}

async function inFlightGauge(): Promise<string> {
  const res = await request(`${url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } });
  const text = await res.body.text();
  return /^boxoffice_http_requests_in_flight (\d+)/m.exec(text)?.[1] ?? `(metrics answered ${res.statusCode})`;
}

if (mode === 'leak') {
  const eventId = await createEvent(1_000_000);
  for (let round = 0; round < 72; round++) {
    await Promise.all(Array.from({ length: 16 }, (_, i) => pipelineAndDie(`127.0.0.${10 + i}`, eventId)));
  }
  await new Promise((r) => setTimeout(r, 3000));
  console.log(`in flight 3 s after 16 addresses × 72 dying sockets: ${await inFlightGauge()}`);
  const buyer = new Map<string, number>();
  for (let i = 0; i < 20; i++) {
    const res = await request(`${url}/events/${eventId}/bookings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tickets":1}' });
    await res.body.dump();
    tally(buyer, res.statusCode);
  }
  print('a fresh buyer, 20 bookings', buyer);
} else if (mode === 'burst') {
  const eventId = await createEvent(1_000_000);
  print('1,000 concurrent requests from 127.0.0.5', await burst(eventId, 1000, '127.0.0.5'));
} else if (mode === 'forged') {
  const eventId = await createEvent(10_000_000);
  // The attacker (127.0.0.9) writes a random address; the proxy appends the one it saw.
  print('forged X-Forwarded-For, 200 loops, 10 s', await flood(eventId, 10, 200, () => `${randomIp()}, 127.0.0.9`));
  print('honest X-Forwarded-For, 200 loops, 10 s', await flood(eventId, 10, 200, () => '127.0.0.9'));
} else if (mode === 'frame') {
  const eventId = await createEvent(10_000_000);
  const victim = '203.0.113.7';
  let victimTries = 0;
  const victimSeen = new Map<string, number>();
  const attack = flood(eventId, 6, 100, () => `${victim}, 127.0.0.9`);
  await new Promise((r) => setTimeout(r, 1000));
  for (; victimTries < 20; victimTries++) {
    const res = await request(`${url}/events/${eventId}/bookings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': victim },
      body: '{"tickets":1}',
    });
    await res.body.dump();
    tally(victimSeen, res.statusCode);
    await new Promise((r) => setTimeout(r, 200));
  }
  print('attacker claiming to be the victim', await attack);
  print('the victim, 20 tries', victimSeen);
} else if (mode === 'slow') {
  const eventId = await createEvent(1_000_000);
  const sockets = [];
  const answers = new Map<string, number>();
  for (let a = 0; a < 9; a++) {
    for (let i = 0; i < 64; i++) {
      const socket = connect({ host: hostname, port: Number(port), localAddress: `127.0.0.${20 + a}` });
      socket.on('error', () => {});
      socket.once('data', (chunk) => tally(answers, chunk.toString('latin1').split(' ')[1] ?? '?'));
      socket.write(`POST /events/${eventId}/bookings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n`);
      const body = '{"tickets":1}';
      let sent = 0;
      const timer = setInterval(() => (sent < body.length && !socket.destroyed ? socket.write(body[sent++]!) : clearInterval(timer)), 1000);
      sockets.push(socket);
    }
  }
  await new Promise((r) => setTimeout(r, 1500));
  const buyer = new Agent({ connect: { localAddress: '127.0.0.3' } });
  const buyerSeen = new Map<string, number>();
  const started = Date.now();
  for (let i = 0; i < 21; i++) {
    const res = await request(`${url}/events/${eventId}/bookings`, {
      method: 'POST',
      dispatcher: buyer,
      headers: { 'content-type': 'application/json' },
      body: '{"tickets":1}',
    });
    await res.body.dump();
    tally(buyerSeen, res.statusCode);
    await new Promise((r) => setTimeout(r, 500));
  }
  print(`a buyer on 127.0.0.3, 21 tries over ${((Date.now() - started) / 1000).toFixed(1)} s`, buyerSeen);
  await new Promise((r) => setTimeout(r, 5000));
  print('first answers to the 576 slow bodies so far', answers);
  for (const s of sockets) s.destroy();
  await buyer.close();
} else {
  console.error('usage: admission-probe.ts burst|forged|frame|slow|leak <url>');
  process.exit(2);
}
