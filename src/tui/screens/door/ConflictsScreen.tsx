import { Box, Text } from 'ink';
import type { DoorSnapshot } from '../../../client/door-session.js';
import { truncate } from '../../format.js';
import { useKeys } from '../../keys.js';
import { clock, shortId } from './verdict-view.js';

/** What the server reported about this door's offline scans: conflicts (two doors admitted one ticket) and refusals. */
export function ConflictsScreen({ snapshot, width, height, onBack }: { snapshot: DoorSnapshot; width: number; height: number; onBack: () => void }) {
  useKeys((_input, key) => {
    if (key.escape || key.tab || key.return) onBack();
  });
  const lines: Array<{ color: string; text: string }> = [];
  for (const c of snapshot.conflicts) {
    const scans = c.scans.map((s) => `${s.door.name} ${clock(s.at)}${s.offline ? ' (offline)' : ''}`).join('  vs  ');
    lines.push({ color: 'red', text: `CONFLICT ticket ${shortId(c.ticketId)}: ${scans}` });
  }
  for (const n of snapshot.syncNotices) if (n.outcome === 'refused') lines.push({ color: 'yellow', text: n.message });
  return (
    <Box flexDirection="column">
      <Text bold>Conflicts and refused offline scans</Text>
      <Text color="gray">{truncate('Each conflict is a ticket two doors admitted while apart; the organiser sees both scans.', width)}</Text>
      <Box flexDirection="column" marginTop={1}>
        {lines.length === 0 ? <Text color="green">None.</Text> : lines.slice(0, Math.max(1, height - 4)).map((l, i) => <Text key={i} color={l.color}>{truncate(l.text, width)}</Text>)}
      </Box>
    </Box>
  );
}
