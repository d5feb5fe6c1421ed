/**
 * The door screen (issue 14) against a door server in memory: the big green / red answers, the
 * counts, the connection indicator, offline admission and the conflicts screen.
 */
import { vi } from 'vitest';

vi.hoisted(() => {
  process.env.FORCE_COLOR = '1';
});

import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { DoorSession } from '../../src/client/door-session.js';
import { DoorApp } from '../../src/tui/door-app.js';
import { FakeDoorServer } from '../helpers/fake-door.js';
import { frame, KEYS, press, renderUi } from './helpers.js';

afterEach(cleanup);

function door(server: FakeDoorServer) {
  const session = new DoorSession(server, { refreshMs: 60_000, probeMs: 60_000 });
  const r = renderUi(<DoorApp session={session} baseUrl={server.baseUrl} />);
  return { r, session };
}

/** ANSI background colours as chalk writes them. */
const GREEN_BG = '\u001B[42m';
const RED_BG = '\u001B[41m';

describe('DoorApp', () => {
  it('downloads the door list, then admits a scanned code in green and refuses it again in red with the first door', async () => {
    const server = new FakeDoorServer();
    const { r } = door(server);
    await frame(r, 'R E A D Y');
    expect(await frame(r, 'Rock Night')).toContain('● online');
    const t = server.ticket();
    press(r, t.code, KEYS.enter);
    const admitted = await frame(r, 'A D M I T T E D', { raw: false });
    expect(admitted).toContain(`ticket ${t.id.slice(0, 8)}`);
    expect(admitted).toMatch(/admitted here 1 · checked in 1/);
    expect(r.lastFrame()).toContain(GREEN_BG);
    press(r, t.code, KEYS.enter);
    const again = await frame(r, /ALREADY IN — \d\d:\d\d North door/);
    expect(again).toContain('admitted here 1');
    expect(r.lastFrame()).toContain(RED_BG);
  });

  it('says FORGED for an altered code and OTHER EVENT for another event', async () => {
    const server = new FakeDoorServer();
    const { r } = door(server);
    await frame(r, 'R E A D Y');
    const t = server.ticket();
    press(r, t.code.slice(0, 20) + (t.code[20] === 'x' ? 'y' : 'x') + t.code.slice(21), KEYS.enter);
    await frame(r, 'F O R G E D');
    press(r, server.ticket(server.otherEventId).code, KEYS.enter);
    await frame(r, 'OTHER EVENT');
    expect(server.admitted.size).toBe(0);
  });

  it('keeps admitting offline with an indicator, and the queue drains when the server is back', async () => {
    const server = new FakeDoorServer();
    const { r, session } = door(server);
    await frame(r, 'R E A D Y');
    server.down = true;
    const t = server.ticket();
    press(r, t.code, KEYS.enter);
    const f = await frame(r, 'offline, will sync');
    expect(f).toContain('◐ offline (admitting, will sync)');
    expect(f).toContain('1 to sync');
    press(r, t.code, KEYS.enter);
    await frame(r, 'ALREADY IN');
    server.down = false;
    await session.refresh();
    const back = await frame(r, '● online');
    expect(back).not.toContain('to sync');
    expect(server.admitted.has(t.id)).toBe(true);
  });

  it('refuses everyone while offline when the organiser does not allow it', async () => {
    const server = new FakeDoorServer();
    server.offlineAllowed = false;
    const { r } = door(server);
    await frame(r, 'R E A D Y');
    server.down = true;
    press(r, server.ticket().code, KEYS.enter);
    const f = await frame(r, 'NOT ADMITTED — OFFLINE');
    expect(f).toContain('offline: not allowed by the organiser');
    expect(f).toContain('admitted here 0');
  });

  it('lists a conflict the server reported after a sync on the conflicts screen', async () => {
    const server = new FakeDoorServer();
    const { r, session } = door(server);
    await frame(r, 'R E A D Y');
    server.down = true;
    const t = server.ticket();
    press(r, t.code, KEYS.enter);
    await frame(r, 'offline, will sync');
    server.admitted.set(t.id, { door: 'South door', at: '2026-12-02T20:41:07Z' });
    server.down = false;
    await session.refresh();
    await frame(r, '1 conflict (Tab)');
    press(r, KEYS.tab);
    const c = await frame(r, 'CONFLICT ticket');
    expect(c).toContain(t.id.slice(0, 8));
    expect(c).toContain('South door');
    press(r, KEYS.escape);
    await frame(r, 'Scan ›');
  });

  it('says why offline scans were not uploaded when the organiser switched offline check-in off meanwhile', async () => {
    const server = new FakeDoorServer();
    const { r, session } = door(server);
    await frame(r, 'R E A D Y');
    server.down = true;
    press(r, server.ticket().code, KEYS.enter);
    await frame(r, 'offline, will sync');
    server.offlineAllowed = false;
    server.down = false;
    await session.refresh();
    const f = await frame(r, 'Could not upload 1 offline scan: Offline check-in is not allowed for this event.');
    expect(f).toContain('1 to sync');
    expect(f).toContain('● online');
  });
});
