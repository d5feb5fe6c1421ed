import { Pool } from 'undici';

/** A door racing through codes over its own connections; every answer recorded. */
export interface ScanAnswer {
  ticketId: string;
  nonce: string;
  status: number;
  body: { outcome?: string; error?: string; ticket?: { id: string } };
}

export interface Sold {
  eventId: string;
  tickets: Array<{ id: string; code: string }>;
}

async function json(method: string, url: string, body: unknown, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** An event of `tickets` tickets, all sold in bookings of `perBooking`, with their codes. */
export async function sellOut(url: string, adminToken: string, tickets: number, perBooking = 50, extra: object = {}): Promise<Sold> {
  const created = await json('POST', `${url}/events`, { name: 'Door night', date: '2027-06-01T20:00:00Z', totalTickets: tickets, maxTicketsPerBooking: perBooking, ...extra }, adminToken);
  if (created.status !== 201) throw new Error(`create event: ${created.status} ${JSON.stringify(created.body)}`);
  const eventId = created.body.id as string;
  const sold: Sold['tickets'] = [];
  const pool = new Pool(url, { connections: 8 });
  try {
    const bookings = Array.from({ length: Math.ceil(tickets / perBooking) }, (_, i) => Math.min(perBooking, tickets - i * perBooking));
    for (let i = 0; i < bookings.length; i += 8) {
      const answers = await Promise.all(
        bookings.slice(i, i + 8).map(async (n) => {
          const res = await pool.request({ method: 'POST', path: `/events/${eventId}/bookings`, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tickets: n }) });
          const body = (await res.body.json()) as { tickets: Array<{ id: string; code: string }> };
          if (res.statusCode !== 201) throw new Error(`book: ${res.statusCode} ${JSON.stringify(body)}`);
          return body.tickets;
        }),
      );
      for (const t of answers.flat()) sold.push({ id: t.id, code: t.code });
    }
  } finally {
    await pool.close();
  }
  return { eventId, tickets: sold };
}

export async function createDoors(url: string, adminToken: string, eventId: string, count: number): Promise<Array<{ id: string; name: string; token: string }>> {
  const doors = [];
  for (let i = 0; i < count; i++) {
    const res = await json('POST', `${url}/events/${eventId}/doors`, { name: `Door ${i + 1}` }, adminToken);
    if (res.status !== 201) throw new Error(`create door: ${res.status}`);
    doors.push(res.body);
  }
  return doors;
}

/** A deterministic shuffle (each door walks the crowd in its own order). */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = items.slice();
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1_103_515_245 + 12_345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * One door scanning `tickets` in order over its own `connections` sockets, `inFlight` scans at a
 * time. Network failures are recorded as status 0 (the kill -9 test cuts them off on purpose).
 */
export async function scanAll(options: {
  url: string;
  eventId: string;
  token: string;
  tickets: ReadonlyArray<{ id: string; code: string }>;
  connections?: number;
  inFlight?: number;
  onAnswer?: (answer: ScanAnswer) => void;
  stop?: () => boolean;
}): Promise<ScanAnswer[]> {
  const pool = new Pool(options.url, { connections: options.connections ?? 2, pipelining: 1 });
  const answers: ScanAnswer[] = [];
  let next = 0;
  const worker = async () => {
    for (;;) {
      if (options.stop?.()) return;
      const ticket = options.tickets[next++];
      if (!ticket) return;
      const nonce = crypto.randomUUID();
      let answer: ScanAnswer;
      try {
        const res = await pool.request({
          method: 'POST',
          path: `/events/${options.eventId}/checkins`,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
          body: JSON.stringify({ code: ticket.code, nonce }),
        });
        answer = { ticketId: ticket.id, nonce, status: res.statusCode, body: (await res.body.json()) as ScanAnswer['body'] };
      } catch {
        answer = { ticketId: ticket.id, nonce, status: 0, body: {} };
      }
      answers.push(answer);
      options.onAnswer?.(answer);
    }
  };
  await Promise.all(Array.from({ length: options.inFlight ?? 4 }, worker));
  await pool.destroy();
  return answers;
}
