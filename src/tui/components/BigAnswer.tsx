import { Box, Text } from 'ink';
import { truncate } from '../format.js';

export interface BigAnswerProps {
  color: 'green' | 'red' | 'yellow' | 'gray';
  headline: string;
  detail: string;
  width: number;
  /** Rows of the block (at least 3). */
  rows?: number;
}

const center = (text: string, width: number) => {
  const t = truncate(text, width);
  const left = Math.floor((width - t.length) / 2);
  return ' '.repeat(left) + t + ' '.repeat(width - t.length - left);
};

/**
 * A full-width block of colour with the answer in the middle: readable from a step away, and its
 * colour alone says yes or no.
 */
export function BigAnswer({ color, headline, detail, width, rows = 5 }: BigAnswerProps) {
  // One word (ADMITTED, FORGED) is letter-spaced when it fits, so it reads as big; a sentence is not.
  const spaced = [...headline].join(' ');
  const title = !headline.includes(' ') && spaced.length + 4 <= width ? spaced : headline;
  const blank = ' '.repeat(width);
  const middle = Math.floor((Math.max(3, rows) - 1) / 2);
  const textColor = color === 'yellow' ? 'black' : color === 'gray' ? 'white' : 'whiteBright';
  const lines = Array.from({ length: Math.max(3, rows) }, (_, i) => (i === middle ? center(title, width) : i === middle + 1 ? center(detail, width - 2) + '  ' : blank));
  return (
    <Box flexDirection="column">
      {lines.map((line, i) => (
        <Text key={i} backgroundColor={color} color={textColor} bold={i === middle}>
          {line.slice(0, width)}
        </Text>
      ))}
    </Box>
  );
}
