import { Text } from 'ink';
import { truncate } from '../format.js';

export type StatusKind = 'success' | 'error' | 'warning' | 'info';

export interface Status {
  kind: StatusKind;
  text: string;
}

const STYLE: Record<StatusKind, { color: string; icon: string }> = {
  success: { color: 'green', icon: '✔' },
  error: { color: 'red', icon: '✘' },
  warning: { color: 'yellow', icon: '⚠' },
  info: { color: 'blue', icon: 'ℹ' },
};

/** The last outcome, one line: green success, red failure (the server's own words), yellow warning. */
export function StatusLine({ status, width = 80 }: { status: Status | undefined; width?: number }) {
  if (!status) return <Text> </Text>;
  const { color, icon } = STYLE[status.kind];
  return <Text color={color}>{truncate(`${icon} ${status.text}`, width)}</Text>;
}
