import { Box, Text } from 'ink';
import { useState } from 'react';
import type { DoorSnapshot, Verdict } from '../../../client/door-session.js';
import { BigAnswer } from '../../components/BigAnswer.js';
import { TextField } from '../../components/TextField.js';
import { formatCount, truncate } from '../../format.js';
import { useKeys } from '../../keys.js';
import { clock, viewOf } from './verdict-view.js';

export interface ScannedLine {
  at: number;
  verdict: Verdict;
}

export interface ScanScreenProps {
  snapshot: DoorSnapshot;
  doorName?: string;
  /** Newest first. */
  history: readonly ScannedLine[];
  /** Scans sent and not answered yet. */
  checking: number;
  width: number;
  height: number;
  onScan: (code: string) => void;
  onConflicts: () => void;
}

/**
 * The door's one screen: the answer to the last scan as a big block, the counts, and the input line,
 * always focused, because a USB barcode scanner "types" the code and presses Enter.
 */
export function ScanScreen({ snapshot, doorName, history, checking, width, height, onScan, onConflicts }: ScanScreenProps) {
  const [code, setCode] = useState('');
  useKeys((_input, key) => {
    if (key.return) {
      const typed = code.trim();
      setCode('');
      if (typed) onScan(typed);
    } else if (key.tab) onConflicts();
    else if (key.escape) setCode('');
  });
  const last = history[0];
  const view = checking > 0 ? { color: 'yellow' as const, headline: 'CHECKING…', detail: '' } : last ? viewOf(last.verdict) : undefined;
  const blockRows = height >= 18 ? 7 : height >= 14 ? 5 : 3;
  const issues = snapshot.conflicts.length + snapshot.syncNotices.filter((n) => n.outcome === 'refused').length;
  const listRows = Math.max(0, height - blockRows - 6);
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold>{snapshot.eventName ?? '…'}</Text>
        {doorName ? <Text color="gray">{` · ${doorName}`}</Text> : null}
        <Text>{`   admitted here `}</Text>
        <Text bold color="green">
          {formatCount(snapshot.admittedHere)}
        </Text>
        <Text>{` · checked in `}</Text>
        <Text bold>{formatCount(snapshot.checkedIn)}</Text>
        {snapshot.queued > 0 ? <Text color="yellow">{` · ${formatCount(snapshot.queued)} to sync`}</Text> : null}
        {issues > 0 ? <Text color="red">{` · ${issues} conflict${issues === 1 ? '' : 's'} (Tab)`}</Text> : null}
      </Text>
      {snapshot.queued > 0 && snapshot.lastError && snapshot.connection === 'online' ? <Text color="yellow">{truncate(snapshot.lastError, width)}</Text> : null}
      <Box marginTop={1}>
        {view ? (
          <BigAnswer color={view.color} headline={view.headline} detail={view.detail} width={width} rows={blockRows} />
        ) : (
          <BigAnswer color="gray" headline="READY" detail="scan a ticket" width={width} rows={blockRows} />
        )}
      </Box>
      <Box marginTop={1}>
        <Text bold>{'Scan › '}</Text>
        <TextField value={code} onChange={setCode} placeholder="ticket code (BO1.…)" width={Math.max(10, width - 8)} />
      </Box>
      <Box flexDirection="column" marginTop={1}>
        {history.slice(1, 1 + listRows).map((line, i) => {
          const v = viewOf(line.verdict);
          return (
            <Text key={i} color={v.color === 'green' ? 'green' : 'red'}>
              {truncate(`${clock(new Date(line.at).toISOString())}  ${v.headline}  ${v.detail}`, width)}
            </Text>
          );
        })}
      </Box>
    </Box>
  );
}
