import { cleanup } from 'ink-testing-library';
import { useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Event } from '../../src/client/types.js';
import { EventList } from '../../src/tui/components/EventList.js';
import { formatEventDate } from '../../src/tui/format.js';
import { frame, KEYS, makeEvent, press, renderUi, settle } from './helpers.js';

afterEach(cleanup);

const jazz = makeEvent({ name: 'Jazz Evening', date: '2027-03-01T19:00:00.000Z', totalTickets: 50, availableTickets: 50 });
const rock = makeEvent({ name: 'Rock Night', date: '2027-01-15T20:00:00.000Z', totalTickets: 200, availableTickets: 198 });
const soldOut = makeEvent({ name: 'Opera Gala', date: '2027-02-10T18:30:00.000Z', totalTickets: 80, availableTickets: 0 });
const events = [jazz, rock, soldOut];
const rowOf = (f: string, name: string) => f.split('\n').find((line) => line.includes(name)) ?? '';
const selected = (f: string) => /› (.+?)\s{2,}/.exec(f)?.[1];

describe('EventList', () => {
  it('shows each event at its own place’s time, with the zone’s label, whatever zone this machine is in', async () => {
    const berlin = makeEvent({ name: 'Berlin Concert', date: '2026-12-31T19:00:00.000Z', timeZone: 'Europe/Berlin' });
    const newYork = makeEvent({ name: 'NY Show', date: '2027-07-04T23:30:00.000Z', timeZone: 'America/New_York' });
    const r = renderUi(<EventList events={[berlin, newYork]} height={12} width={80} showSold />);
    const f = await frame(r, 'NY Show');
    expect(rowOf(f, 'Berlin Concert')).toContain('Thu 31 Dec 2026 20:00 CET');
    expect(rowOf(f, 'NY Show')).toContain('Sun 04 Jul 2027 19:30 GMT-4');
    expect(formatEventDate('2027-07-04T18:00:00.000Z', 'Europe/Berlin')).toBe('Sun 04 Jul 2027 20:00 CEST');
  });

  it('lists events by date with local readable dates, availability, and sold-out marked', async () => {
    const r = renderUi(<EventList events={events} height={12} width={80} />);
    const f = await frame(r, 'Rock Night');
    const order = ['Rock Night', 'Opera Gala', 'Jazz Evening'].map((name) => f.indexOf(name));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(rowOf(f, 'Rock Night')).toContain(formatEventDate(rock.date, rock.timeZone));
    expect(formatEventDate(rock.date)).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d (Jan|Feb|Mar) 2027 \d\d:\d\d$/);
    expect(rowOf(f, 'Rock Night')).toMatch(/198 \/ 200$/);
    expect(rowOf(f, 'Opera Gala')).toMatch(/SOLD OUT$/);
    expect(f).toMatch(/Events\s+3/);
  });

  it('says CANCELLED and SALES CLOSED instead of counts a buyer cannot buy from; a cancelled event has sold nothing', async () => {
    // A cancelled event's stock is zeroed: total − available would count every ticket as sold.
    const cancelled = makeEvent({ name: 'Called Off', date: '2027-04-01T19:00:00.000Z', totalTickets: 10, availableTickets: 0, status: 'cancelled', salesOpen: false });
    const closed = makeEvent({ name: 'Paused Show', date: '2027-05-01T19:00:00.000Z', totalTickets: 10, availableTickets: 7, salesOpen: false });
    const r = renderUi(<EventList events={[cancelled, closed]} height={12} width={80} showSold />);
    const f = await frame(r, 'Paused Show');
    expect(rowOf(f, 'Called Off')).toMatch(/CANCELLED\s+0$/);
    expect(rowOf(f, 'Paused Show')).toMatch(/SALES CLOSED\s+3$/);
  });

  it('shows tickets sold in the organiser view', async () => {
    const r = renderUi(<EventList events={events} height={12} width={80} showSold />);
    const f = await frame(r, 'Sold');
    expect(rowOf(f, 'Rock Night')).toMatch(/198 \/ 200\s+2$/);
    expect(rowOf(f, 'Opera Gala')).toMatch(/SOLD OUT\s+80$/);
  });

  it('moves the selection with arrows, PgUp/PgDn, Home/End, and stays in bounds', async () => {
    const r = renderUi(<EventList events={events} height={12} width={80} />);
    expect(selected(await frame(r, '› Rock'))).toBe('Rock Night');
    press(r, KEYS.down);
    await frame(r, '› Opera');
    press(r, KEYS.down, KEYS.down, KEYS.down);
    await frame(r, '› Jazz');
    await settle();
    expect(selected(await frame(r, '›'))).toBe('Jazz Evening');
    press(r, KEYS.up, KEYS.up, KEYS.up, KEYS.up);
    await frame(r, '› Rock');
    press(r, KEYS.end);
    await frame(r, '› Jazz');
    press(r, KEYS.home);
    await frame(r, '› Rock');
    press(r, KEYS.pageDown);
    await frame(r, '› Jazz');
    press(r, KEYS.pageUp);
    await frame(r, '› Rock');
  });

  it('typing filters by name (case-insensitive), Backspace widens it again', async () => {
    const r = renderUi(<EventList events={events} height={12} width={80} />);
    await frame(r, 'type to filter');
    press(r, 'n', 'I', 'g');
    const narrowed = await frame(r, 'filter: nIg');
    expect(narrowed).toContain('Rock Night');
    expect(narrowed).not.toContain('Jazz Evening');
    expect(narrowed).not.toContain('Opera Gala');
    expect(narrowed).toMatch(/Events\s+1 of 3/);
    press(r, 'x');
    await frame(r, 'No events match "nIgx".');
    press(r, KEYS.backspace, KEYS.backspace, KEYS.backspace, KEYS.backspace);
    const wide = await frame(r, 'type to filter');
    expect(wide).toContain('Jazz Evening');
  });

  it('Enter picks the highlighted event (undefined when the filter matches nothing); Esc goes back', async () => {
    const onPick = vi.fn();
    const onBack = vi.fn();
    const r = renderUi(<EventList events={events} height={12} width={80} onPick={onPick} onBack={onBack} />);
    press(r, KEYS.down, KEYS.enter);
    await vi.waitFor(() => expect(onPick).toHaveBeenCalledWith(soldOut));
    press(r, 'z', 'z', 'z', KEYS.enter);
    await vi.waitFor(() => expect(onPick).toHaveBeenLastCalledWith(undefined));
    press(r, KEYS.escape);
    await vi.waitFor(() => expect(onBack).toHaveBeenCalledTimes(1));
  });

  it('follows live updates: availability changes, new events appear in date order, the highlight stays on its event', async () => {
    let update!: (events: Event[]) => void;
    function Live() {
      const [list, setList] = useState<Event[]>(events);
      update = setList;
      return <EventList events={list} height={12} width={80} />;
    }
    const r = renderUi(<Live />);
    press(r, KEYS.down);
    await frame(r, '› Opera');
    const early = makeEvent({ name: 'New Year Party', date: '2026-12-31T22:00:00.000Z', totalTickets: 10, availableTickets: 10 });
    update([{ ...rock, availableTickets: 190 }, soldOut, jazz, early]);
    const f = await frame(r, 'New Year Party');
    expect(f.indexOf('New Year Party')).toBeLessThan(f.indexOf('Rock Night'));
    expect(rowOf(f, 'Rock Night')).toMatch(/190 \/ 200$/);
    expect(selected(f)).toBe('Opera Gala');
  });

  it('scrolls a long list to keep the highlight visible and says which rows are shown', async () => {
    const many = Array.from({ length: 30 }, (_, i) =>
      makeEvent({ name: `Show ${String(i + 1).padStart(2, '0')}`, date: new Date(Date.UTC(2027, 0, i + 1, 20)).toISOString() }),
    );
    const r = renderUi(<EventList events={many} height={8} width={80} />);
    const first = await frame(r, '1–5 of 30');
    expect(first).toContain('Show 01');
    expect(first).not.toContain('Show 06');
    press(r, ...Array(7).fill(KEYS.down));
    const scrolled = await frame(r, '› Show 08');
    expect(scrolled).toContain('4–8 of 30');
    expect(scrolled).not.toContain('Show 03');
  });

  it('says so when there are no events', async () => {
    const r = renderUi(<EventList events={[]} height={8} width={80} emptyText="No events yet: add one from the menu." />);
    await frame(r, 'No events yet: add one from the menu.');
  });

  it('shows held tickets beside the available ones; nothing left but some held is not "sold out"', async () => {
    const held = makeEvent({ name: 'Held Show', date: '2027-01-20T20:00:00.000Z', totalTickets: 10, availableTickets: 7, heldTickets: 3 });
    const allHeld = makeEvent({ name: 'All Held', date: '2027-01-21T20:00:00.000Z', totalTickets: 4, availableTickets: 0, heldTickets: 4 });
    const r = renderUi(<EventList events={[...events, held, allHeld]} height={12} width={80} />);
    const f = await frame(r, 'Held Show');
    expect(rowOf(f, 'Held Show')).toMatch(/7 \/ 10 · 3 held$/);
    expect(rowOf(f, 'All Held')).toMatch(/0 \/ 4 · 4 held$/);
    expect(rowOf(f, 'Opera Gala')).toMatch(/SOLD OUT$/);
    expect(rowOf(f, 'Rock Night')).toMatch(/198 \/ 200$/);
    for (const line of f.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    // Organisers: held tickets are not sold.
    cleanup();
    const o = renderUi(<EventList events={[held]} height={12} width={80} showSold />);
    expect(rowOf(await frame(o, 'Held Show'), 'Held Show')).toMatch(/7 \/ 10 · 3 held\s+0$/);
  });

  it('keeps the narrow column while nothing is held, and caps the wide one', async () => {
    const huge = makeEvent({ name: 'Huge', totalTickets: 10_000_000, availableTickets: 1_000_000, heldTickets: 9_000_000 });
    const r = renderUi(<EventList events={[huge]} height={8} width={80} />);
    const f = await frame(r, 'Huge');
    for (const line of f.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(rowOf(f, 'Huge')).toMatch(/1,000,000 \/ 10,000,000 · 9…$/);
  });
});
