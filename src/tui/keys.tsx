import { useInput, type Key } from 'ink';
import { createContext, useCallback, useContext, useLayoutEffect, useRef, useState, type ReactNode } from 'react';

type KeyHandler = (input: string, key: Key) => void;

type Registry = Set<{ current: KeyHandler }>;

const KeyboardContext = createContext<Registry | undefined>(undefined);

/**
 * One Ink input subscription for the whole app, dispatching each key to whichever `useKeys` handlers
 * are mounted and active at that moment.
 *
 * Ink hands every key of one read to its handlers in a single synchronous loop, while React renders
 * (and Ink re-subscribes `useInput` handlers) only afterwards. So when several keys arrive together
 * (a fast typist, key repeat, a paste, `tmux send-keys Down Enter`), the second key would reach the
 * screen as it was *before* the first one. Here keys wait in a queue: after each key the provider
 * re-renders itself, and only once React has committed that render (with whatever the key changed)
 * does the next key go out. Handlers are read from refs set on every render and (un)registered in
 * layout effects, so they are current at that point.
 */
export function KeyboardProvider({ children }: { children: ReactNode }) {
  const [registry] = useState<Registry>(() => new Set());
  const [, setTick] = useState(0);
  const queue = useRef<Array<[string, Key]>>([]);
  const waiting = useRef(false);
  const next = useCallback(() => {
    if (waiting.current) return;
    const item = queue.current.shift();
    if (!item) return;
    waiting.current = true;
    try {
      for (const handler of [...registry]) if (registry.has(handler)) handler.current(item[0], item[1]);
    } finally {
      // Rendered in the same pass as the key's own updates; the layout effect below sees them committed.
      setTick((t) => t + 1);
    }
  }, [registry]);
  useLayoutEffect(() => {
    if (!waiting.current) return;
    waiting.current = false;
    // Not inline: a long paste would otherwise nest one synchronous render per character.
    if (queue.current.length > 0) setTimeout(next, 0);
  });
  useInput(
    useCallback(
      (input: string, key: Key) => {
        queue.current.push(...splitInput(input, key));
        next();
      },
      [next],
    ),
  );
  return <KeyboardContext.Provider value={registry}>{children}</KeyboardContext.Provider>;
}

/** Like Ink's `useInput`, but every key sees the state left by the key before it. */
export function useKeys(handler: KeyHandler, options: { isActive?: boolean } = {}): void {
  const isActive = options.isActive ?? true;
  const registry = useContext(KeyboardContext);
  const ref = useRef(handler);
  ref.current = handler;
  useLayoutEffect(() => {
    if (!registry || !isActive) return;
    registry.add(ref);
    return () => {
      registry.delete(ref);
    };
  }, [registry, isActive]);
  // Outside a provider (a component rendered on its own), listen directly.
  const direct = useCallback((input: string, key: Key) => ref.current(input, key), []);
  useInput(direct, { isActive: !registry && isActive });
}

const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

const CONTROL: Record<string, Partial<Key>> = {
  '\r': { return: true },
  '\n': { return: true },
  '\t': { tab: true },
  '\b': { backspace: true },
  '\u007f': { delete: true },
};

/**
 * Ink delivers typed-ahead or pasted text as one input, control characters included ("jj",
 * "Rock Night\t"). Split it into single characters and keys (Enter, Tab, Backspace), as if typed one
 * by one, so a menu sees two j's and a form sees the Tab.
 */
function splitInput(input: string, key: Key): Array<[string, Key]> {
  const chars = [...input];
  // Escape sequences Ink did not recognise (mouse reports) arrive without their ESC: keep them whole.
  if (chars.length <= 1 || key.ctrl || key.meta || /^(\[|O)[\u0020-\u003f]*[\u0040-\u007e]$/.test(input)) return [[input, key]];
  return chars.map((char): [string, Key] => {
    const control = CONTROL[char];
    return control ? ['', { ...NO_KEY, ...control }] : [char, { ...NO_KEY, shift: /^[A-Z]$/.test(char) }];
  });
}
