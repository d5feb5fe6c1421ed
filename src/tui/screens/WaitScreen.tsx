import { Box } from 'ink';
import { Spinner } from '../components/Spinner.js';

/** Nothing to do but wait (a booking under way, a shutdown): a spinner saying what for. */
export function WaitScreen({ label }: { label: string }) {
  return (
    <Box marginTop={1}>
      <Spinner label={label} />
    </Box>
  );
}
