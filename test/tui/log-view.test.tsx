/** The Logs screen and its tail: scrolling, following, and colours by level. */
import { vi } from 'vitest';

// Colours on, before Ink's chalk is loaded: the frames must carry the level colours.
vi.hoisted(() => {
  process.env.FORCE_COLOR = '1';
});

import { cleanup } from 'ink-testing-library';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { LogView } from '../../src/tui/components/LogView.js';
import { LogTail } from '../../src/tui/log-tail.js';
import { frame, KEYS, press, renderUi } from './helpers.js';

afterEach(cleanup);

function tailWith(lines: number, capacity = 1_000): { tail: LogTail; logger: pino.Logger } {
  const tail = new LogTail(capacity);
  const logger = pino({ level: 'debug', base: { pid: 1 } }, tail);
  for (let i = 1; i <= lines; i++) logger.info(`record ${i}`);
  return { tail, logger };
}

const ESC = '\u001B';
const sgr = (code: number) => `${ESC}[${code}m`;
// chalk's basic colours: blue 34, green 32, yellow 33, red 31.
const lineWith = (f: string, text: string) => f.split('\n').find((line) => line.includes(text)) ?? '';

describe('LogTail', () => {
  it('is a pino destination that keeps the newest records, parsed on demand', () => {
    const { tail, logger } = tailWith(0, 3);
    logger.info({ eventId: 'e1', tickets: 2 }, 'booking confirmed');
    logger.warn('slow');
    logger.error({ err: new Error('boom') }, 'failed');
    logger.debug('detail');
    expect(tail.total).toBe(4);
    expect(tail.size).toBe(3);
    expect(tail.first).toBe(1);
    expect(tail.get(0)).toBeUndefined();
    expect([1, 2, 3].map((seq) => [tail.get(seq)!.level, tail.get(seq)!.msg])).toEqual([
      ['warn', 'slow'],
      ['error', 'failed'],
      ['debug', 'detail'],
    ]);
  });

  it('tells subscribers about writes', () => {
    const tail = new LogTail();
    let heard = 0;
    const off = tail.subscribe(() => heard++);
    tail.write('{"level":30,"time":1,"msg":"a"}\n{"level":30,"time":2,"msg":"b"}\n');
    off();
    tail.write('{"level":30,"time":3,"msg":"c"}\n');
    expect(heard).toBe(1);
    expect(tail.total).toBe(3);
    expect(tail.get(1)?.msg).toBe('b');
  });
});

describe('LogView', () => {
  it('colours each record by level: DEBUG blue, INFO green, WARN yellow, ERROR red', async () => {
    const tail = new LogTail();
    const logger = pino({ level: 'debug' }, tail);
    logger.debug('a debug line');
    logger.info('an info line');
    logger.warn('a warn line');
    logger.error('an error line');
    const r = renderUi(<LogView tail={tail} height={10} width={80} />);
    const f = await frame(r, 'an error line', { raw: true });
    expect(lineWith(f, 'a debug line')).toContain(`${sgr(1)}${sgr(34)}DEBUG`);
    expect(lineWith(f, 'an info line')).toContain(`${sgr(1)}${sgr(32)}INFO`);
    expect(lineWith(f, 'a warn line')).toContain(`${sgr(1)}${sgr(33)}WARN`);
    expect(lineWith(f, 'an error line')).toContain(`${sgr(1)}${sgr(31)}ERROR`);
  });

  it('shows the newest records at the bottom and follows new ones', async () => {
    const { tail, logger } = tailWith(40);
    const r = renderUi(<LogView tail={tail} height={10} width={80} />);
    const f = await frame(r, 'record 40');
    expect(f).toContain('record 33');
    expect(f).not.toContain('record 32');
    expect(f).toContain('following');
    logger.info('record 41');
    const next = await frame(r, 'record 41');
    expect(next).not.toContain('record 33');
  });

  it('scrolls with arrows, PgUp/PgDn, Home/End, and the mouse wheel; stays put while scrolled up', async () => {
    const { tail, logger } = tailWith(40);
    const r = renderUi(<LogView tail={tail} height={10} width={80} />);
    await frame(r, 'record 40');
    press(r, KEYS.up);
    let f = await frame(r, (x) => x.includes('record 39') && !x.includes('record 40'));
    expect(f).toContain('record 39 of 40');
    press(r, KEYS.pageUp);
    f = await frame(r, (x) => x.includes('record 32') && !x.includes('record 33 '));
    logger.info('record 41');
    await frame(r, 'of 41');
    expect(r.lastFrame()).not.toContain('record 41');
    press(r, KEYS.home);
    f = await frame(r, /INFO {2}record 1$/m);
    press(r, KEYS.pageDown);
    await frame(r, (x) => !/INFO {2}record 1$/m.test(x));
    // SGR mouse reports: wheel down ×1 (3 records), wheel up ×1.
    const before = /record (\d+) of/.exec(await frame(r, 'of 41'))![1];
    press(r, `${ESC}[<65;10;5M`);
    await frame(r, `record ${Number(before) + 3} of`);
    press(r, `${ESC}[<64;10;5M`);
    await frame(r, `record ${before} of`);
    press(r, KEYS.end);
    await frame(r, (x) => x.includes('record 41') && x.includes('following'));
  });

  it('wraps a long record and dims its fields; Esc goes back', async () => {
    const tail = new LogTail();
    const logger = pino({ level: 'info' }, tail);
    logger.info({ bookingId: '2207725b-db54-4b9a-b956-5f1c0456a3d1', eventId: 'c5ef5be9-ddc8-42a2-89f6-d4267df9c28a' }, 'Booked 3 tickets');
    let back = 0;
    const r = renderUi(<LogView tail={tail} height={10} width={60} onBack={() => back++} />);
    const f = await frame(r, 'Booked 3 tickets');
    expect(f.split('\n').filter((line) => line.trim() !== '').length).toBeGreaterThanOrEqual(4);
    expect(f).toMatch(/bookingId=2207725b/);
    press(r, KEYS.escape);
    await expect.poll(() => back).toBe(1);
  });
});
