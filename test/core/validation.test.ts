import { describe, expect, it } from 'vitest';
import { BoxofficeError } from '../../src/core/errors.js';
import { parseId, parseTicketCount, validateDate, validateNewEvent } from '../../src/core/validation.js';

const invalid = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BoxofficeError);
    expect((err as BoxofficeError).code).toBe('invalid_request');
    expect((err as BoxofficeError).status).toBe(400);
    return (err as BoxofficeError).message;
  }
  throw new Error('expected invalid_request');
};

describe('parseTicketCount', () => {
  it.each([
    [1, 1],
    [100, 100],
    ['1', 1],
    ['42', 42],
  ])('accepts %j', (value, expected) => {
    expect(parseTicketCount(value, 100)).toBe(expected);
  });

  it.each([0, -5, 1.5, 101, 99999999999, Number.NaN, Infinity, '0', '-5', 'abc', '1.5', '1e3', '01', '+3', ' 3', '', '0x10', null, undefined, true, [3], { n: 3 }])(
    'refuses %j',
    (value) => {
      expect(invalid(() => parseTicketCount(value, 100))).toMatch(/^tickets must be a whole number from 1 to 100, got /);
    },
  );

  it("respects the event's own maximum", () => {
    expect(parseTicketCount(4, 4)).toBe(4);
    invalid(() => parseTicketCount(5, 4));
  });
});

describe('parseId', () => {
  it('accepts UUIDv4 and returns it lowercase', () => {
    expect(parseId('3F2B8C4E-6A1D-4E5F-9B7A-2C8D1E0F4A6B')).toBe('3f2b8c4e-6a1d-4e5f-9b7a-2c8d1e0f4a6b');
  });
  it.each(['', 'nope', '3f2b8c4e-6a1d-1e5f-9b7a-2c8d1e0f4a6b', '3f2b8c4e6a1d4e5f9b7a2c8d1e0f4a6b', '../etc/passwd', 42, null])('refuses %j', (v) => {
    invalid(() => parseId(v));
  });
});

describe('validateDate', () => {
  it.each([
    ['2026-12-31T20:00:00Z', '2026-12-31T20:00:00.000Z'],
    ['2026-12-31T20:00Z', '2026-12-31T20:00:00.000Z'],
    ['2026-12-31T21:30:00+01:00', '2026-12-31T20:30:00.000Z'],
    ['2028-02-29T10:00:00.123Z', '2028-02-29T10:00:00.123Z'],
  ])('normalises %s to UTC', (input, expected) => {
    expect(validateDate(input)).toBe(expected);
  });
  it.each(['2026-12-31', '2026-12-31T20:00:00', '2026-02-30T20:00:00Z', '2026-13-01T00:00:00Z', '2026-12-31T24:00:00Z', 'tomorrow', 1767211200000, ''])(
    'refuses %j',
    (v) => {
      expect(invalid(() => validateDate(v))).toMatch(/ISO 8601/);
    },
  );
});

describe('validateNewEvent', () => {
  const good = { name: '  Concert  ', date: '2026-12-31T20:00:00Z', totalTickets: 100 };
  it('trims the name and applies the default maximum per booking', () => {
    expect(validateNewEvent(good)).toEqual({
      name: 'Concert',
      date: '2026-12-31T20:00:00.000Z',
      totalTickets: 100,
      maxTicketsPerBooking: 100,
      holdSeconds: 600,
      // Per-buyer limits default to one booking's worth held at once, and no limit of their own in all.
      maxHeldPerBuyer: 100,
      maxTicketsPerBuyer: 100,
      offlineCheckIn: false,
      // Issue 17: no zone (the server's default applies), sales open, no buyer details asked.
      description: '',
      venue: '',
      salesOpen: true,
      buyerDetails: 'none',
      // Issue 13: on sale now, no waiting room, the window derived from the stock.
      onSaleAt: null,
      waitingRoom: false,
      queueWindow: null,
    });
    expect(validateNewEvent({ ...good, maxTicketsPerBooking: 4 }).maxTicketsPerBooking).toBe(4);
  });
  it.each([
    [{ ...good, name: '   ' }, /name/],
    [{ ...good, name: 'x'.repeat(201) }, /name/],
    [{ ...good, name: 7 }, /name/],
    [{ ...good, date: 'soon' }, /date/],
    [{ ...good, totalTickets: 0 }, /totalTickets/],
    [{ ...good, totalTickets: 10_000_001 }, /totalTickets must be a whole number from 1 to 10,000,000/],
    [{ ...good, totalTickets: 1.5 }, /totalTickets/],
    [{ ...good, totalTickets: '100' }, /totalTickets/],
    [{ ...good, maxTicketsPerBooking: 0 }, /maxTicketsPerBooking/],
    [null, /JSON object/],
    [[good], /JSON object/],
  ])('refuses %j', (input, message) => {
    expect(invalid(() => validateNewEvent(input))).toMatch(message);
  });
  // The organiser's terminal renders names raw: ESC would inject colours and cursor moves, bidi
  // overrides would show "Concert" while storing something else, and a name of only invisible
  // characters shows as a blank row.
  it.each([
    ['ESC (terminal colours)', 'Rock \u001b[31mred\u001b[0m', /U\+001B \(character 6\)/],
    ['NUL', 'Rock\u0000Night', /U\+0000/],
    ['a newline', 'Rock\nNight', /U\+000A/],
    ['a tab', 'Rock\tNight', /U\+0009/],
    ['DEL', 'Rock\u007f', /U\+007F/],
    ['a C1 control (CSI)', 'Rock\u009b31m', /U\+009B/],
    ['a right-to-left override', 'Concert \u202egpj.exe', /U\+202E/],
    ['a left-to-right isolate', 'A \u2066B\u2069', /U\+2066/],
    ['only zero-width spaces', '\u200b\u200b', /at least one visible character/],
    ['only a byte-order mark and joiners', '\u200d\u200c\u2060', /at least one visible character/],
    ['only Hangul fillers', '\u3164\u3164', /at least one visible character/],
  ])('refuses a name with %s', (_what, name, message) => {
    const text = invalid(() => validateNewEvent({ ...good, name }));
    expect(text).toMatch(/^name must/);
    expect(text).toMatch(message);
  });
  it('keeps names in any script, with emoji and with joiners between visible characters', () => {
    for (const name of ['Café Müller', 'Концерт', 'مسرح', '東京ドーム', '👩‍👩‍👧 Family day', 'Sigur Rós — Live']) {
      expect(validateNewEvent({ ...good, name }).name).toBe(name);
    }
  });
  it('accepts the extremes', () => {
    expect(validateNewEvent({ ...good, name: 'x'.repeat(200), totalTickets: 10_000_000 }).totalTickets).toBe(10_000_000);
    expect(validateNewEvent({ ...good, totalTickets: 1 }).totalTickets).toBe(1);
  });
});
