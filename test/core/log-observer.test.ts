/**
 * What the log records of refusals (issue 16 item 3): a refusal changes nothing and a client can send
 * as many as it likes, so at info level the log must not grow with them.
 */
import { describe, expect, it } from 'vitest';
import type { Command, Outcome } from '../../src/core/commands.js';
import { Errors } from '../../src/core/errors.js';
import { logObserver } from '../../src/core/log-observer.js';
import type { Logger } from '../../src/core/logger.js';

const EVENT = '10000000-0000-4000-8000-000000000001';

function recording(): { logger: Logger; lines: Array<{ level: string; obj: object; msg?: string }> } {
  const lines: Array<{ level: string; obj: object; msg?: string }> = [];
  const at = (level: string) => (obj: object | string, msg?: string) => void lines.push(typeof obj === 'string' ? { level, obj: {}, msg: obj } : { level, obj, msg });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

const book = (): Command => ({ type: 'book', eventId: EVENT, tickets: 1 });
const refused = (): Outcome => ({ ok: false, code: 'not_enough_tickets', message: Errors.notEnoughTickets(1, 0).message });
const booked = (): Outcome =>
  ({ ok: true, kind: 'booking', booking: { id: '30000000-0000-4000-8000-000000000001', eventId: EVENT, createdAt: '2030-01-01T00:00:00.000Z', tickets: [] }, counts: { eventId: EVENT, availableTickets: 0, heldTickets: 0 } }) as Outcome;

describe('the log observer and refusals', () => {
  it('one refused booking is a debug record, not info', () => {
    const { logger, lines } = recording();
    logObserver(logger).committed!([book()], [refused()], 1);
    expect(lines.map((l) => l.level)).toEqual(['debug']);
  });

  it('a batch of refusals only is a debug record', () => {
    const { logger, lines } = recording();
    logObserver(logger).committed!([book(), book(), book()], [refused(), refused(), refused()], 1);
    expect(lines.map((l) => l.level)).toEqual(['debug']);
  });

  it('a batch with bookings is logged at info with the refusals counted by reason, not listed', () => {
    const { logger, lines } = recording();
    const n = 500;
    logObserver(logger).committed!([book(), ...Array.from({ length: n }, book)], [booked(), ...Array.from({ length: n }, refused)], 1);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe('info');
    expect(lines[0]!.obj).toMatchObject({ refusedByReason: { not_enough_tickets: n } });
    expect(JSON.stringify(lines[0]!.obj).length).toBeLessThan(1000);
  });
});

describe('the log observer and the waiting room', () => {
  const line = { eventId: EVENT, version: 3, joined: 40, positioned: 40, openedAt: '2030-01-01T00:00:00.000Z', serving: 10, paused: false, admitted: 10, due: 0 };
  const advance: Command = { type: 'advanceQueue', eventId: EVENT, passSeconds: 600 };
  const advanced = (over: Partial<Extract<Outcome, { kind: 'queueLine' }>>): Outcome => ({ ok: true, kind: 'queueLine', line, admittedNow: 0, expiredNow: 0, ...over });

  it('the draw at the opening, passes that ran out, and a pause or resume are info records; steady admissions debug; a repeated pause nothing', () => {
    const { logger, lines } = recording();
    const log = logObserver(logger);
    log.committed!([advance], [advanced({ drawnNow: 40, admittedNow: 10 })], 1);
    log.committed!([advance], [advanced({ admittedNow: 5 })], 1);
    log.committed!([advance], [advanced({ expiredNow: 2 })], 1);
    log.committed!([{ type: 'pauseQueue', eventId: EVENT, paused: true }], [advanced({ changed: true, line: { ...line, paused: true } })], 1);
    log.committed!([{ type: 'pauseQueue', eventId: EVENT, paused: true }], [advanced({ changed: false, line: { ...line, paused: true } })], 1);
    log.committed!([{ type: 'pauseQueue', eventId: EVENT, paused: false }], [advanced({ changed: true })], 1);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['info', 'the sale opened: the order of the 40 buyers in the waiting room was drawn'],
      ['debug', 'waiting room admitted buyers'],
      ['debug', 'waiting room admitted buyers'],
      ['info', '2 admission passes ran out unused; their places in the window are free'],
      ['info', 'waiting room paused: nobody more is admitted until it is resumed'],
      ['info', 'waiting room resumed'],
    ]);
    expect(lines[0]!.obj).toEqual({ eventId: EVENT, drawn: 40 });
    expect(lines[4]!.obj).toEqual({ eventId: EVENT, serving: 10, waiting: 30 });
  });
});
