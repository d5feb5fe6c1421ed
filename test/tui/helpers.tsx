import { EVENT_LIFECYCLE_DEFAULTS } from '../../src/core/types.js';
import { render } from 'ink-testing-library';
import type { ReactElement } from 'react';
import { expect } from 'vitest';
import type { Event } from '../../src/client/types.js';
import { KeyboardProvider } from '../../src/tui/keys.js';

/** What a terminal sends for each key. */
export const KEYS = {
  up: '\u001B[A',
  down: '\u001B[B',
  right: '\u001B[C',
  left: '\u001B[D',
  enter: '\r',
  escape: '\u001B',
  tab: '\t',
  shiftTab: '\u001B[Z',
  backspace: '\u007F',
  pageUp: '\u001B[5~',
  pageDown: '\u001B[6~',
  home: '\u001B[H',
  end: '\u001B[F',
  ctrlC: '\u0003',
} as const;

export type Rendered = ReturnType<typeof render>;

/** Renders inside the keyboard dispatcher the apps use. */
export function renderUi(node: ReactElement): Rendered {
  return render(<KeyboardProvider>{node}</KeyboardProvider>);
}

/** Strips colours and styles. */
export function plain(text: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  return (text ?? '').replace(/\u001B\[[0-9;]*m/g, '');
}

/**
 * Waits until the last frame (colours stripped unless `raw`) matches, and returns it. Keys are
 * dispatched asynchronously, so every check after a key press goes through here. The default bound is
 * generous on purpose: it only says when to give up. A door code is 130 keys taken one at a time,
 * which at load 18 took more than 5 s (the old default) while the screen was still right.
 */
const FRAME_TIMEOUT_MS = 30_000;

export async function frame(r: Rendered, match: string | RegExp | ((f: string) => boolean), options: { timeoutMs?: number; raw?: boolean } = {}): Promise<string> {
  const test = typeof match === 'function' ? match : typeof match === 'string' ? (f: string) => f.includes(match) : (f: string) => match.test(f);
  const deadline = Date.now() + (options.timeoutMs ?? FRAME_TIMEOUT_MS);
  for (;;) {
    const f = options.raw ? (r.lastFrame() ?? '') : plain(r.lastFrame());
    if (test(f)) return f;
    if (Date.now() > deadline) {
      expect.fail(`no frame matched ${String(match)} within ${options.timeoutMs ?? FRAME_TIMEOUT_MS} ms; the last one was:\n${f}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Types keys (one write; the dispatcher takes them one at a time). Esc must be the last key of a write. */
export function press(r: Rendered, ...keys: string[]): void {
  r.stdin.write(keys.join(''));
}

/** Lets pending key dispatches and renders settle (for checks that something did NOT happen). */
export function settle(ms = 60): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let counter = 0;
export function makeEvent(fields: Partial<Event> = {}): Event {
  counter++;
  return {
    id: `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`,
    name: `Event ${counter}`,
    date: '2027-06-01T18:00:00.000Z',
    totalTickets: 100,
    availableTickets: 100,
    heldTickets: 0,
    offlineCheckIn: false,
    checkedInTickets: 0,
    ...EVENT_LIFECYCLE_DEFAULTS,
    maxTicketsPerBooking: 100,
    holdSeconds: 600,
    maxHeldPerBuyer: 100,
    maxTicketsPerBuyer: 100,
    ...fields,
  };
}
