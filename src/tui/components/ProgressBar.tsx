import { Box, Text } from 'ink';

export interface ProgressBarProps {
  /** 0…1; values outside are clamped. */
  fraction: number;
  /** Columns of the bar itself (default 40). */
  width?: number;
  /** What is happening, above the bar. */
  label?: string;
}

/** `████████░░░░░░░░  45 %` under a line saying what is happening. */
export function ProgressBar({ fraction, width = 40, label }: ProgressBarProps) {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const filled = Math.round(f * width);
  return (
    <Box flexDirection="column">
      {label !== undefined && <Text>{label}</Text>}
      <Text>
        <Text color="green">{'█'.repeat(filled)}</Text>
        <Text color="gray">{'░'.repeat(width - filled)}</Text>
        <Text> {String(Math.round(f * 100)).padStart(3)} %</Text>
      </Text>
    </Box>
  );
}
