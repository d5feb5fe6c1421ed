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
