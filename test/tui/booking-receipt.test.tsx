/** The receipt after a booking: id, secret (with why it matters) and ticket ids, in 80×24. */
import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Booking } from '../../src/client/types.js';
import { BookingReceipt } from '../../src/tui/components/BookingReceipt.js';
import { FRAME_ROWS } from '../../src/tui/components/Frame.js';
import { frame, KEYS, press, renderUi } from './helpers.js';

afterEach(cleanup);

const EVENT = '00000000-0000-4000-8000-00000000000e';
const BOOKING = '00000000-0000-4000-8000-00000000000b';
function booking(tickets: number, secret: string | null = 'sEcReT-0123456789abcdefghijklmnopqrstuvwxyz'): Booking {
  return {
    id: BOOKING,
    eventId: EVENT,
    createdAt: '2027-01-01T00:00:00.000Z',
    tickets: Array.from({ length: tickets }, (_, i) => ({
      id: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
      eventId: EVENT,
      bookingId: BOOKING,
      status: 'valid' as const,
    })),
    ...(secret === null ? {} : { secret }),
  };
}
// The body of an 80×24 terminal: one row kept free, then the frame's own rows.
const BODY = 24 - 1 - FRAME_ROWS;

describe('BookingReceipt', () => {
  it('shows the booking id, the secret with the line that says it is needed to cancel, and every ticket id', async () => {
    const r = renderUi(<BookingReceipt booking={booking(3)} eventName="Rock Night" height={BODY} width={80} onDone={() => {}} />);
    const f = await frame(r, 'Keep the secret');
    const lines = f.split('\n');
    expect(lines[0]).toBe('✔ Booked 3 tickets for Rock Night');
    expect(f).toContain(`Booking  ${BOOKING}`);
    expect(f).toContain('Secret   sEcReT-0123456789abcdefghijklmnopqrstuvwxyz');
    expect(lines.filter((l) => l.includes('needed to cancel'))).toEqual(['         Keep the secret: it is needed to cancel, and it is not shown again.']);
    for (const t of booking(3).tickets) expect(f).toContain(t.id);
    expect(f).toContain('Tickets (3)');
  });

  it('fits 80×24 with 100 tickets: two ids a row, then where the rest are', async () => {
    const r = renderUi(<BookingReceipt booking={booking(100)} eventName="Big Show" height={BODY} width={80} onDone={() => {}} />);
    const f = await frame(r, 'more');
    const lines = f.split('\n');
    expect(lines.length).toBeLessThanOrEqual(BODY);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80);
    const shown = (f.match(/[0-9a-f]{8}-[0-9a-f]{4}-4000-8000-0000000000[0-9]{2}/g) ?? []).length;
    expect(lines.at(-1)).toBe(`  … and ${100 - shown} more: every ticket id is in Logs`);
    // The rows that hold ids carry two each.
    expect(shown).toBe((BODY - 8) * 2);
  });

  it('says when the server sent no secret', async () => {
    const r = renderUi(<BookingReceipt booking={booking(1, null)} eventName="Old Server" height={BODY} width={80} onDone={() => {}} />);
    const f = await frame(r, 'Secret   none sent: only the admin token can cancel this booking');
    expect(f).not.toContain('Keep the secret');
  });

  it('Enter or Esc closes it', async () => {
    const onDone = vi.fn();
    const r = renderUi(<BookingReceipt booking={booking(1)} eventName="Gig" height={BODY} width={80} onDone={onDone} />);
    await frame(r, 'Keep the secret');
    press(r, KEYS.enter);
    await vi.waitFor(() => expect(onDone).toHaveBeenCalledTimes(1));
    press(r, 'x');
    press(r, KEYS.escape);
    await vi.waitFor(() => expect(onDone).toHaveBeenCalledTimes(2));
  });
});

describe('BookingReceipt with door codes', () => {
  const codeOf = (i: number) => `BO1.${String(i).padStart(3, '0')}${'x'.repeat(125)}`;
  const coded = (n: number): Booking => {
    const b = booking(n);
    return { ...b, tickets: b.tickets.map((t, i) => ({ ...t, code: codeOf(i + 1) })) };
  };
  /** The code as shown: its rows joined again. */
  const shownCode = (f: string, id: string) => {
    const lines = f.split('\n');
    const at = lines.findIndex((l) => l.includes(id));
    return lines
      .slice(at + 1)
      .filter((l, i, all) => /^ {5}\S/.test(l) && all.slice(0, i).every((p) => /^ {5}\S/.test(p)))
      .map((l) => l.trim())
      .join('');
  };

  it('shows each ticket with the whole code the door scans, within 80 columns', async () => {
    const r = renderUi(<BookingReceipt booking={coded(2)} eventName="Rock Night" height={BODY} width={80} onDone={() => {}} />);
    const f = await frame(r, 'with the code the door scans');
    expect(Math.max(...f.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
    for (const [i, t] of coded(2).tickets.entries()) expect(shownCode(f, t.id)).toBe(codeOf(i + 1));
    expect(f).not.toContain('scroll');
  });

  it('scrolls with ↓ when the codes do not fit', async () => {
    const r = renderUi(<BookingReceipt booking={coded(10)} eventName="Big Show" height={BODY} width={80} onDone={() => {}} />);
    const f = await frame(r, 'scroll');
    expect(f.split('\n').length).toBeLessThanOrEqual(BODY);
    const last = coded(10).tickets[9]!;
    expect(f).not.toContain(last.id);
    press(r, KEYS.pageDown, KEYS.pageDown, KEYS.pageDown);
    const end = await frame(r, last.id);
    expect(shownCode(end, last.id)).toBe(codeOf(10));
  });
});
