import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, BoxofficeClient } from '../../src/client/index.js';
import { ADMIN_TOKEN, startApp } from '../helpers/app.js';

/** The client's door and check-in calls, against a real app: what the door screens build on. */
describe('BoxofficeClient check-in calls', () => {
  let server: Awaited<ReturnType<typeof startApp>>;
  beforeAll(async () => {
    server = await startApp();
  });
  afterAll(() => server.close());

  it('creates a door, scans with it online and offline, and reads the organiser views', async () => {
    const admin = new BoxofficeClient({ baseUrl: server.url, adminToken: ADMIN_TOKEN });
    const event = await admin.createEvent({ name: 'Client night', date: '2027-02-01T20:00:00Z', totalTickets: 5 });
    const booking = await admin.book(event.id, 3);
    const [t1, t2, t3] = booking.tickets;
    const door = await admin.createDoor(event.id, 'North door');
    expect(door.token).toMatch(/^bod_/);
    const atDoor = new BoxofficeClient({ baseUrl: server.url, doorToken: door.token });
    expect(await atDoor.checkIn(event.id, t1!.code!)).toMatchObject({ outcome: 'admitted', ticket: { id: t1!.id } });
    const second = await atDoor.checkIn(event.id, t1!.code!).catch((err: unknown) => err);
    expect(second).toBeInstanceOf(ApiError);
    expect(second).toMatchObject({ status: 409, code: 'already_checked_in', details: { firstCheckIn: { door: { id: door.id, name: 'North door' } } } });
    expect((await atDoor.doorList(event.id)).checkedIn).toEqual([t1!.id]);
    await expect(atDoor.syncScans(event.id, [{ code: t2!.code!, nonce: 'offline-000000001', scannedAt: new Date().toISOString() }])).rejects.toMatchObject({ code: 'offline_not_allowed' });
    expect(await admin.setOfflineCheckIn(event.id, true)).toMatchObject({ offlineCheckIn: true });
    const synced = await atDoor.syncScans(event.id, [{ code: t2!.code!, nonce: 'offline-000000001', scannedAt: new Date().toISOString() }]);
    expect(synced.results).toEqual([{ nonce: 'offline-000000001', outcome: 'admitted', ticketId: t2!.id }]);
    expect(await admin.checkins(event.id)).toMatchObject({ checkedIn: 2, conflicts: [] });
    expect(await admin.listDoors(event.id)).toMatchObject([{ id: door.id, admitted: 2 }]);
    const csv = await admin.attendeesCsv(event.id);
    expect(csv.split('\r\n')[0]).toBe('ticket_id,booking_id,booked_at,status,checked_in_at,door,name,email');
    expect(csv).toContain(`${t3!.id},${booking.id},`);
    expect(await admin.revokeDoor(event.id, door.id)).toMatchObject({ revokedAt: expect.any(String) });
    await expect(atDoor.checkIn(event.id, t3!.code!)).rejects.toMatchObject({ status: 401, code: 'door_revoked' });
  });
});
