import { Text } from 'ink';
import InkSpinner from 'ink-spinner';

/** A spinner and what we are waiting for: `⠋ Reserving 3 tickets…`. */
export function Spinner({ label, color = 'cyan' }: { label: string; color?: string }) {
  return (
    <Text>
      <Text color={color}>
        <InkSpinner type="dots" />
      </Text>
      <Text> {label}</Text>
    </Text>
  );
}
