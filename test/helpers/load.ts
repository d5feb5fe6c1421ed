import { connect as netConnect } from 'node:net';
import { Pool } from 'undici';
import { adminHeaders } from './app.js';

export interface BookingResult {
  status: number;
  /** Ticket ids acknowledged by a 2xx answer. */
  ticketIds: string[];
  error?: string;
  requested: number;
}

/** Creates an event through the API with the admin token of the test helpers. */
export async function createEventVia(url: string, totalTickets: number, token = adminHeaders.authorization.slice(7)): Promise<string> {
  const res = await fetch(`${url}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `Load ${totalTickets}`, date: '2027-06-01T20:00:00Z', totalTickets, maxTicketsPerBooking: 10 }),
  });
  if (res.status !== 201) throw new Error(`create event: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

/**
 * Sends `count` bookings of 1–`maxTickets` tickets round-robin over the given servers, each server
 * through its own keep-alive pool of `connectionsPerServer` sockets, alternating the REST and the
 * original API. A request that fails at the socket level is reported with status 0.
 */
export async function bookConcurrently(options: {
  urls: string[];
  eventId: string;
  count: number;
  connectionsPerServer: number;
  maxTickets?: number;
}): Promise<BookingResult[]> {
  const pools = options.urls.map((url) => new Pool(url, { connections: options.connectionsPerServer }));
  try {
    return await Promise.all(
      Array.from({ length: options.count }, async (_, i): Promise<BookingResult> => {
        const pool = pools[i % pools.length]!;
        const n = 1 + (i % (options.maxTickets ?? 3));
        const legacy = i % 2 === 0;
        try {
          const res = await pool.request(
            legacy
              ? { method: 'POST', path: `/reserve?eventId=${options.eventId}&tickets=${n}` }
              : {
                  method: 'POST',
                  path: `/events/${options.eventId}/bookings`,
                  headers: { 'content-type': 'application/json' },
                  body: JSON.stringify({ tickets: n }),
                },
          );
          const body = (await res.body.json()) as unknown;
          if (res.statusCode === 200) return { status: 200, ticketIds: body as string[], requested: n };
          if (res.statusCode === 201) return { status: 201, ticketIds: (body as { tickets: Array<{ id: string }> }).tickets.map((t) => t.id), requested: n };
          return { status: res.statusCode, ticketIds: [], error: (body as { error?: string }).error, requested: n };
        } catch (err) {
          return { status: 0, ticketIds: [], error: (err as Error).message, requested: n };
        }
      }),
    );
  } finally {
    await Promise.all(pools.map((p) => p.close()));
  }
}

export function summarize(results: BookingResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) {
    const key = r.error ? `${r.status} ${r.error}` : String(r.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/**
 * A keep-alive pool whose sockets all come from `localAddress` (127.0.0.2, 127.0.0.3, …), so one
 * machine can play several distinct buyers. undici's own connector does not pass localAddress on.
 */
export function poolFrom(url: string, localAddress: string, connections: number): Pool {
  const { hostname, port } = new URL(url);
  return new Pool(url, {
    connections,
    connect: (_options, callback) => {
      const socket = netConnect({ host: hostname, port: Number(port), localAddress });
      socket.setNoDelay(true);
      socket.once('connect', () => callback(null, socket));
      socket.once('error', (err) => callback(err, null));
      return socket;
    },
  });
}
