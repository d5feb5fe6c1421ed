import { Box, Text } from 'ink';
import { useCallback, useState } from 'react';
import { formatCount, truncate, wrap } from '../format.js';
import { useThrottledSubscription } from '../hooks.js';
import { formatRecord, type LogLevelName, type LogRecord, type LogTail } from '../log-tail.js';
import { useKeys } from '../keys.js';

const LEVEL_COLORS: Record<LogLevelName, string> = {
  trace: 'gray',
  debug: 'blue',
  info: 'green',
  warn: 'yellow',
  error: 'red',
  fatal: 'red',
};

export interface LogViewProps {
  tail: LogTail;
  /** Rows for the view, its title and footer included. */
  height: number;
  width: number;
  /** Esc or q. */
  onBack?: () => void;
}

/** Longest a record may wrap; the rest is cut with an ellipsis. */
const MAX_ROWS_PER_RECORD = 3;
const WHEEL_STEP = 3;
// SGR mouse reports: button 64 = wheel up, 65 = wheel down (the leading ESC is stripped by Ink).
const WHEEL = /^\[<(64|65);\d+;\d+[Mm]$/;

/**
 * A scrollable view of a log tail, coloured by level (DEBUG blue, INFO green, WARN yellow, ERROR red).
 * It follows new records while at the bottom; ↑/↓ (k/j) scroll a record, PgUp/PgDn a page, Home/End
 * jump, and the mouse wheel scrolls where the terminal reports it (as arrows in the alternate screen,
 * or as SGR mouse reports).
 */
export function LogView({ tail, height, width, onBack }: LogViewProps) {
  useThrottledSubscription(useCallback((listener) => tail.subscribe(listener), [tail]));
  // The seq of the bottom record; undefined follows the newest.
  const [anchor, setAnchor] = useState<number | undefined>(undefined);
  const viewRows = Math.max(1, height - 2);
  const last = tail.total - 1;
  const bottom = anchor === undefined ? last : Math.min(Math.max(anchor, tail.first), last);
  const textWidth = Math.max(10, width - 19);

  // Walk up from the bottom record until the view is full.
  const shown: Array<{ record: LogRecord; rows: string[] }> = [];
  let used = 0;
  for (let seq = bottom; seq >= tail.first && used < viewRows; seq--) {
    const record = tail.get(seq)!;
    const { text } = formatRecord(record);
    let rows = wrap(text, textWidth);
    if (rows.length > MAX_ROWS_PER_RECORD) rows = [...rows.slice(0, MAX_ROWS_PER_RECORD - 1), truncate(rows.slice(MAX_ROWS_PER_RECORD - 1).join(''), textWidth)];
    rows = rows.slice(0, viewRows - used);
    shown.unshift({ record, rows });
    used += rows.length;
  }
  const page = Math.max(1, shown.length - 1);

  const scrollTo = (seq: number) => {
    if (tail.total === 0) return;
    const clamped = Math.min(Math.max(seq, tail.first), last);
    setAnchor(clamped >= last ? undefined : clamped);
  };

  useKeys((input, key) => {
    const wheel = WHEEL.exec(input);
    if (key.escape || input === 'q') onBack?.();
    else if (key.upArrow || input === 'k') scrollTo(bottom - 1);
    else if (key.downArrow || input === 'j') scrollTo(bottom + 1);
    else if (key.pageUp) scrollTo(bottom - page);
    else if (key.pageDown) scrollTo(bottom + page);
    else if (key.home || input === 'g') scrollTo(tail.first + page);
    else if (key.end || input === 'G') setAnchor(undefined);
    else if (wheel) scrollTo(bottom + (wheel[1] === '64' ? -WHEEL_STEP : WHEEL_STEP));
  });

  const following = anchor === undefined || anchor >= last;
  return (
    <Box flexDirection="column" height={height}>
      <Text>
        <Text bold>Logs</Text>
        <Text color="gray">{`  ${formatCount(tail.size)} ${tail.size === 1 ? 'record' : 'records'}`}</Text>
      </Text>
      {tail.total === 0 ? (
        <Text color="gray">Nothing logged yet.</Text>
      ) : (
        shown.map(({ record, rows }) => <LogLine key={record.seq} record={record} rows={rows} textWidth={textWidth} />)
      )}
      <Box flexGrow={1} />
      <Text color="gray">
        {tail.total === 0
          ? ' '
          : following
            ? `newest at the bottom · following`
            : `record ${formatCount(bottom - tail.first + 1)} of ${formatCount(tail.size)} · End to follow`}
      </Text>
    </Box>
  );
}

function LogLine({ record, rows, textWidth }: { record: LogRecord; rows: string[]; textWidth: number }) {
  const { prefix, level, messageLength } = formatRecord(record);
  const color = LEVEL_COLORS[record.level];
  const messageColor = record.level === 'error' || record.level === 'fatal' ? 'red' : undefined;
  return (
    <>
      {rows.map((row, i) => (
        <Text key={i}>
          {i === 0 ? (
            <>
              <Text color="gray">{prefix} </Text>
              <Text color={color} bold>
                {level}
              </Text>
              <Text> </Text>
            </>
          ) : (
            <Text>{' '.repeat(prefix.length + level.length + 2)}</Text>
          )}
          {/* The message in the level's emphasis, the fields after it dimmed. */}
          <Text color={messageColor}>{row.slice(0, Math.max(0, messageLength - i * textWidth))}</Text>
          <Text color="gray">{row.slice(Math.max(0, messageLength - i * textWidth))}</Text>
        </Text>
      ))}
    </>
  );
}
