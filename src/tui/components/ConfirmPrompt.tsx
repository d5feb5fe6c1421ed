import { Box, Text } from 'ink';
import { useState } from 'react';
import { useKeys } from '../keys.js';

export interface ConfirmPromptProps {
  /** One line: what is about to happen, e.g. "Cancel booking 1f0c…?". */
  question: string;
  /** Its consequence, dimmed under the question. */
  detail?: string;
  /** The button that does it, e.g. "Yes, cancel it". */
  confirmLabel: string;
  /** The button that backs out (it has the focus when the prompt opens). */
  keepLabel: string;
  onConfirm: () => void;
  onKeep: () => void;
  isActive?: boolean;
}

/**
 * "Are you sure?" before anything that cannot be undone. The focus starts on the safe choice, so an
 * Enter typed ahead (or pressed twice) backs out instead of destroying anything: ←/→, ↑/↓ or Tab move,
 * Enter chooses, `y` confirms, `n` or Esc backs out.
 */
export function ConfirmPrompt({ question, detail, confirmLabel, keepLabel, onConfirm, onKeep, isActive = true }: ConfirmPromptProps) {
  const [yes, setYes] = useState(false);
  useKeys(
    (input, key) => {
      if (key.escape || input === 'n' || input === 'N') onKeep();
      else if (input === 'y' || input === 'Y') onConfirm();
      else if (key.return) (yes ? onConfirm : onKeep)();
      else if (key.leftArrow || key.rightArrow || key.upArrow || key.downArrow || key.tab) setYes((v) => !v);
    },
    { isActive },
  );
  const button = (label: string, focused: boolean, danger: boolean) => (
    <Text>
      <Text color="cyan" bold>
        {focused ? '› ' : '  '}
      </Text>
      <Text color={focused ? (danger ? 'red' : 'cyan') : undefined} bold={focused} inverse={focused}>
        {` ${label} `}
      </Text>
    </Text>
  );
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold color="yellow">{`⚠ ${question}`}</Text>
      {detail !== undefined && <Text color="gray">{detail}</Text>}
      <Box marginTop={1}>
        {button(keepLabel, !yes, false)}
        <Text>{'   '}</Text>
        {button(confirmLabel, yes, true)}
      </Box>
    </Box>
  );
}
