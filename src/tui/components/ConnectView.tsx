import { Box, Text } from 'ink';
import type { Progress } from '../admin-backend.js';
import { MainMenu } from './MainMenu.js';
import { ProgressBar } from './ProgressBar.js';

export type { Progress };

/** The progress bar while we connect (or start), with what is happening. */
export function ConnectingView({ progress, width }: { progress: Progress; width: number }) {
  return (
    <Box flexDirection="column" marginTop={1}>
      <ProgressBar fraction={progress.fraction} label={progress.label} width={Math.max(10, Math.min(50, width - 8))} />
    </Box>
  );
}

/** The failure in one plain sentence, and Retry / Quit. */
export function FailedView({ message, onRetry, onQuit, isActive = true }: { message: string; onRetry: () => void; onQuit: () => void; isActive?: boolean }) {
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text color="red">{message}</Text>
      <Box marginTop={1}>
        <MainMenu
          items={[{ label: 'Retry' }, { label: 'Quit' }]}
          onSelect={(i) => (i === 0 ? onRetry() : onQuit())}
          onQuit={onQuit}
          isActive={isActive}
        />
      </Box>
    </Box>
  );
}
