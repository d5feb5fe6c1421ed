/**
 * The admin TUI's edit form shows an event's date on the clocks of its own zone and takes a time
 * typed that way, sending the instant the API stores; a date with an offset still goes as typed.
 */
import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { Event, EventPatch } from '../../src/client/types.js';
import type { LifecycleOps } from '../../src/tui/admin-backend.js';
import type { OrganiserNav } from '../../src/tui/screens/admin/organiser-screens.js';
import { EditEvent } from '../../src/tui/screens/admin/EditEvent.js';
import { frame, KEYS, makeEvent, press, renderUi, settle } from './helpers.js';

afterEach(cleanup);

function edit(event: Event) {
  const patches: EventPatch[] = [];
  const statuses: string[] = [];
  const ops = {
    updateEvent: async (_id: string, patch: EventPatch) => {
      patches.push(patch);
      return { ...event, ...patch };
    },
  } as unknown as LifecycleOps;
  const nav = {
    replace: () => {},
    back: () => {},
    setStatus: (s: { text: string }) => statuses.push(s.text),
  } as unknown as OrganiserNav;
  const r = renderUi(<EditEvent nav={nav} ops={ops} event={event} busy={false} />);
  return { r, patches, statuses };
}

const dateLine = (f: string) => f.split('\n').find((l) => /^[› ] Date/.test(l)) ?? '';

/**
 * Focus the date field, erase it, type `text`, then Tab to Save and press it. Each step waits for the
 * screen to show it: dozens of keys go one at a time through the dispatcher, which takes seconds on a
 * loaded machine.
 */
async function retypeDate(r: ReturnType<typeof renderUi>, text: string) {
  press(r, KEYS.tab, ...Array<string>(30).fill(KEYS.backspace), ...text);
  await frame(r, (f) => new RegExp(`^› Date\\s+${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`).test(dateLine(f)));
  press(r, ...Array<string>(5).fill(KEYS.tab), KEYS.enter);
}

/** What the form sent, however long the machine takes to get there (not the 1 s poll default). */
const sent = (patches: EventPatch[]) => expect.poll(() => patches, { timeout: 30_000 });

describe('EditEvent: the date in the event’s own zone', () => {
  it('shows a Berlin event at 20:00 local and sends 21:30 Berlin as the UTC instant', async () => {
    const { r, patches } = edit(makeEvent({ name: 'Berlin Gig', date: '2027-05-01T18:00:00.000Z', timeZone: 'Europe/Berlin' }));
    const f = await frame(r, 'Edit Berlin Gig');
    expect(dateLine(f)).toMatch(/Date\s+2027-05-01 20:00\s*$/);
    expect(f).toContain('The date is on the clocks of Europe/Berlin');
    await retypeDate(r, '2027-05-01 21:30');
    await sent(patches).toEqual([{ date: '2027-05-01T19:30:00.000Z' }]);
  });

  it('a New York winter event: local 19:00 shown, and a time with an offset still goes as typed', async () => {
    const { r, patches } = edit(makeEvent({ name: 'NY Show', date: '2027-01-16T00:00:00.000Z', timeZone: 'America/New_York' }));
    expect(dateLine(await frame(r, 'Edit NY Show'))).toMatch(/Date\s+2027-01-15 19:00\s*$/);
    await retypeDate(r, '2027-01-15T20:00-05:00');
    await sent(patches).toEqual([{ date: '2027-01-15T20:00-05:00' }]);
  });

  it('an unchanged date is not sent; a time the clocks skip is refused under the field, nothing sent', async () => {
    const { r, patches, statuses } = edit(makeEvent({ name: 'Spring Gig', date: '2027-03-27T19:00:00.000Z', timeZone: 'Europe/Berlin' }));
    await frame(r, 'Edit Spring Gig');
    press(r, ...Array<string>(6).fill(KEYS.tab), KEYS.enter);
    await expect.poll(() => statuses, { timeout: 30_000 }).toEqual(['Nothing changed']);
    // Back up to the first field, then as before.
    press(r, ...Array<string>(6).fill(KEYS.up));
    await retypeDate(r, '2027-03-28 02:30');
    await frame(r, '2027-03-28 02:30 does not exist in Europe/Berlin');
    await settle();
    expect(patches).toEqual([]);
  });
});
