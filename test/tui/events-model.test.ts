/** The live events model: snapshots, created events, and availability changes with or without held counts. */
import { describe, expect, it, vi } from 'vitest';
import type { Event } from '../../src/client/types.js';
import { EventsModel } from '../../src/tui/events-model.js';
import { makeEvent } from './helpers.js';

describe('EventsModel', () => {
  it('applies heldTickets from a change, and keeps it when a change does not say (older servers)', () => {
    const model = new EventsModel();
    const e = makeEvent({ totalTickets: 10, availableTickets: 10 });
    model.apply({ type: 'snapshot', events: [e] });
    model.apply({ type: 'changes', created: [], availability: [{ id: e.id, availableTickets: 7, heldTickets: 3 }] });
    expect(model.get(e.id)).toMatchObject({ availableTickets: 7, heldTickets: 3 });
    model.apply({ type: 'changes', created: [], availability: [{ id: e.id, availableTickets: 6 }] });
    expect(model.get(e.id)).toMatchObject({ availableTickets: 6, heldTickets: 3 });
    // A hold released: only the held count changes.
    model.apply({ type: 'changes', created: [], availability: [{ id: e.id, availableTickets: 6, heldTickets: 0 }] });
    expect(model.get(e.id)).toMatchObject({ availableTickets: 6, heldTickets: 0 });
  });

  it('follows checkedInTickets from a change (issue 14), and keeps it when a change does not say', () => {
    const model = new EventsModel();
    const e = makeEvent({ totalTickets: 10, availableTickets: 8 });
    model.apply({ type: 'snapshot', events: [e] });
    const listener = vi.fn();
    model.subscribe(listener);
    // Only a door admitted someone: sales unchanged, the count moves and the screen hears of it.
    model.apply({ type: 'changes', created: [], availability: [{ id: e.id, availableTickets: 8, heldTickets: 0, checkedInTickets: 1 }] });
    expect(model.get(e.id)).toMatchObject({ availableTickets: 8, checkedInTickets: 1 });
    model.apply({ type: 'changes', created: [], availability: [{ id: e.id, availableTickets: 7, heldTickets: 0 }] });
    expect(model.get(e.id)).toMatchObject({ availableTickets: 7, checkedInTickets: 1 });
    expect(listener).toHaveBeenCalledTimes(2);
  });

  it('replaces the event on a change (a screen holding the old one sees it unchanged) and tells listeners', () => {
    const model = new EventsModel();
    const e = makeEvent();
    model.apply({ type: 'snapshot', events: [e] });
    const before = model.get(e.id)!;
    const listener = vi.fn();
    model.subscribe(listener);
    model.setAvailability(e.id, 100, 5);
    expect(listener).toHaveBeenCalledTimes(1);
    expect(before.heldTickets).toBe(0);
    expect(model.get(e.id)!.heldTickets).toBe(5);
    // Nothing changed: no notice.
    model.setAvailability(e.id, 100, 5);
    model.setAvailability(e.id, 100);
    expect(listener).toHaveBeenCalledTimes(1);
    // Unknown events wait for a snapshot.
    model.setAvailability('nope', 1, 1);
    expect(model.get('nope')).toBeUndefined();
  });

  it('an event from a server older than holds counts none held', () => {
    const model = new EventsModel();
    const { heldTickets: _h, holdSeconds: _s, ...old } = makeEvent();
    model.apply({ type: 'snapshot', events: [old as Event] });
    expect(model.get(old.id)!.heldTickets).toBe(0);
  });

  it('a name stored before names were checked prints as text: no escape reaches the terminal', () => {
    const model = new EventsModel();
    const e = makeEvent({ name: 'Gig \u001b[2J\u001b[31mred \u202eevil' });
    model.apply({ type: 'snapshot', events: [e] });
    model.apply({ type: 'changes', created: [makeEvent({ name: 'New\u0007\nline' })], availability: [] });
    const names = model.list().map((x) => x.name);
    expect(names.join('')).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/u);
    expect(names).toContain('Gig \ufffd[2J\ufffd[31mred \ufffdevil');
  });
});
