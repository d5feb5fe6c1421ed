import { cleanup } from 'ink-testing-library';
import { useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Event } from '../../src/client/types.js';
import { selectableMax, TicketSelector } from '../../src/tui/components/TicketSelector.js';
import { frame, KEYS, makeEvent, press, renderUi } from './helpers.js';

afterEach(cleanup);

const count = (f: string) => Number(/◀\s+(\d+)\s+▶/.exec(f)?.[1]);

describe('TicketSelector', () => {
  it('the range is 1 … min(available, maxTicketsPerBooking)', () => {
    expect(selectableMax(makeEvent({ availableTickets: 3, maxTicketsPerBooking: 10 }))).toBe(3);
    expect(selectableMax(makeEvent({ availableTickets: 50, maxTicketsPerBooking: 6 }))).toBe(6);
    expect(selectableMax(makeEvent({ availableTickets: 0, maxTicketsPerBooking: 6 }))).toBe(1);
  });

  it('starts at 1, arrows step, and the bounds hold at both ends', async () => {
    const event = makeEvent({ name: 'Rock Night', availableTickets: 4, maxTicketsPerBooking: 10 });
    const r = renderUi(<TicketSelector event={event} onConfirm={() => {}} onCancel={() => {}} />);
    const f = await frame(r, 'How many tickets?');
    expect(count(f)).toBe(1);
    expect(f).toContain('(1–4)');
    expect(f).toContain('4 of 100 left');
    press(r, KEYS.down, KEYS.left);
    await frame(r, (x) => count(x) === 1);
    press(r, KEYS.up, KEYS.right, '+');
    await frame(r, (x) => count(x) === 4);
    press(r, KEYS.up, KEYS.up, KEYS.up);
    await frame(r, (x) => count(x) === 4);
    press(r, KEYS.down);
    await frame(r, (x) => count(x) === 3);
    press(r, KEYS.home);
    await frame(r, (x) => count(x) === 1);
    press(r, KEYS.end);
    await frame(r, (x) => count(x) === 4);
  });

  it('digits type a number, clamped to the range; PgUp/PgDn step by ten', async () => {
    const event = makeEvent({ availableTickets: 500, maxTicketsPerBooking: 25 });
    const r = renderUi(<TicketSelector event={event} onConfirm={() => {}} onCancel={() => {}} />);
    press(r, '1', '2');
    await frame(r, (x) => count(x) === 12);
    press(r, '9');
    await frame(r, (x) => count(x) === 9);
    press(r, KEYS.pageUp);
    await frame(r, (x) => count(x) === 19);
    press(r, KEYS.pageUp);
    await frame(r, (x) => count(x) === 25);
    press(r, KEYS.pageDown, KEYS.pageDown, KEYS.pageDown);
    await frame(r, (x) => count(x) === 1);
    press(r, '3', '0');
    // "30" is above the maximum: the second digit starts a new number.
    await frame(r, (x) => count(x) === 3);
  });

  it('Enter books the chosen count; Esc cancels', async () => {
    const onConfirm = vi.fn();
    const onCancel = vi.fn();
    const r = renderUi(<TicketSelector event={makeEvent({ availableTickets: 10 })} onConfirm={onConfirm} onCancel={onCancel} />);
    press(r, KEYS.up, KEYS.enter);
    await vi.waitFor(() => expect(onConfirm).toHaveBeenCalledWith(2));
    press(r, KEYS.escape);
    await vi.waitFor(() => expect(onCancel).toHaveBeenCalledTimes(1));
  });

  it('follows live availability: the choice shrinks with it, and a sold-out event says the server decides', async () => {
    let setEvent!: (e: Event) => void;
    const base = makeEvent({ name: 'Hot Show', availableTickets: 10, maxTicketsPerBooking: 10 });
    function Live() {
      const [event, set] = useState(base);
      setEvent = set;
      return <TicketSelector event={event} onConfirm={() => {}} onCancel={() => {}} />;
    }
    const r = renderUi(<Live />);
    press(r, '8');
    await frame(r, (x) => count(x) === 8);
    setEvent({ ...base, availableTickets: 5 });
    const f = await frame(r, '(1–5)');
    expect(count(f)).toBe(5);
    setEvent({ ...base, availableTickets: 0 });
    const gone = await frame(r, 'Sold out right now');
    expect(count(gone)).toBe(1);
  });

  it('says how many are held, when some are', async () => {
    const r = renderUi(<TicketSelector event={makeEvent({ name: 'Held', availableTickets: 6, totalTickets: 10, heldTickets: 4 })} onConfirm={() => {}} onCancel={() => {}} />);
    await frame(r, '6 of 10 left · 4 held');
    cleanup();
    const none = renderUi(<TicketSelector event={makeEvent({ name: 'Free', availableTickets: 6, totalTickets: 10 })} onConfirm={() => {}} onCancel={() => {}} />);
    expect(await frame(none, '6 of 10 left')).not.toContain('held');
  });
});
