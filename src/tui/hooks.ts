import { useStdout } from 'ink';
import { useEffect, useRef, useState, type Dispatch, type SetStateAction } from 'react';
import { FRAME_ROWS } from './components/Frame.js';

/** Most renders a live source may cause per second. */
export const MAX_LIVE_RENDERS_PER_SECOND = 10;

/**
 * Re-renders when `subscribe`'s source changes, at most every `intervalMs` (trailing): however fast
 * bookings arrive, a screen renders ten times a second at most. The source's listener only schedules
 * a timer, so it costs the source O(1).
 */
export function useThrottledSubscription(subscribe: (listener: () => void) => () => void, intervalMs = 1000 / MAX_LIVE_RENDERS_PER_SECOND): number {
  const [version, setVersion] = useState(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => {
    let last = 0;
    const unsubscribe = subscribe(() => {
      if (timer.current) return;
      const wait = Math.max(0, last + intervalMs - Date.now());
      timer.current = setTimeout(() => {
        timer.current = undefined;
        last = Date.now();
        setVersion((v) => v + 1);
      }, wait);
    });
    return () => {
      unsubscribe();
      clearTimeout(timer.current);
      timer.current = undefined;
    };
  }, [subscribe, intervalMs]);
  return version;
}

/** The terminal's size, following resizes; 80×24 when the output is not a terminal. */
function useTerminalSize(): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = () => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [stdout]);
  return size;
}

/** The app's frame: one row short of the terminal (Ink's last line), at least 40×8; `body` is what a screen gets. */
export function useFrameSize(): { width: number; height: number; body: number } {
  const { columns, rows } = useTerminalSize();
  const height = Math.max(8, rows - 1);
  return { width: Math.max(40, columns), height, body: height - FRAME_ROWS };
}

/** An event list's filter and highlight, kept by the app so they survive leaving the list and coming back. */
export interface ListPosition {
  filter: string;
  onFilterChange: Dispatch<SetStateAction<string>>;
  selectedId: string | undefined;
  onSelectedChange: Dispatch<SetStateAction<string | undefined>>;
}

export function useListPosition(): ListPosition {
  const [filter, onFilterChange] = useState('');
  const [selectedId, onSelectedChange] = useState<string | undefined>(undefined);
  return { filter, onFilterChange, selectedId, onSelectedChange };
}
