import { Box, Text } from 'ink';
import { useCallback, useEffect, useState } from 'react';
import type { CheckinReport, DoorSummary, Event, NewDoor } from '../../../client/types.js';
import type { CheckinOps } from '../../admin-backend.js';
import { TextField } from '../../components/TextField.js';
import { formatCount, padEnd, padStart, truncate, wrap } from '../../format.js';
import { useKeys } from '../../keys.js';
import { clock, shortId } from '../door/verdict-view.js';
import type { OrganiserNav } from './organiser-screens.js';

export interface CheckinScreenProps {
  nav: OrganiserNav;
  ops: CheckinOps;
  /** The event as the live list has it now (sales, checked-in count, offline setting). */
  event: Event;
  /** The server's address, for the door command and the CSV link. */
  address: string;
  width: number;
  height: number;
  /** How often doors and scans are read again (default 2 s). */
  refreshMs?: number;
}

type Mode = { name: 'view' } | { name: 'naming'; text: string } | { name: 'confirm'; door: DoorSummary };

/**
 * One event at the door: checked in beside sold, the doors (create one, whose token is shown once;
 * revoke), the offline setting, conflicts, recent scans, and how to get the attendee CSV.
 */
export function CheckinScreen({ nav, ops, event, address, width, height, refreshMs = 2000 }: CheckinScreenProps) {
  const [doors, setDoors] = useState<DoorSummary[]>([]);
  const [report, setReport] = useState<CheckinReport | undefined>(undefined);
  const [selected, setSelected] = useState(0);
  const [mode, setMode] = useState<Mode>({ name: 'view' });
  const [created, setCreated] = useState<NewDoor | undefined>(undefined);
  const [offline, setOffline] = useState(event.offlineCheckIn);
  const { setStatus } = nav;

  const load = useCallback(async () => {
    try {
      const [d, r] = await Promise.all([ops.listDoors(event.id), ops.report(event.id)]);
      setDoors(d);
      setReport(r);
    } catch (err) {
      setStatus({ kind: 'error', text: (err as Error).message });
    }
  }, [ops, event.id, setStatus]);
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), refreshMs);
    return () => clearInterval(timer);
  }, [load, refreshMs]);
  useEffect(() => setOffline(event.offlineCheckIn), [event.offlineCheckIn]);

  const run = async (what: Promise<unknown>, done: string) => {
    try {
      await what;
      setStatus({ kind: 'success', text: done });
    } catch (err) {
      setStatus({ kind: 'error', text: (err as Error).message });
    }
    await load();
  };

  useKeys((input, key) => {
    if (mode.name === 'naming') {
      if (key.escape) setMode({ name: 'view' });
      else if (key.return && mode.text.trim()) {
        const name = mode.text.trim();
        setMode({ name: 'view' });
        void ops.createDoor(event.id, name).then(
          (door) => {
            setCreated(door);
            setStatus({ kind: 'success', text: `Created ${door.name}: copy its token now, it is not shown again.` });
            void load();
          },
          (err: Error) => setStatus({ kind: 'error', text: err.message }),
        );
      }
      return;
    }
    if (mode.name === 'confirm') {
      if (input === 'y') void run(ops.revokeDoor(event.id, mode.door.id), `Revoked ${mode.door.name}: its token is refused from now on.`);
      else setStatus({ kind: 'info', text: 'Not revoked.' });
      setMode({ name: 'view' });
      return;
    }
    if (key.escape) nav.back();
    else if (input === 'n') {
      setCreated(undefined);
      setMode({ name: 'naming', text: '' });
    } else if (key.upArrow) setSelected((i) => Math.max(0, i - 1));
    else if (key.downArrow) setSelected((i) => Math.min(Math.max(0, doors.length - 1), i + 1));
    else if (input === 'r') {
      const door = doors[selected];
      if (door && !door.revokedAt) setMode({ name: 'confirm', door });
    } else if (input === 'o') {
      const next = !offline;
      setOffline(next);
      void run(ops.setOfflineCheckIn(event.id, next), next ? 'Doors may now admit offline (conflicts are possible and reported).' : 'Offline check-in is off: a door without the server admits nobody.');
    }
  });

  const sold = event.totalTickets - event.availableTickets - (event.heldTickets ?? 0);
  const checkedIn = report?.checkedIn ?? event.checkedInTickets ?? 0;
  const conflicts = report?.conflicts ?? [];
  const nameWidth = Math.max(10, width - 30);
  const lines: Array<{ text: string; color?: string; bold?: boolean }> = [];
  // The URL on rows of its own (wrapped, not cut): it is longer than a narrow terminal.
  const csvRows = wrap(`${address}/events/${event.id}/attendees.csv`, Math.max(10, width - 2));
  // Whatever space is left after the fixed parts goes to the recent scans.
  const fixed = 7 + csvRows.length + Math.max(1, doors.length) + Math.max(1, conflicts.length) + (created ? 3 : 0) + (mode.name === 'view' ? 0 : 1);
  const recentRows = Math.max(0, height - fixed);
  for (const c of conflicts) {
    lines.push({ color: 'red', text: `  ${shortId(c.ticketId)}  ${c.scans.map((s) => `${s.door.name} ${clock(s.at)}${s.offline ? ' (offline)' : ''}`).join('  vs  ')}` });
  }
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold>{truncate(event.name, Math.max(10, width - 50))}</Text>
        <Text>{`  ${formatCount(checkedIn)} of ${formatCount(sold)} sold checked in`}</Text>
        <Text color={offline ? 'yellow' : 'gray'}>{` · offline check-in ${offline ? 'ON' : 'off'}`}</Text>
        {conflicts.length > 0 ? <Text color="red">{` · ${conflicts.length} conflict${conflicts.length === 1 ? '' : 's'}`}</Text> : null}
      </Text>
      {mode.name === 'naming' && (
        <Box>
          <Text bold>{'New door name › '}</Text>
          <TextField value={mode.text} onChange={(text) => setMode({ name: 'naming', text })} placeholder="North door (Enter creates, Esc cancels)" width={Math.max(10, width - 18)} />
        </Box>
      )}
      {mode.name === 'confirm' && <Text color="yellow">{truncate(`Revoke ${mode.door.name}? Its token stops working at once. y revokes, any other key keeps it.`, width)}</Text>}
      {created && (
        <Box flexDirection="column">
          <Text color="yellow">{truncate(`Token for ${created.name} (shown once; select and copy it now):`, width)}</Text>
          <Text bold>{created.token}</Text>
          <Text color="gray">{truncate(`At the door: BOXOFFICE_DOOR_TOKEN=<token> boxoffice door --url ${address}   (or the ${address}/door page)`, width)}</Text>
        </Box>
      )}
      <Text color="gray">{`  ${padEnd('Door', nameWidth)} ${padStart('Admitted', 9)}  State`}</Text>
      {doors.length === 0 ? (
        <Text color="gray">{'  No doors yet: n creates one.'}</Text>
      ) : (
        doors.map((d, i) => (
          <Text key={d.id} color={d.revokedAt ? 'gray' : undefined} inverse={i === selected}>
            {`${i === selected ? '›' : ' '} ${padEnd(d.name, nameWidth)} ${padStart(formatCount(d.admitted), 9)}  ${d.revokedAt ? `revoked ${clock(d.revokedAt)}` : 'active'}`}
          </Text>
        ))
      )}
      <Text color="gray">Conflicts (two doors admitted one ticket while apart)</Text>
      {lines.length === 0 ? <Text color="green">{'  None.'}</Text> : lines.map((l, i) => <Text key={i} color={l.color}>{truncate(l.text, width)}</Text>)}
      <Text color="gray">Recent scans</Text>
      {(report?.recent ?? []).slice(0, recentRows).map((s, i) => (
        <Text key={i} color={s.outcome === 'admitted' ? 'green' : 'red'}>
          {truncate(`  ${clock(s.at)}  ${padEnd(s.outcome.replaceAll('_', ' '), 18)} ${shortId(s.ticketId)}  ${s.door.name}${s.offline ? ' (offline)' : ''}`, width)}
        </Text>
      ))}
      <Text color="gray">{truncate('Attendee CSV (GET with the admin token, e.g. curl -H "Authorization: Bearer …" -o attendees.csv):', width)}</Text>
      {csvRows.map((row, i) => (
        <Text key={i}>{`  ${row}`}</Text>
      ))}
    </Box>
  );
}
