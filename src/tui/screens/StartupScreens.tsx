import { Box, Text } from 'ink';
import type { Progress } from '../admin-backend.js';
import { MainMenu } from '../components/MainMenu.js';
import { ProgressBar } from '../components/ProgressBar.js';

/** The progress bar while we connect (or start), with what is happening. */
export function StartingScreen({ progress, width }: { progress: Progress; width: number }) {
  return (
    <Box flexDirection="column" marginTop={1}>
      <ProgressBar fraction={progress.fraction} label={progress.label} width={Math.max(10, Math.min(50, width - 8))} />
    </Box>
  );
}

export interface FailedScreenProps {
  /** Where start-up stopped (its label may be replaced by what failed). */
  progress: Progress;
  width: number;
  message: string;
  onRetry: () => void;
  onQuit: () => void;
}

/** The bar where start-up stopped, the failure in one plain sentence, and Retry / Quit. */
export function FailedScreen({ progress, width, message, onRetry, onQuit }: FailedScreenProps) {
  return (
    <Box flexDirection="column">
      <StartingScreen progress={progress} width={width} />
      <Box flexDirection="column" marginTop={1}>
        <Text color="red">{message}</Text>
        <Box marginTop={1}>
          <MainMenu items={[{ label: 'Retry' }, { label: 'Quit' }]} onSelect={(i) => (i === 0 ? onRetry() : onQuit())} onQuit={onQuit} />
        </Box>
      </Box>
    </Box>
  );
}
