import { Box, Text } from 'ink';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Event, QueueSummary } from '../../../client/types.js';
import type { QueueOps } from '../../admin-backend.js';
import { Spinner } from '../../components/Spinner.js';
import { formatCount, formatEventDate, truncate } from '../../format.js';
import { useKeys } from '../../keys.js';
import type { OrganiserNav } from './organiser-screens.js';

export interface QueueScreenProps {
  nav: OrganiserNav;
  /** Absent when this backend cannot reach the line. */
  ops: QueueOps | undefined;
  /** The event as it is now (live). */
  event: Event;
  width: number;
  /** How often the numbers are read again (default 1 s; one organiser, one small read). */
  refreshMs?: number;
}

/**
 * An event's sale settings and its waiting room for the organiser: when the sale opens, the line's
 * length, who is waiting, admitted, in progress (of the window), done, expired, the serving place and
 * the admit rate, read again every second. `p` pauses the line, `r` resumes it, `s` changes the
 * settings, Esc goes back.
 */
export function QueueScreen({ nav, ops, event, width, refreshMs = 1000 }: QueueScreenProps) {
  const [summary, setSummary] = useState<QueueSummary | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const alive = useRef(true);
  useEffect(() => () => void (alive.current = false), []);
  const room = event.waitingRoom;

  const load = useCallback(async () => {
    if (!ops || !room) return;
    try {
      const s = await ops.summary(event.id);
      if (alive.current) {
        setSummary(s);
        setError(undefined);
      }
    } catch (err) {
      if (alive.current) setError((err as Error).message);
    }
  }, [event.id, ops, room]);

  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), refreshMs);
    return () => clearInterval(timer);
  }, [load, refreshMs]);

  const act = async (what: 'pause' | 'resume') => {
    if (!ops) return;
    setBusy(what === 'pause' ? 'Pausing the line…' : 'Resuming the line…');
    try {
      const s = await (what === 'pause' ? ops.pause(event.id) : ops.resume(event.id));
      if (!alive.current) return;
      setSummary(s);
      nav.setStatus({ kind: 'success', text: s.paused ? `The line for ${event.name} is paused: nobody more is let in until you resume it` : `The line for ${event.name} moves again` });
    } catch (err) {
      nav.setStatus({ kind: 'error', text: (err as Error).message });
    } finally {
      if (alive.current) setBusy(undefined);
    }
  };

  useKeys(
    (input, key) => {
      if (key.escape) nav.back();
      else if (input === 's') nav.go({ name: 'sale-settings', event, busy: false });
      else if (input === 'p' && room && summary && !summary.paused) void act('pause');
      else if (input === 'r' && room && summary?.paused) void act('resume');
    },
    { isActive: busy === undefined },
  );

  const zone = event.timeZone;
  const sale = event.onSaleAt ? formatEventDate(event.onSaleAt, zone) : 'now (no opening time)';
  const windowText = event.queueWindow === null ? 'automatic' : formatCount(event.queueWindow);
  let body;
  if (!room) {
    body = <Text color="gray">No waiting room: buyers hold and buy directly. Press s to turn it on.</Text>;
  } else if (!ops) {
    body = <Text color="yellow">This screen cannot reach the line here; use the admin page or `boxoffice admin`.</Text>;
  } else if (!summary) {
    body = error ? <Text color="red">{error}</Text> : <Spinner label="Reading the line…" />;
  } else {
    const s = summary;
    const state = s.paused ? 'PAUSED: nobody more is let in' : !s.open ? 'before the sale: the order is drawn when it opens' : 'moving';
    const row = (label: string, value: string) => (
      <Text key={label}>
        <Text color="gray">{label.padEnd(24)}</Text>
        <Text bold>{value}</Text>
      </Text>
    );
    body = (
      <Box flexDirection="column">
        <Text>
          <Text color="gray">{'The line'.padEnd(24)}</Text>
          <Text color={s.paused ? 'yellow' : s.open ? 'green' : undefined} bold>
            {state}
          </Text>
        </Text>
        {row('In line', formatCount(s.length))}
        {row('Waiting', formatCount(s.waiting))}
        {row('Admitted', formatCount(s.admitted))}
        {row('In progress', `${formatCount(s.inProgress)} of ${formatCount(s.window)} at once`)}
        {row('Done (bought or held)', formatCount(s.done))}
        {row('Passes expired', formatCount(s.expired))}
        {row('Serving up to place', formatCount(s.serving))}
        {row('Admit rate', `${formatCount(Math.round(s.admitRatePerMinute))} a minute`)}
        {s.opensAt && !s.open && row('The line opens', formatEventDate(s.opensAt, zone))}
        {error !== undefined && <Text color="red">{error}</Text>}
      </Box>
    );
  }

  return (
    <Box flexDirection="column">
      <Text bold>{truncate(`${event.name} · sale and waiting room`, width)}</Text>
      <Text color="gray">{truncate(`Sale opens ${sale}  ·  waiting room ${room ? 'on' : 'off'}${room ? `  ·  buyers at once ${windowText}` : ''}`, width)}</Text>
      <Box marginTop={1} flexDirection="column">
        {busy !== undefined ? <Spinner label={busy} /> : body}
      </Box>
    </Box>
  );
}
