import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import type { StreamStatus } from '../../client/types.js';
import { truncate } from '../format.js';
import { StatusLine, type Status } from './StatusLine.js';

/** Rows the frame itself takes: header, two rules, status line, key hints. */
export const FRAME_ROWS = 5;

export type Connection = StreamStatus['state'] | 'starting' | 'stopping' | 'local';

const CONNECTION: Record<Connection, { color: string; text: string }> = {
  starting: { color: 'yellow', text: '○ starting' },
  connecting: { color: 'yellow', text: '○ connecting' },
  open: { color: 'green', text: '● live' },
  local: { color: 'green', text: '● serving' },
  reconnecting: { color: 'red', text: '○ offline, retrying' },
  closed: { color: 'gray', text: '○ closed' },
  stopping: { color: 'yellow', text: '○ stopping' },
};

export interface FrameProps {
  title: string;
  /** The server's address, top right. */
  address: string;
  connection: Connection;
  width: number;
  /** Rows for the whole frame (keep it below the terminal's height). */
  height: number;
  status: Status | undefined;
  /** Key hints, bottom line. */
  hints: string;
  /** Replaces the connection indicator (the door's online / offline states). */
  indicator?: { color: string; text: string };
  children: ReactNode;
}

/** Header (title, address, connection), the screen, then the status line and key hints. */
export function Frame({ title, address, connection, width, height, status, hints, indicator, children }: FrameProps) {
  const state = indicator ?? CONNECTION[connection];
  const right = `${address}  ${state.text}`;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Box justifyContent="space-between">
        <Text bold color="magenta">
          {truncate(title, Math.max(10, width - right.length - 2))}
        </Text>
        <Text>
          <Text color="gray">{address}</Text>
          <Text color={state.color}>{`  ${state.text}`}</Text>
        </Text>
      </Box>
      <Text color="gray">{'─'.repeat(width)}</Text>
      <Box flexDirection="column" height={height - FRAME_ROWS} overflow="hidden">
        {children}
      </Box>
      <Text color="gray">{'─'.repeat(width)}</Text>
      <StatusLine status={status} width={width} />
      <Text color="gray">{truncate(hints, width)}</Text>
    </Box>
  );
}
