import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { NewEventInput } from '../../src/client/types.js';
import { EventCreator, fieldError, toIsoDate } from '../../src/tui/components/EventCreator.js';
import { systemTimeZone, validateNewEvent } from '../../src/core/validation.js';
import { frame, KEYS, press, renderUi, settle } from './helpers.js';

afterEach(cleanup);

const focused = (f: string) => /› {1,2}([A-Z][a-z]+(?: [a-z]+)*)/.exec(f)?.[1];
/** The line right under a field's row (where its error goes). */
const under = (f: string, label: string) => {
  const lines = f.split('\n');
  const i = lines.findIndex((line) => line.includes(label));
  return lines[i + 1] ?? '';
};

describe('EventCreator', () => {
  it('uses the core rules: the same messages the API gives', () => {
    const empty = { name: '', date: '', totalTickets: '', maxTicketsPerBooking: '', holdSeconds: '' };
    let apiMessage = '';
    try {
      validateNewEvent({ name: '', date: '2030-01-01T00:00:00Z', totalTickets: 1 });
    } catch (err) {
      apiMessage = (err as Error).message;
    }
    expect(fieldError('name', empty)).toBe(apiMessage);
    expect(fieldError('maxTicketsPerBooking', empty)).toBeUndefined();
    expect(fieldError('holdSeconds', empty)).toBeUndefined();
    expect(fieldError('holdSeconds', { ...empty, holdSeconds: '86401' })).toMatch(/^holdSeconds must be a whole number from 1 to 86,400/);
    expect(fieldError('totalTickets', { ...empty, totalTickets: '10000001' })).toMatch(/^totalTickets must be a whole number from 1 to 10,000,000/);
    expect(fieldError('date', { ...empty, date: '2026-12-31 20:00' })).toBeUndefined();
    expect(fieldError('date', { ...empty, date: '2026-02-30 20:00' })).toMatch(/^date must be an ISO 8601 date-time/);
    expect(fieldError('date', { ...empty, date: '2026-12-31T20:00:00Z' })).toBeUndefined();
  });

  it('reads "YYYY-MM-DD HH:MM" as local time', () => {
    const iso = toIsoDate('2026-12-31 20:00');
    expect(iso).toMatch(/^2026-12-31T20:00:00[+-]\d\d:\d\d$/);
    const d = new Date(iso);
    expect([d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes()]).toEqual([2026, 11, 31, 20, 0]);
    expect(toIsoDate('2026-12-31T20:00:00Z')).toBe('2026-12-31T20:00:00Z');
  });

  it('moves between fields with Tab/↓/Enter and Shift-Tab/↑', async () => {
    const r = renderUi(<EventCreator onSubmit={() => {}} onCancel={() => {}} />);
    expect(focused(await frame(r, 'Add an event'))).toBe('Name');
    press(r, 'Gig', KEYS.tab);
    await frame(r, '› Date and time');
    press(r, KEYS.down);
    await frame(r, '› Total tickets');
    press(r, KEYS.shiftTab);
    await frame(r, '› Date and time');
    press(r, KEYS.up);
    await frame(r, '› Name');
  });

  it('shows the error under the field when you leave it, and keeps you there on Enter', async () => {
    const r = renderUi(<EventCreator onSubmit={() => {}} onCancel={() => {}} />);
    press(r, KEYS.enter);
    let f = await frame(r, 'name must be text');
    expect(under(f, 'Name')).toContain('name must be text of 1 to 200 characters, got "".');
    expect(focused(f)).toBe('Name');
    press(r, 'Rock Night', KEYS.enter, 'tomorrow', KEYS.tab);
    f = await frame(r, 'date must be');
    expect(f).not.toContain('name must be text');
    expect(under(f, 'Date and time')).toContain('date must be an ISO 8601 date-time with a time zone');
    expect(focused(f)).toBe('Total tickets');
    press(r, 'lots', KEYS.tab);
    f = await frame(r, 'totalTickets must be');
    expect(under(f, 'Total tickets')).toContain('totalTickets must be a whole number from 1 to 10,000,000, got "lots".');
    press(r, '0', KEYS.tab);
    await frame(r, 'maxTicketsPerBooking must be a whole number from 1 to 10,000, got 0.');
    press(r, '0', KEYS.tab);
    const f2 = await frame(r, 'holdSeconds must be');
    expect(under(f2, 'Hold seconds')).toContain('holdSeconds must be a whole number from 1 to 86,400, got 0.');
  });

  it('creates nothing until every field is valid, then submits the validated body', async () => {
    const onSubmit = vi.fn<(input: NewEventInput) => void>();
    const r = renderUi(<EventCreator onSubmit={onSubmit} onCancel={() => {}} />);
    // Past max per booking, hold seconds and the three sale fields, all left as they are.
    press(r, '  Rock Night ', KEYS.tab, '2026-02-30 20:00', KEYS.tab, '250', ...Array<string>(6).fill(KEYS.tab));
    await frame(r, '›  Create event');
    press(r, KEYS.enter);
    // Refused: focus goes back to the first bad field and nothing is submitted.
    let f = await frame(r, '› Date and time');
    await settle();
    expect(onSubmit).not.toHaveBeenCalled();
    expect(f).toContain('date must be');
    press(r, ...Array(16).fill(KEYS.backspace), '2026-12-31 20:00', KEYS.enter, KEYS.enter, '6', KEYS.enter, '90', KEYS.enter, KEYS.enter, KEYS.enter, KEYS.enter);
    f = await frame(r, '›  Create event');
    expect(f).not.toContain('must be');
    press(r, KEYS.enter);
    await vi.waitFor(() => expect(onSubmit).toHaveBeenCalledTimes(1));
    expect(onSubmit.mock.calls[0]![0]).toEqual({
      name: 'Rock Night',
      date: new Date(toIsoDate('2026-12-31 20:00')).toISOString(),
      totalTickets: 250,
      maxTicketsPerBooking: 6,
      holdSeconds: 90,
    });
  });

  it('leaves out an empty max per booking and hold seconds; Esc cancels', async () => {
    const onSubmit = vi.fn<(input: NewEventInput) => void>();
    const onCancel = vi.fn();
    const r = renderUi(<EventCreator onSubmit={onSubmit} onCancel={onCancel} />);
    press(r, 'Gig', KEYS.tab, '2027-01-01T10:00:00Z', KEYS.tab, '5', ...Array<string>(6).fill(KEYS.tab), KEYS.enter);
    await vi.waitFor(() => expect(onSubmit).toHaveBeenCalledWith({ name: 'Gig', date: '2027-01-01T10:00:00.000Z', totalTickets: 5 }));
    press(r, KEYS.escape);
    await vi.waitFor(() => expect(onCancel).toHaveBeenCalledTimes(1));
  });

  it('edits with ←/→ and Backspace at the cursor', async () => {
    const r = renderUi(<EventCreator onSubmit={() => {}} onCancel={() => {}} />);
    press(r, 'Rck', KEYS.left, KEYS.left, 'o', KEYS.right, KEYS.right, 'x', KEYS.backspace, ' Night');
    await frame(r, /Name\s+Rock Night/);
  });

  it('shows a spinner while busy and the server error when refused', async () => {
    const r = renderUi(<EventCreator onSubmit={() => {}} onCancel={() => {}} busy />);
    await frame(r, 'Creating the event…');
    r.rerender(<EventCreator onSubmit={() => {}} onCancel={() => {}} error="This endpoint needs the admin token." />);
    await frame(r, '✘ This endpoint needs the admin token.');
  });
});

describe('EventCreator: the sale settings (issue 13)', () => {
  /** Name, date and total filled in, then on to "Sale opens at". */
  const toSaleFields = (r: ReturnType<typeof renderUi>) => press(r, 'Sale Night', KEYS.tab, '2027-09-10 20:00', KEYS.tab, '100', KEYS.tab, KEYS.tab, KEYS.tab);

  it('creates an event with a waiting room, an on-sale time read on local clocks like the date, and a window', async () => {
    const onSubmit = vi.fn<(input: NewEventInput) => void>();
    const r = renderUi(<EventCreator onSubmit={onSubmit} onCancel={() => {}} />);
    const f = await frame(r, 'Add an event');
    expect(f).toMatch(/Waiting room\s+no/);
    toSaleFields(r);
    await frame(r, '› Sale opens at');
    press(r, '2027-08-01 10:00', KEYS.tab, KEYS.backspace, KEYS.backspace, 'yes', KEYS.tab, '25', KEYS.tab);
    await frame(r, '›  Create event');
    press(r, KEYS.enter);
    await vi.waitFor(() => expect(onSubmit).toHaveBeenCalledTimes(1));
    expect(onSubmit.mock.calls[0]![0]).toEqual({
      name: 'Sale Night',
      date: new Date(toIsoDate('2027-09-10 20:00')).toISOString(),
      totalTickets: 100,
      onSaleAt: new Date(toIsoDate('2027-08-01 10:00')).toISOString(),
      waitingRoom: true,
      queueWindow: 25,
    });
  });

  it('refuses a bad on-sale time and waiting-room answer next to their fields, as Sale settings does, and creates nothing', async () => {
    const onSubmit = vi.fn<(input: NewEventInput) => void>();
    const r = renderUi(<EventCreator onSubmit={onSubmit} onCancel={() => {}} />);
    await frame(r, 'Add an event');
    toSaleFields(r);
    press(r, 'next friday', KEYS.enter);
    // Enter keeps you on a wrong field, with the message under it.
    let f = await frame(r, 'Write the date as');
    expect(under(f, 'Sale opens at')).toContain(`Write the date as YYYY-MM-DD HH:MM in ${systemTimeZone()}`);
    expect(focused(f)).toBe('Sale opens at');
    press(r, KEYS.tab, KEYS.backspace, KEYS.backspace, 'maybe', KEYS.tab);
    f = await frame(r, 'Answer yes or no.');
    expect(under(f, 'Waiting room')).toContain('Answer yes or no.');
    press(r, KEYS.tab, KEYS.enter);
    await frame(r, '› Sale opens at');
    await settle();
    expect(onSubmit).not.toHaveBeenCalled();
    expect(fieldError('onSaleAt', { name: '', date: '', totalTickets: '', maxTicketsPerBooking: '', holdSeconds: '', onSaleAt: '2027-08-01T10:00+02:00' })).toBeUndefined();
    expect(fieldError('queueWindow', { name: '', date: '', totalTickets: '', maxTicketsPerBooking: '', holdSeconds: '', queueWindow: '0' })).toBe('A whole number, 1 or more, or empty for automatic.');
  });
});
