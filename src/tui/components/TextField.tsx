import { Text } from 'ink';
import { useState } from 'react';
import { useKeys } from '../keys.js';

export interface TextFieldProps {
  value: string;
  onChange: (value: string) => void;
  placeholder?: string;
  focus?: boolean;
  /** Columns to show; longer text scrolls with the cursor. */
  width?: number;
}

/**
 * A one-line text input: typing inserts at the cursor, ←/→/Home/End move it, Backspace/Delete erase.
 * Enter, Tab, Esc and ↑/↓ are left to the form around it.
 */
export function TextField({ value, onChange, placeholder = '', focus = true, width = 40 }: TextFieldProps) {
  const [cursor, setCursor] = useState(value.length);
  const at = Math.min(cursor, value.length);
  useKeys(
    (input, key) => {
      if (key.return || key.tab || key.escape || key.upArrow || key.downArrow || key.pageUp || key.pageDown || key.ctrl || key.meta) return;
      if (key.leftArrow) setCursor(Math.max(0, at - 1));
      else if (key.rightArrow) setCursor(Math.min(value.length, at + 1));
      else if (key.home) setCursor(0);
      else if (key.end) setCursor(value.length);
      else if (key.backspace) {
        if (at > 0) {
          onChange(value.slice(0, at - 1) + value.slice(at));
          setCursor(at - 1);
        }
      } else if (key.delete) {
        // Most terminals send DEL (0x7f) for Backspace, which Ink reports as delete.
        if (at > 0) {
          onChange(value.slice(0, at - 1) + value.slice(at));
          setCursor(at - 1);
        }
      } else if (input && !/[\u0000-\u001f\u007f]/.test(input)) {
        onChange(value.slice(0, at) + input + value.slice(at));
        setCursor(at + input.length);
      }
    },
    { isActive: focus },
  );

  if (!focus) return <Text>{value === '' ? ' ' : value.slice(0, width)}</Text>;
  if (value === '') {
    return (
      <Text>
        <Text inverse>{placeholder.slice(0, 1) || ' '}</Text>
        <Text color="gray">{placeholder.slice(1, width)}</Text>
      </Text>
    );
  }
  const start = Math.max(0, at - width + 1);
  const visible = value.slice(start, start + width);
  const pos = at - start;
  return (
    <Text>
      {visible.slice(0, pos)}
      <Text inverse>{visible[pos] ?? ' '}</Text>
      {visible.slice(pos + 1)}
    </Text>
  );
}
