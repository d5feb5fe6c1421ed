/**
 * The organiser's waiting-room screen and sale settings against fake operations: the line's numbers,
 * pause and resume, the settings form sending only what changed, and an event without a room.
 */
import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { Event, EventPatch, QueueSummary } from '../../src/client/types.js';
import type { LifecycleOps, QueueOps } from '../../src/tui/admin-backend.js';
import type { OrganiserNav } from '../../src/tui/screens/admin/organiser-screens.js';
import { QueueScreen } from '../../src/tui/screens/admin/QueueScreen.js';
import { SaleSettings } from '../../src/tui/screens/admin/SaleSettings.js';
import { frame, KEYS, makeEvent, press, renderUi } from './helpers.js';

afterEach(cleanup);

function summaryOf(fields: Partial<QueueSummary> = {}): QueueSummary {
  return {
    eventId: 'x',
    length: 1200,
    waiting: 900,
    admitted: 300,
    inProgress: 40,
    done: 250,
    expired: 10,
    serving: 300,
    window: 50,
    paused: false,
    admitRatePerMinute: 120,
    open: true,
    opensAt: '2027-05-01T17:30:00.000Z',
    onSaleAt: '2027-05-01T18:00:00.000Z',
    ...fields,
  };
}

function fakeNav() {
  const statuses: string[] = [];
  const went: string[] = [];
  const nav = {
    back: () => went.push('back'),
    go: (s: { name: string }) => went.push(s.name),
    replace: () => {},
    setStatus: (s: { text: string }) => statuses.push(s.text),
  } as unknown as OrganiserNav;
  return { nav, statuses, went };
}

describe('the organiser’s waiting-room screen', () => {
  it('shows the line’s numbers, pauses and resumes it', async () => {
    let current = summaryOf();
    const calls: string[] = [];
    const ops: QueueOps = {
      summary: async () => current,
      pause: async () => {
        calls.push('pause');
        return (current = { ...current, paused: true });
      },
      resume: async () => {
        calls.push('resume');
        return (current = { ...current, paused: false });
      },
    };
    const event = makeEvent({ name: 'Big Night', waitingRoom: true, onSaleAt: '2027-05-01T18:00:00.000Z', timeZone: 'Europe/Berlin', queueWindow: null });
    const { nav, statuses } = fakeNav();
    const r = renderUi(<QueueScreen nav={nav} ops={ops} event={event} width={100} refreshMs={50} />);
    let f = await frame(r, 'In line');
    expect(f).toContain('Sale opens Sat 01 May 2027 20:00 CEST');
    expect(f).toContain('buyers at once automatic');
    expect(f).toMatch(/In line\s+1,200/);
    expect(f).toMatch(/Admitted\s+300/);
    expect(f).toMatch(/In progress\s+40 of 50 at once/);
    expect(f).toMatch(/Admit rate\s+120 a minute/);
    expect(f).toContain('moving');

    press(r, 'p');
    f = await frame(r, 'PAUSED');
    expect(calls).toEqual(['pause']);
    expect(statuses.at(-1)).toContain('paused');
    // Live: the numbers are read again.
    current = { ...current, length: 1300 };
    await frame(r, /In line\s+1,300/);

    press(r, 'r');
    await frame(r, 'moving');
    expect(calls).toEqual(['pause', 'resume']);
  });

  it('says when an event has no waiting room, and opens the settings with s', async () => {
    const ops: QueueOps = { summary: async () => summaryOf(), pause: async () => summaryOf(), resume: async () => summaryOf() };
    const { nav, went } = fakeNav();
    const r = renderUi(<QueueScreen nav={nav} ops={ops} event={makeEvent({ waitingRoom: false })} width={100} />);
    await frame(r, 'No waiting room');
    press(r, 's');
    await expect.poll(() => went, { timeout: 10_000 }).toContain('sale-settings');
  });
});

describe('the sale settings form', () => {
  function settings(event: Event) {
    const patches: EventPatch[] = [];
    const ops = {
      updateEvent: async (_id: string, patch: EventPatch) => {
        patches.push(patch);
        return { ...event, ...patch };
      },
    } as unknown as LifecycleOps;
    const { nav, statuses } = fakeNav();
    const r = renderUi(<SaleSettings nav={nav} ops={ops} event={event} busy={false} />);
    return { r, patches, statuses };
  }

  it('sends the sale time read on the event’s clocks, the room and the window, and only those', async () => {
    const { r, patches } = settings(makeEvent({ timeZone: 'Europe/Berlin', waitingRoom: false, onSaleAt: null, queueWindow: null }));
    await frame(r, 'Sale opens at');
    press(r, '2027-05-01 20:00', KEYS.tab);
    press(r, KEYS.backspace, KEYS.backspace, 'yes', KEYS.tab);
    press(r, '25', KEYS.tab, KEYS.enter);
    await expect.poll(() => patches.length, { timeout: 10_000 }).toBe(1);
    expect(patches[0]).toEqual({ onSaleAt: '2027-05-01T18:00:00.000Z', waitingRoom: true, queueWindow: 25 });
  });

  it('refuses a wrong answer under its field and sends nothing', async () => {
    const { r, patches } = settings(makeEvent({ waitingRoom: false, onSaleAt: null, queueWindow: null }));
    await frame(r, 'Waiting room');
    press(r, KEYS.tab, KEYS.backspace, KEYS.backspace, 'maybe', KEYS.tab, KEYS.tab, KEYS.enter);
    await frame(r, 'Answer yes or no.');
    expect(patches).toEqual([]);
  });
});
