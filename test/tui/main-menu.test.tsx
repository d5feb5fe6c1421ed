import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { MainMenu } from '../../src/tui/components/MainMenu.js';
import { frame, KEYS, press, renderUi, settle } from './helpers.js';

afterEach(cleanup);

const items = [{ label: 'Events' }, { label: 'Logs' }, { label: 'Quit' }];
const selected = (f: string) => /› (\w+)/.exec(f)?.[1];

describe('MainMenu', () => {
  it('starts on the first item; arrows and j/k move the selection, wrapping around', async () => {
    const r = renderUi(<MainMenu items={items} onSelect={() => {}} />);
    expect(selected(await frame(r, '› Events'))).toBe('Events');
    press(r, KEYS.down);
    await frame(r, '› Logs');
    press(r, 'j');
    await frame(r, '› Quit');
    press(r, KEYS.down);
    await frame(r, '› Events');
    press(r, KEYS.up);
    await frame(r, '› Quit');
    press(r, 'k', 'k');
    const f = await frame(r, '› Events');
    expect(f.match(/›/g)).toHaveLength(1);
  });

  it('Enter chooses the selected item; a digit chooses directly', async () => {
    const onSelect = vi.fn();
    const r = renderUi(<MainMenu items={items} onSelect={onSelect} />);
    press(r, KEYS.down, KEYS.enter);
    await vi.waitFor(() => expect(onSelect).toHaveBeenCalledWith(1, items[1]));
    press(r, '3');
    await vi.waitFor(() => expect(onSelect).toHaveBeenLastCalledWith(2, items[2]));
    await frame(r, '› Quit');
  });

  it('q quits when the menu offers it, and does nothing when inactive', async () => {
    const onQuit = vi.fn();
    const onSelect = vi.fn();
    const inactive = renderUi(<MainMenu items={items} onSelect={onSelect} onQuit={onQuit} isActive={false} />);
    press(inactive, 'q', KEYS.enter, KEYS.down);
    await settle();
    expect(onQuit).not.toHaveBeenCalled();
    expect(onSelect).not.toHaveBeenCalled();
    inactive.unmount();
    const r = renderUi(<MainMenu items={items} onSelect={onSelect} onQuit={onQuit} />);
    press(r, 'q');
    await vi.waitFor(() => expect(onQuit).toHaveBeenCalledTimes(1));
  });

  it('shows descriptions and a title', async () => {
    const r = renderUi(<MainMenu title="Main menu" items={[{ label: 'Events', description: 'browse and book' }, { label: 'Quit' }]} onSelect={() => {}} />);
    const f = await frame(r, 'Main menu');
    expect(f).toContain('› Events  browse and book');
    expect(f).toContain('  Quit');
  });
});
