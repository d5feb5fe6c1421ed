import { Box, Text } from 'ink';
import { useState } from 'react';
import { useKeys } from '../keys.js';

export interface MenuItem {
  label: string;
  /** Shown dimmed next to the label. */
  description?: string;
}

export interface MainMenuProps {
  items: readonly MenuItem[];
  onSelect: (index: number, item: MenuItem) => void;
  /** `q` (and Esc when given) calls this. */
  onQuit?: () => void;
  isActive?: boolean;
  initialIndex?: number;
  title?: string;
}

/** A vertical menu: ↑/↓ or k/j move (wrapping), Enter or the item's number chooses, q quits. */
export function MainMenu({ items, onSelect, onQuit, isActive = true, initialIndex = 0, title }: MainMenuProps) {
  const [index, setIndex] = useState(Math.min(Math.max(0, initialIndex), items.length - 1));
  useKeys(
    (input, key) => {
      if (key.upArrow || input === 'k') setIndex((i) => (i - 1 + items.length) % items.length);
      else if (key.downArrow || input === 'j') setIndex((i) => (i + 1) % items.length);
      else if (key.home) setIndex(0);
      else if (key.end) setIndex(items.length - 1);
      else if (key.return) onSelect(index, items[index]!);
      else if (input === 'q' && onQuit) onQuit();
      else if (/^[1-9]$/.test(input) && Number(input) <= items.length) {
        const chosen = Number(input) - 1;
        setIndex(chosen);
        onSelect(chosen, items[chosen]!);
      }
    },
    { isActive },
  );
  return (
    <Box flexDirection="column">
      {title !== undefined && (
        <Box marginBottom={1}>
          <Text bold>{title}</Text>
        </Box>
      )}
      {items.map((item, i) => (
        <Text key={item.label}>
          {i === index ? (
            <Text color="cyan" bold>
              {'› '}
              {item.label}
            </Text>
          ) : (
            <Text>
              {'  '}
              {item.label}
            </Text>
          )}
          {item.description !== undefined && <Text color="gray">{`  ${item.description}`}</Text>}
        </Text>
      ))}
    </Box>
  );
}
