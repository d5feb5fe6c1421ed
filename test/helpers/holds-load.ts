/**
 * A mixed issue-7 load (book, hold, confirm, release, cancel, keyed retries) over real sockets, and a
 * ledger of everything the server acknowledged, checked afterwards against the database itself.
 *
 * Every check that depends on time compares the server's `expiresAt` with this process's clock:
 * client and server run on the same machine, so they read the same clock. A request sent after
 * `expiresAt` was decided after it; an answer received before `expiresAt` was decided before it.
 */
import Database from 'better-sqlite3';
import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Pool } from 'undici';
import { buyerOf, scopedKey } from '../../src/core/identity.js';
import type { Booking, Event, Hold } from '../../src/core/types.js';
import { prng } from '../e2e/booking-load.js';
import { poolFrom } from './load.js';
import { TEST_ADMIN_TOKEN } from './server-process.js';
import { eventTotalsSelect } from '../../src/store/postgres/escrow.js';

/**
 * Slack for comparisons between a client-side instant and a server-made `expiresAt` (ms precision
 * on both sides, one clock): small enough that a real early or late decision still shows.
 */
export const CLOCK_SLACK_MS = 50;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

export interface Answer {
  status: number;
  body: any;
  /** `Idempotent-Replayed: true` was on the answer. */
  replayed: boolean;
  /** Just before the request was handed to undici: the server decided after this. */
  sentAt: number;
  /** When the whole answer had arrived: the server decided before this. */
  receivedAt: number;
  node: number;
  /** Connection-level failure (status 0). */
  error?: string;
}

/** Every client address a NodeClient sent from (keys are stored per address). */
const usedAddresses = new Set<string>();

/** Hold id → index of the address that made it (the same address list on every node). */
const holdMakers = new Map<string, number>();

/** One server as the load sees it: keep-alive pools from several loopback addresses (distinct clients). */
export class NodeClient {
  readonly pools: Pool[];
  private turn = 0;

  constructor(
    readonly url: string,
    readonly index: number,
    addresses: readonly string[],
    connectionsPerAddress: number,
  ) {
    for (const a of addresses) usedAddresses.add(a);
    this.pools = addresses.map((a) => poolFrom(url, a, connectionsPerAddress));
  }

  /**
   * Which address (client) sends a request: keys belong to the client that sent them, and only the
   * client that made a hold learns its booking's secret, so every copy of a keyed request goes from
   * the same address (on every node), and a hold's confirms and releases from the address that made it.
   */
  private clientFor(path: string, key: string | undefined): number {
    const hold = /^\/holds\/([^/]+)/.exec(path)?.[1];
    const maker = hold === undefined ? undefined : holdMakers.get(hold);
    if (maker !== undefined && maker < this.pools.length) return maker;
    if (key !== undefined) return createHash('sha256').update(key).digest()[0]! % this.pools.length;
    return this.turn++ % this.pools.length;
  }

  async send(method: 'GET' | 'POST' | 'DELETE', path: string, options: { headers?: Record<string, string>; body?: unknown } = {}): Promise<Answer> {
    const pool = this.pools[this.clientFor(path, options.headers?.['idempotency-key'])]!;
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const sentAt = Date.now();
    try {
      const res = await pool.request({ method, path, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
      const text = await res.body.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text, the caller's checks will say so
      }
      if (method === 'POST' && /\/holds$/.test(path) && res.statusCode < 300) holdMakers.set((body as Hold).id, this.pools.indexOf(pool));
      return { status: res.statusCode, body, replayed: res.headers['idempotent-replayed'] === 'true', sentAt, receivedAt: Date.now(), node: this.index };
    } catch (err) {
      return { status: 0, body: undefined, replayed: false, sentAt, receivedAt: Date.now(), node: this.index, error: (err as Error).message };
    }
  }

  close(): Promise<void> {
    return Promise.all(this.pools.map((p) => p.close())).then(() => undefined);
  }
}

/** Loopback addresses to spread clients over, so the per-client in-flight limit (64) is never reached. */
export const CLIENT_ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'] as const;

export async function createHoldEvent(url: string, options: { totalTickets: number; holdSeconds: number; maxTicketsPerBooking?: number; name?: string }): Promise<Event> {
  const res = await fetch(`${url}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: options.name ?? `holds ${options.totalTickets}/${options.holdSeconds}s`,
      date: '2027-06-01T20:00:00Z',
      totalTickets: options.totalTickets,
      maxTicketsPerBooking: options.maxTicketsPerBooking ?? 10,
      holdSeconds: options.holdSeconds,
      // The load stands for many buyers but comes from one loopback address,
      // so the per-buyer limits must not be what refuses it.
      maxHeldPerBuyer: options.totalTickets,
      maxTicketsPerBuyer: options.totalTickets,
    }),
  });
  const body = (await res.json()) as Event;
  if (res.status !== 201) throw new Error(`create event: ${res.status} ${JSON.stringify(body)}`);
  if (body.holdSeconds !== options.holdSeconds || body.heldTickets !== 0) throw new Error(`create event: unexpected ${JSON.stringify(body)}`);
  return body;
}

export async function getEvent(url: string, id: string): Promise<Event> {
  const res = await fetch(`${url}/events/${id}`);
  if (res.status !== 200) throw new Error(`GET /events/${id}: ${res.status}`);
  return (await res.json()) as Event;
}

export type HoldState = 'open' | 'confirmed' | 'released' | 'expired';

export interface TrackedHold {
  id: string;
  eventId: string;
  tickets: number;
  expiresAt: number;
  /** What we did to it and what the server answered; `open` = never touched, so it must expire. */
  state: HoldState;
  bookingId?: string;
}

export interface TrackedBooking {
  /** Undefined for tickets only ever acknowledged through POST /reserve (which shows no booking id). */
  id?: string;
  eventId: string;
  secret?: string;
  tickets: Map<string, 'valid' | 'cancelled'>;
}

/** Everything the server acknowledged, what we expect the database to say about it, and every surprise. */
export class Ledger {
  readonly bookings = new Map<string, TrackedBooking>();
  readonly holds = new Map<string, TrackedHold>();
  /** Ticket id → the booking (or `reserve:` owner) it was acknowledged for. */
  readonly ticketOwner = new Map<string, string>();
  readonly keys = new Set<string>();
  readonly statuses: Record<string, number> = {};
  readonly violations: string[] = [];
  readonly figures = {
    requests: 0,
    keyedRequests: 0,
    replays: 0,
    confirmed: 0,
    confirmReplays: 0,
    released: 0,
    lateRefusals: 0,
    cancelledTickets: 0,
    partialCancels: 0,
    fullCancels: 0,
    keyReuseRefusals: 0,
  };

  violation(message: string): void {
    if (this.violations.length < 200) this.violations.push(message);
  }

  /** Counts the answer and flags every 5xx or connection failure: none is acceptable anywhere. */
  note(label: string, a: Answer): void {
    this.figures.requests++;
    if (a.replayed) this.figures.replays++;
    const code = a.status >= 400 && typeof a.body === 'object' && a.body ? ` ${a.body.error}` : '';
    const key = `${label} ${a.status}${code}`;
    this.statuses[key] = (this.statuses[key] ?? 0) + 1;
    if (a.status === 0 || a.status >= 500) this.violation(`${label} on node ${a.node}: ${a.status} ${a.error ?? JSON.stringify(a.body)}`);
  }

  expect(label: string, a: Answer, allowed: Array<number | string>): boolean {
    const code = typeof a.body === 'object' && a.body && 'error' in a.body ? `${a.status} ${a.body.error}` : String(a.status);
    if (allowed.includes(a.status) || allowed.includes(code)) return true;
    if (!(a.status === 0 || a.status >= 500)) this.violation(`${label} on node ${a.node}: got ${code}, expected one of ${allowed.join(', ')}: ${JSON.stringify(a.body).slice(0, 300)}`);
    return false;
  }

  /** Registers acknowledged tickets under one owner; the same id under two owners is a double sale. */
  private claimTickets(ids: readonly string[], owner: string): void {
    for (const id of ids) {
      const previous = this.ticketOwner.get(id);
      if (previous !== undefined && previous !== owner) this.violation(`ticket ${id} acknowledged twice: to ${previous} and to ${owner}`);
      this.ticketOwner.set(id, owner);
    }
  }

  addBooking(booking: Booking, label: string): TrackedBooking | undefined {
    if (!isBooking(booking)) {
      this.violation(`${label}: not a Booking: ${JSON.stringify(booking).slice(0, 300)}`);
      return undefined;
    }
    const known = this.bookings.get(booking.id);
    if (known) return known;
    // The same keyed booking seen first through POST /reserve (ids only) and now with its booking id.
    const reserved = this.ticketOwner.get(booking.tickets[0]!.id);
    if (reserved?.startsWith('reserve:')) {
      const earlier = this.bookings.get(reserved)!;
      if (sortedIds([...earlier.tickets.keys()]) !== sortedIds(booking.tickets.map((t) => t.id))) this.violation(`${label}: booking ${booking.id} shares tickets with ${reserved}`);
      this.bookings.delete(reserved);
      for (const id of earlier.tickets.keys()) this.ticketOwner.delete(id);
    }
    for (const t of booking.tickets) {
      if (t.status !== 'valid' || t.bookingId !== booking.id || t.eventId !== booking.eventId) this.violation(`${label}: fresh booking ${booking.id} has ticket ${JSON.stringify(t)}`);
    }
    this.claimTickets(booking.tickets.map((t) => t.id), booking.id);
    const tracked: TrackedBooking = { id: booking.id, eventId: booking.eventId, secret: booking.secret, tickets: new Map(booking.tickets.map((t) => [t.id, 'valid' as const])) };
    this.bookings.set(booking.id, tracked);
    return tracked;
  }

  addReserved(eventId: string, ids: readonly string[], label: string): void {
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) {
      this.violation(`${label}: not a ticket id array: ${JSON.stringify(ids)}`);
      return;
    }
    const owner = `reserve:${ids[0]}`;
    if (this.bookings.has(owner)) return;
    this.claimTickets(ids, owner);
    this.bookings.set(owner, { eventId, tickets: new Map(ids.map((id) => [id, 'valid' as const])) });
  }

  addHold(hold: Hold, label: string): TrackedHold | undefined {
    const known = this.holds.get(hold?.id);
    if (known) return known;
    if (!hold || typeof hold.id !== 'string' || hold.status !== 'active' || typeof hold.expiresAt !== 'string') {
      this.violation(`${label}: not an active Hold: ${JSON.stringify(hold).slice(0, 300)}`);
      return undefined;
    }
    const tracked: TrackedHold = { id: hold.id, eventId: hold.eventId, tickets: hold.tickets, expiresAt: Date.parse(hold.expiresAt), state: 'open' };
    this.holds.set(hold.id, tracked);
    return tracked;
  }

  lastExpiry(): number {
    let last = 0;
    for (const h of this.holds.values()) last = Math.max(last, h.expiresAt);
    return last;
  }

  summary(): Record<string, number> {
    const holds = [...this.holds.values()];
    const tickets = [...this.bookings.values()].flatMap((b) => [...b.tickets.values()]);
    return {
      ...this.figures,
      bookings: [...this.bookings.values()].length,
      ticketsAcknowledged: tickets.length,
      ticketsCancelled: tickets.filter((s) => s === 'cancelled').length,
      holds: holds.length,
      holdsConfirmed: holds.filter((h) => h.state === 'confirmed').length,
      holdsReleased: holds.filter((h) => h.state === 'released').length,
      holdsExpiredOnConfirmOrRelease: holds.filter((h) => h.state === 'expired').length,
      holdsLeftToExpire: holds.filter((h) => h.state === 'open').length,
      keys: this.keys.size,
    };
  }
}

function isBooking(b: unknown): b is Booking {
  const x = b as Booking;
  return !!x && typeof x.id === 'string' && typeof x.eventId === 'string' && Array.isArray(x.tickets) && x.tickets.length > 0;
}

const sortedIds = (ids: readonly string[]) => [...ids].sort().join(',');

/** The ticket ids of a successful placement through either API. */
function ticketIdsOf(a: Answer): string[] | undefined {
  if (a.status === 200 && Array.isArray(a.body)) return a.body as string[];
  if (a.status === 201 && isBooking(a.body)) return a.body.tickets.map((t) => t.id);
  return undefined;
}

export interface MixOptions {
  nodes: NodeClient[];
  eventId: string;
  /** The event's holdSeconds, in ms. */
  holdMs: number;
  durationMs: number;
  workers: number;
  seed: number;
  ledger: Ledger;
  /** Random pause between a worker's actions (ms), so holds have time to age. */
  thinkMs?: number;
}

type Plan = { hold: TrackedHold; action: 'confirm' | 'release'; at: number; node: number };

/**
 * `workers` virtual buyers, each doing one thing at a time until the deadline: book (REST or
 * /reserve), hold, act on their holds as planned (confirm or release in time, confirm or release
 * after expiry, or abandon), cancel their bookings (whole or partly, with the secret), send keyed
 * requests 2–3 times at once (to different nodes when there are several), and look things up.
 * Each answer is checked against what the contract allows at that moment; the ledger keeps
 * everything acknowledged for the final comparison with the database.
 */
export async function runMixedLoad(options: MixOptions): Promise<void> {
  const { nodes, eventId, holdMs, ledger } = options;
  const deadline = Date.now() + options.durationMs;
  const think = options.thinkMs ?? 20;

  const worker = async (w: number) => {
    const rnd = prng(options.seed * 1000 + w);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)]!;
    const node = () => pick(nodes);
    const plans: Plan[] = [];
    const mine: TrackedBooking[] = [];
    const myHolds: TrackedHold[] = [];
    let keySeq = 0;

    const planFor = (hold: TrackedHold, createdAt: number) => {
      const r = rnd();
      const inTime = createdAt + rnd() * holdMs * 0.5;
      const late = hold.expiresAt + 100 + rnd() * 700;
      const at = (a: Plan['action'], t: number) => plans.push({ hold, action: a, at: t, node: Math.floor(rnd() * nodes.length) });
      if (r < 0.35) at('confirm', inTime);
      else if (r < 0.5) at('release', inTime);
      else if (r < 0.7) at('confirm', late);
      else if (r < 0.8) at('release', late);
      // else abandoned: the server must expire it by itself
    };

    const book = async () => {
      const n = 1 + Math.floor(rnd() * 3);
      const legacy = rnd() < 0.25;
      const a = legacy
        ? await node().send('POST', `/reserve?eventId=${eventId}&tickets=${n}`)
        : await node().send('POST', `/events/${eventId}/bookings`, { body: { tickets: n } });
      const label = legacy ? 'reserve' : 'book';
      ledger.note(label, a);
      if (!ledger.expect(label, a, [legacy ? 200 : 201, '409 not_enough_tickets'])) return;
      if (a.status === 409) return;
      if (legacy) return ledger.addReserved(eventId, a.body as string[], label);
      const tracked = ledger.addBooking(a.body as Booking, label);
      if (tracked && tracked.tickets.size !== n) ledger.violation(`book: asked ${n} tickets, got ${tracked.tickets.size}`);
      if (tracked && typeof tracked.secret !== 'string') ledger.violation(`book: booking ${tracked.id} came without a secret`);
      if (tracked) mine.push(tracked);
    };

    const hold = async () => {
      const n = 1 + Math.floor(rnd() * 3);
      const a = await node().send('POST', `/events/${eventId}/holds`, { body: { tickets: n } });
      ledger.note('hold', a);
      if (!ledger.expect('hold', a, [201, '409 not_enough_tickets']) || a.status !== 201) return;
      const h = ledger.addHold(a.body as Hold, 'hold');
      if (!h) return;
      if (h.tickets !== n) ledger.violation(`hold ${h.id}: asked ${n} tickets, got ${h.tickets}`);
      // The hold lasts exactly holdSeconds from the moment the server made it.
      if (h.expiresAt < a.sentAt + holdMs - CLOCK_SLACK_MS || h.expiresAt > a.receivedAt + holdMs + CLOCK_SLACK_MS) {
        ledger.violation(`hold ${h.id}: expiresAt ${new Date(h.expiresAt).toISOString()} is not holdSeconds after the request`);
      }
      myHolds.push(h);
      planFor(h, a.sentAt);
    };

    /** Far enough from expiry that two confirms at once race each other, not the clock. */
    const isFresh = (h: TrackedHold) => Date.now() < h.expiresAt - holdMs / 4;

    /** The hold's answer must agree with the clock: in time → success, after expiresAt → 410. */
    const timely = (label: string, h: TrackedHold, a: Answer, success: number[]): 'ok' | 'expired' | 'bad' => {
      const allowed: Array<number | string> = [];
      if (a.sentAt < h.expiresAt + CLOCK_SLACK_MS) allowed.push(...success);
      if (a.receivedAt > h.expiresAt - CLOCK_SLACK_MS) allowed.push('410 hold_expired');
      if (!ledger.expect(`${label} (sent ${a.sentAt - h.expiresAt} ms after expiresAt)`, a, allowed)) return 'bad';
      return a.status === 410 ? 'expired' : 'ok';
    };

    const confirm = async (p: Plan) => {
      const h = p.hold;
      // Sometimes two confirms at once (on two nodes when there are two): one creates, one replays.
      const copies = rnd() < 0.3 && isFresh(h) ? 2 : 1;
      const answers = await Promise.all(
        Array.from({ length: copies }, (_, i) => nodes[(p.node + i) % nodes.length]!.send('POST', `/holds/${h.id}/confirm`)),
      );
      const results = answers.map((a) => {
        ledger.note('confirm', a);
        return timely('confirm', h, a, [201, 200]);
      });
      if (results.includes('bad')) return;
      if (results.includes('expired')) {
        if (results.includes('ok')) ledger.violation(`hold ${h.id}: concurrent confirms disagree: ${answers.map((a) => a.status).join(' and ')}`);
        h.state = 'expired';
        ledger.figures.lateRefusals++;
        return;
      }
      const created = answers.filter((a) => a.status === 201);
      if (created.length !== 1) ledger.violation(`hold ${h.id}: ${created.length} confirms answered 201 (statuses ${answers.map((a) => a.status).join(', ')})`);
      const ids = new Set(answers.map((a) => (a.body as Booking).id));
      const tickets = new Set(answers.map((a) => sortedIds((a.body as Booking).tickets.map((t) => t.id))));
      if (ids.size !== 1 || tickets.size !== 1) ledger.violation(`hold ${h.id}: confirms answered different bookings ${[...ids].join(', ')}`);
      const first = created[0] ?? answers[0]!;
      const tracked = ledger.addBooking(first.body as Booking, 'confirm');
      if (!tracked) return;
      if (tracked.tickets.size !== h.tickets) ledger.violation(`hold ${h.id} of ${h.tickets} became booking ${tracked.id} of ${tracked.tickets.size}`);
      h.state = 'confirmed';
      h.bookingId = tracked.id;
      ledger.figures.confirmed++;
      if (tracked.secret) mine.push(tracked);
      else if (created.length === 1) ledger.violation(`confirm of ${h.id}: 201 without a secret`);
      // A retried confirm is safe: same booking, 200.
      if (rnd() < 0.3) {
        const again = await node().send('POST', `/holds/${h.id}/confirm`);
        ledger.note('confirm', again);
        if (ledger.expect('confirm again', again, [200]) && (again.body as Booking).id !== tracked.id) ledger.violation(`hold ${h.id}: repeat confirm gave booking ${(again.body as Booking).id}, first ${tracked.id}`);
        if (again.status === 200) ledger.figures.confirmReplays++;
      }
    };

    const release = async (p: Plan) => {
      const h = p.hold;
      const a = await nodes[p.node]!.send('DELETE', `/holds/${h.id}`);
      ledger.note('release', a);
      const r = timely('release', h, a, [200]);
      if (r === 'bad') return;
      if (r === 'expired') {
        h.state = 'expired';
        ledger.figures.lateRefusals++;
        return;
      }
      if ((a.body as Hold).status !== 'released' || (a.body as Hold).id !== h.id) ledger.violation(`release ${h.id}: body ${JSON.stringify(a.body)}`);
      h.state = 'released';
      ledger.figures.released++;
      if (rnd() < 0.3) {
        const again = await node().send('DELETE', `/holds/${h.id}`);
        ledger.note('release', again);
        if (ledger.expect('release again', again, [200]) && (again.body as Hold).status !== 'released') ledger.violation(`release ${h.id} again: ${JSON.stringify(again.body)}`);
      }
    };

    const cancel = async () => {
      const candidates = mine.filter((b) => [...b.tickets.values()].includes('valid'));
      if (candidates.length === 0) return book();
      const b = pick(candidates);
      const valid = [...b.tickets].filter(([, s]) => s === 'valid').map(([id]) => id);
      const r = rnd();
      if (r < 0.08) {
        const a = await node().send('DELETE', `/bookings/${b.id}`, { headers: { authorization: `Bearer not-the-secret-${w}` } });
        ledger.note('cancel wrong secret', a);
        ledger.expect('cancel wrong secret', a, ['403 forbidden']);
        return;
      }
      if (r < 0.12) {
        const a = await node().send('DELETE', `/bookings/${b.id}`);
        ledger.note('cancel no credentials', a);
        ledger.expect('cancel no credentials', a, ['401 unauthorized']);
        return;
      }
      const partial = rnd() < 0.5 && valid.length > 1;
      const chosen = partial ? valid.filter(() => rnd() < 0.5).slice(0, valid.length - 1) : valid;
      if (chosen.length === 0) chosen.push(valid[0]!);
      const a = await node().send('DELETE', `/bookings/${b.id}`, {
        headers: { authorization: `Bearer ${b.secret}` },
        body: partial ? { tickets: chosen } : undefined,
      });
      ledger.note(partial ? 'cancel partly' : 'cancel', a);
      if (!ledger.expect('cancel', a, [200])) return;
      for (const id of chosen) b.tickets.set(id, 'cancelled');
      ledger.figures.cancelledTickets += chosen.length;
      if (partial) ledger.figures.partialCancels++;
      else ledger.figures.fullCancels++;
      const answered = new Map((a.body as Booking).tickets.map((t) => [t.id, t.status]));
      for (const [id, s] of b.tickets) if (answered.get(id) !== s) ledger.violation(`cancel ${b.id}: ticket ${id} answered ${answered.get(id)}, expected ${s}`);
      if (!partial && rnd() < 0.3) {
        const again = await node().send('DELETE', `/bookings/${b.id}`, { headers: { authorization: `Bearer ${b.secret}` } });
        ledger.note('cancel again', again);
        ledger.expect('cancel again', again, ['409 already_cancelled']);
      }
    };

    /** One key, 2–3 copies at once; a book key may switch between the two booking APIs. */
    const keyed = async () => {
      const kind = pick(['book', 'book', 'hold'] as const);
      const n = 1 + Math.floor(rnd() * 3);
      const key = `mix-${options.seed}-${w}-${keySeq++}-${randomUUID()}`;
      ledger.keys.add(key);
      const copies = 2 + Math.floor(rnd() * 2);
      const start = Math.floor(rnd() * nodes.length);
      const routes = Array.from({ length: copies }, () => (kind === 'hold' ? 'hold' : rnd() < 0.3 ? 'reserve' : 'book'));
      const answers = await Promise.all(
        routes.map((route, i) => {
          const target = nodes[(start + i) % nodes.length]!;
          const headers = { 'idempotency-key': key };
          if (route === 'reserve') return target.send('POST', `/reserve?eventId=${eventId}&tickets=${n}`, { headers });
          return target.send('POST', `/events/${eventId}/${route === 'hold' ? 'holds' : 'bookings'}`, { headers, body: { tickets: n } });
        }),
      );
      ledger.figures.keyedRequests += answers.length;
      answers.forEach((a, i) => ledger.note(`keyed ${routes[i]}`, a));
      checkKeyedCopies(ledger, key, kind, routes, answers, eventId, n, (result) => {
        if ('hold' in result) {
          myHolds.push(result.hold);
          planFor(result.hold, Math.min(...answers.map((x) => x.sentAt)));
        } else if (result.booking.secret) {
          mine.push(result.booking);
        }
      });
      // The same key with a different request is refused, not answered with the first result.
      if (rnd() < 0.15) {
        const other = await node().send('POST', `/events/${eventId}/${kind === 'hold' ? 'holds' : 'bookings'}`, {
          headers: { 'idempotency-key': key },
          body: { tickets: n + 1 },
        });
        ledger.note('keyed reuse', other);
        if (ledger.expect('keyed reuse', other, ['422 idempotency_key_reused'])) ledger.figures.keyReuseRefusals++;
      }
    };

    const peek = async () => {
      if (rnd() < 0.5 && myHolds.length > 0) {
        const h = pick(myHolds);
        const a = await node().send('GET', `/holds/${h.id}`);
        ledger.note('get hold', a);
        if (!ledger.expect('get hold', a, [200])) return;
        const status = (a.body as Hold).status;
        const allowed: string[] = [];
        if (h.state === 'confirmed') allowed.push('confirmed');
        else if (h.state === 'released') allowed.push('released');
        else if (h.state === 'expired') allowed.push('expired');
        else {
          // Untouched by us, or a confirm/release of ours is racing this read on another node.
          if (a.sentAt < h.expiresAt + CLOCK_SLACK_MS) allowed.push('active', 'confirmed', 'released');
          if (a.receivedAt > h.expiresAt - CLOCK_SLACK_MS) allowed.push('expired');
        }
        if (!allowed.includes(status)) ledger.violation(`GET /holds/${h.id} said ${status} ${a.sentAt - h.expiresAt} ms after expiresAt (we know ${h.state})`);
        if (status === 'confirmed' && h.bookingId && (a.body as Hold).bookingId !== h.bookingId) ledger.violation(`GET /holds/${h.id}: bookingId ${(a.body as Hold).bookingId}, expected ${h.bookingId}`);
        return;
      }
      if (rnd() < 0.5 && mine.length > 0) {
        const b = pick(mine);
        const [id, expected] = pick([...b.tickets]);
        const a = await node().send('GET', `/tickets/${id}`);
        ledger.note('get ticket', a);
        if (ledger.expect('get ticket', a, [200]) && ((a.body as { status: string }).status !== expected || (a.body as { bookingId: string }).bookingId !== b.id)) {
          ledger.violation(`GET /tickets/${id}: ${JSON.stringify(a.body)}, expected ${expected} in ${b.id}`);
        }
        return;
      }
      const a = await node().send('GET', `/events/${eventId}`);
      ledger.note('get event', a);
      if (!ledger.expect('get event', a, [200])) return;
      const e = a.body as Event;
      if (e.availableTickets < 0 || e.heldTickets < 0 || e.availableTickets + e.heldTickets > e.totalTickets) ledger.violation(`GET /events: ${JSON.stringify(e)}`);
    };

    while (Date.now() < deadline) {
      const now = Date.now();
      const due = plans.findIndex((p) => p.at <= now);
      if (due >= 0) {
        const [p] = plans.splice(due, 1);
        await (p!.action === 'confirm' ? confirm(p!) : release(p!));
      } else {
        const r = rnd();
        if (r < 0.22) await book();
        else if (r < 0.47) await hold();
        else if (r < 0.64) await cancel();
        else if (r < 0.84) await keyed();
        else await peek();
      }
      await sleep(rnd() * think);
    }
  };

  await Promise.all(Array.from({ length: options.workers }, (_, w) => worker(w)));
}

/**
 * The copies of one keyed request: the same outcome everywhere (same tickets, same booking or hold),
 * exactly one of them fresh and the others `Idempotent-Replayed: true`. Registers the one result.
 */
export function checkKeyedCopies(
  ledger: Ledger,
  key: string,
  kind: 'book' | 'hold',
  routes: readonly string[],
  answers: readonly Answer[],
  eventId: string,
  tickets: number,
  onResult?: (result: { booking: TrackedBooking } | { hold: TrackedHold }) => void,
): void {
  const label = `key ${key}`;
  const success = kind === 'hold' ? [201] : [200, 201];
  const ok = answers.map((a, i) => ledger.expect(`${label} (${routes[i]})`, a, [...success, '409 not_enough_tickets']));
  if (ok.includes(false)) return;
  const failed = answers.filter((a) => a.status === 409);
  if (failed.length > 0) {
    if (failed.length !== answers.length) ledger.violation(`${label}: copies disagree: ${answers.map((a) => a.status).join(', ')}`);
    return;
  }
  const fresh = answers.filter((a) => !a.replayed).length;
  if (fresh !== 1) ledger.violation(`${label}: ${fresh} of ${answers.length} copies were not replays (nodes ${answers.map((a) => a.node).join(', ')})`);
  if (kind === 'hold') {
    const ids = new Set(answers.map((a) => (a.body as Hold).id));
    if (ids.size !== 1) return ledger.violation(`${label}: copies made different holds ${[...ids].join(', ')}`);
    const tracked = ledger.addHold(answers[0]!.body as Hold, label);
    if (tracked && tracked.tickets !== tickets) ledger.violation(`${label}: hold of ${tracked.tickets}, asked ${tickets}`);
    if (tracked) onResult?.({ hold: tracked });
    return;
  }
  const idSets = new Set(answers.map((a) => sortedIds(ticketIdsOf(a) ?? [])));
  if (idSets.size !== 1) return ledger.violation(`${label}: copies answered different tickets: ${[...idSets].join(' | ')}`);
  const rest = answers.filter((a) => a.status === 201).map((a) => a.body as Booking);
  if (new Set(rest.map((b) => `${b.id}/${b.secret}`)).size > 1) return ledger.violation(`${label}: copies answered different bookings or secrets`);
  const ids = ticketIdsOf(answers[0]!)!;
  if (ids.length !== tickets) ledger.violation(`${label}: ${ids.length} tickets, asked ${tickets}`);
  if (rest[0]) {
    const tracked = ledger.addBooking(rest[0], label);
    if (tracked && !tracked.secret) ledger.violation(`${label}: booking without its secret`);
    if (tracked) onResult?.({ booking: tracked });
  } else {
    ledger.addReserved(eventId, ids, label);
  }
}

/** What the database holds, in one shape for both adapters. */
export interface StoreSnapshot {
  events: Map<string, { total: number; available: number; held: number }>;
  tickets: Map<string, { eventId: string; bookingId: string; cancelled: boolean }>;
  holds: Map<string, { eventId: string; tickets: number; status: string; bookingId: string | null; expiresAt: number }>;
  bookings: Map<string, { eventId: string; tickets: number }>;
  keys: Map<string, { hasResult: boolean }>;
}

export function sqliteSnapshot(file: string): StoreSnapshot {
  const db = new Database(file, { readonly: true });
  try {
    // One read transaction: every table from the same commit.
    return db.transaction(() => ({
      events: new Map(
        (db.prepare('SELECT id, total_tickets AS total, available_tickets AS available, held_tickets AS held FROM events').all() as Array<{ id: string; total: number; available: number; held: number }>).map(
          (r) => [r.id, { total: r.total, available: r.available, held: r.held }],
        ),
      ),
      tickets: new Map(
        (db.prepare('SELECT t.id, t.event_id, b.id AS booking_id, t.cancelled_at FROM tickets t JOIN bookings b ON b.seq = t.booking_seq').all() as Array<{ id: string; event_id: string; booking_id: string; cancelled_at: string | null }>).map(
          (r) => [r.id, { eventId: r.event_id, bookingId: r.booking_id, cancelled: r.cancelled_at !== null }],
        ),
      ),
      holds: new Map(
        (db.prepare('SELECT id, event_id, tickets, status, booking_id, expires_at FROM holds').all() as Array<{ id: string; event_id: string; tickets: number; status: string; booking_id: string | null; expires_at: string }>).map(
          (r) => [r.id, { eventId: r.event_id, tickets: r.tickets, status: r.status, bookingId: r.booking_id, expiresAt: Date.parse(r.expires_at) }],
        ),
      ),
      bookings: new Map(
        (db.prepare('SELECT id, event_id, tickets FROM bookings').all() as Array<{ id: string; event_id: string; tickets: number }>).map((r) => [r.id, { eventId: r.event_id, tickets: r.tickets }]),
      ),
      keys: new Map((db.prepare('SELECT key, result FROM idempotency_keys').all() as Array<{ key: string; result: string | null }>).map((r) => [r.key, { hasResult: r.result !== null }])),
    }))();
  } finally {
    db.close();
  }
}

export async function postgresSnapshot(url: string, schema: string): Promise<StoreSnapshot> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const events = await client.query(`SELECT id, total_tickets AS total, available_tickets AS available, held_tickets AS held FROM (${eventTotalsSelect(schema)}) e`);
    const tickets = await client.query(`SELECT id, event_id, booking_id, cancelled_at IS NOT NULL AS cancelled FROM ${schema}.tickets`);
    const holds = await client.query(`SELECT id, event_id, tickets, status, booking_id, expires_at FROM ${schema}.holds`);
    const bookings = await client.query(`SELECT id, event_id, tickets FROM ${schema}.bookings`);
    const keys = await client.query(`SELECT key, result IS NOT NULL AS has_result FROM ${schema}.idempotency_keys`);
    await client.query('COMMIT');
    return {
      events: new Map(events.rows.map((r) => [r.id as string, { total: r.total as number, available: r.available as number, held: r.held as number }])),
      tickets: new Map(tickets.rows.map((r) => [r.id as string, { eventId: r.event_id as string, bookingId: r.booking_id as string, cancelled: r.cancelled as boolean }])),
      holds: new Map(
        holds.rows.map((r) => [
          r.id as string,
          { eventId: r.event_id as string, tickets: r.tickets as number, status: r.status as string, bookingId: r.booking_id as string | null, expiresAt: (r.expires_at as Date).getTime() },
        ]),
      ),
      bookings: new Map(bookings.rows.map((r) => [r.id as string, { eventId: r.event_id as string, tickets: r.tickets as number }])),
      keys: new Map(keys.rows.map((r) => [r.key as string, { hasResult: r.has_result as boolean }])),
    };
  } finally {
    await client.end();
  }
}

/**
 * Compares the ledger with the database, for the given events, once every hold is past expiry:
 * - per event: held == 0 and available + held + valid tickets == total (nothing oversold, nothing lost);
 * - every acknowledged ticket is stored, in its booking, valid unless we cancelled it;
 * - with `exact` (no request was cut off): nothing is stored that was not acknowledged, and every
 *   key we sent is stored once with its result;
 * - every hold ended the way we saw it end, or expired if we left it alone; none is still active.
 */
export function checkAgainstStore(ledger: Ledger, snap: StoreSnapshot, eventIds: readonly string[], exact: boolean): string[] {
  const out: string[] = [];
  const events = new Set(eventIds);
  for (const id of eventIds) {
    const e = snap.events.get(id);
    if (!e) {
      out.push(`event ${id} missing`);
      continue;
    }
    let valid = 0;
    for (const t of snap.tickets.values()) if (t.eventId === id && !t.cancelled) valid++;
    if (e.available + e.held + valid !== e.total) out.push(`event ${id}: available ${e.available} + held ${e.held} + sold ${valid} != total ${e.total}`);
    if (e.held !== 0) out.push(`event ${id}: ${e.held} tickets still held after every hold expired`);
  }
  for (const [owner, b] of ledger.bookings) {
    for (const [ticketId, status] of b.tickets) {
      const t = snap.tickets.get(ticketId);
      if (!t) {
        out.push(`acknowledged ticket ${ticketId} (${owner}) is not stored`);
        continue;
      }
      if (t.eventId !== b.eventId) out.push(`ticket ${ticketId}: event ${t.eventId}, acknowledged for ${b.eventId}`);
      if (b.id && t.bookingId !== b.id) out.push(`ticket ${ticketId}: booking ${t.bookingId}, acknowledged in ${b.id}`);
      if (t.cancelled !== (status === 'cancelled')) out.push(`ticket ${ticketId}: stored ${t.cancelled ? 'cancelled' : 'valid'}, expected ${status}`);
    }
    if (b.id) {
      const stored = snap.bookings.get(b.id);
      if (!stored || stored.tickets !== b.tickets.size) out.push(`booking ${b.id}: stored ${JSON.stringify(stored)}, acknowledged ${b.tickets.size} tickets`);
    }
  }
  for (const h of ledger.holds.values()) {
    const s = snap.holds.get(h.id);
    if (!s) {
      out.push(`acknowledged hold ${h.id} is not stored`);
      continue;
    }
    const expected = h.state === 'open' ? 'expired' : h.state;
    if (s.status !== expected) out.push(`hold ${h.id}: stored ${s.status}, expected ${expected}`);
    if (s.expiresAt !== h.expiresAt) out.push(`hold ${h.id}: stored expiresAt ${s.expiresAt}, acknowledged ${h.expiresAt}`);
    if (h.bookingId && s.bookingId !== h.bookingId) out.push(`hold ${h.id}: stored booking ${s.bookingId}, confirmed as ${h.bookingId}`);
  }
  for (const [id, s] of snap.holds) if (s.status === 'active' && events.has(s.eventId)) out.push(`hold ${id} still active`);
  if (exact) {
    for (const [id, t] of snap.tickets) if (events.has(t.eventId) && !ledger.ticketOwner.has(id)) out.push(`stored ticket ${id} was never acknowledged`);
    for (const [id, s] of snap.holds) if (events.has(s.eventId) && !ledger.holds.has(id)) out.push(`stored hold ${id} was never acknowledged`);
    // Keys are stored per client (scopedKey of the buyer and the key): the key counts as stored under any client address the load used.
    const stored = (key: string) => [...usedAddresses].some((a) => snap.keys.get(scopedKey(key, buyerOf(a)))?.hasResult);
    for (const key of ledger.keys) if (!stored(key)) out.push(`idempotency key ${key} not stored with its result`);
  }
  return out.slice(0, 100);
}

export interface ExpiryWatch {
  samples: number;
  /** First client instant at which heldTickets was seen at 0. */
  zeroAt: number | undefined;
  violations: string[];
}

/**
 * Polls `read` (heldTickets of one event, however read) until it is 0 or `timeoutMs` passes, and
 * checks it never fell below the tickets of holds whose expiresAt had not come yet when the answer
 * arrived: a hold's stock must not come back early. `holds` must be the event's only holds.
 */
export async function watchExpiry(holds: readonly TrackedHold[], read: () => Promise<number>, timeoutMs: number, intervalMs = 50): Promise<ExpiryWatch> {
  const watch: ExpiryWatch = { samples: 0, zeroAt: undefined, violations: [] };
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const held = await read();
    const after = Date.now();
    watch.samples++;
    const stillDue = holds.filter((h) => h.expiresAt > after + CLOCK_SLACK_MS).reduce((sum, h) => sum + h.tickets, 0);
    if (held < stillDue) watch.violations.push(`heldTickets ${held} at ${new Date(after).toISOString()}, but ${stillDue} tickets are in holds not yet expired`);
    if (held === 0) {
      watch.zeroAt = after;
      break;
    }
    await sleep(intervalMs);
  }
  return watch;
}
