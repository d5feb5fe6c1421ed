/** ProgressBar, Spinner, StatusLine and the Frame around every screen. */
import { vi } from 'vitest';

vi.hoisted(() => {
  process.env.FORCE_COLOR = '1';
});

import { Text } from 'ink';
import { cleanup, render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { Frame } from '../../src/tui/components/Frame.js';
import { ProgressBar } from '../../src/tui/components/ProgressBar.js';
import { Spinner } from '../../src/tui/components/Spinner.js';
import { StatusLine } from '../../src/tui/components/StatusLine.js';
import { frame, plain } from './helpers.js';

afterEach(cleanup);

describe('ProgressBar', () => {
  it('fills in proportion and prints the percentage under its label', () => {
    const r = render(<ProgressBar fraction={0.25} width={20} label="Connecting to http://localhost:8080…" />);
    const f = plain(r.lastFrame());
    expect(f).toBe('Connecting to http://localhost:8080…\n█████░░░░░░░░░░░░░░░  25 %');
  });

  it('clamps out-of-range values', () => {
    expect(plain(render(<ProgressBar fraction={3} width={10} />).lastFrame())).toBe('██████████ 100 %');
    expect(plain(render(<ProgressBar fraction={-1} width={10} />).lastFrame())).toBe('░░░░░░░░░░   0 %');
    expect(plain(render(<ProgressBar fraction={Number.NaN} width={10} />).lastFrame())).toBe('░░░░░░░░░░   0 %');
  });
});

describe('Spinner', () => {
  it('spins next to its message', async () => {
    const r = render(<Spinner label="Reserving 3 tickets…" />);
    const first = await frame(r, 'Reserving 3 tickets…');
    expect(first).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Reserving 3 tickets…$/);
    await frame(r, (f) => f !== first);
  });
});

describe('StatusLine', () => {
  it('green for success, red for errors, yellow for warnings', () => {
    const green = render(<StatusLine status={{ kind: 'success', text: 'Booked 3 tickets for Rock Night' }} />).lastFrame()!;
    expect(green).toBe('\u001B[32m✔ Booked 3 tickets for Rock Night\u001B[39m');
    const red = render(<StatusLine status={{ kind: 'error', text: 'Not enough tickets available: requested 5, 3 left' }} />).lastFrame()!;
    expect(red).toBe('\u001B[31m✘ Not enough tickets available: requested 5, 3 left\u001B[39m');
    const yellow = render(<StatusLine status={{ kind: 'warning', text: 'No tickets selected' }} />).lastFrame()!;
    expect(yellow).toBe('\u001B[33m⚠ No tickets selected\u001B[39m');
  });

  it('is one line, cut to the width', () => {
    const r = render(<StatusLine status={{ kind: 'error', text: 'x'.repeat(100) }} width={20} />);
    expect(plain(r.lastFrame())).toBe(`✘ ${'x'.repeat(17)}…`);
    expect(render(<StatusLine status={undefined} />).lastFrame()?.trim()).toBe('');
  });
});

describe('Frame', () => {
  it('puts the title, address and connection on top, the status and key hints at the bottom, in the given height', () => {
    const r = render(
      <Frame title="boxoffice · buyer" address="http://localhost:8080" connection="open" width={60} height={10} status={{ kind: 'warning', text: 'No event selected' }} hints="q quit">
        <Text>body</Text>
      </Frame>,
    );
    const lines = plain(r.lastFrame()).split('\n');
    expect(lines).toHaveLength(10);
    expect(lines[0]).toMatch(/^boxoffice · buyer\s+http:\/\/localhost:8080 {2}● live$/);
    expect(lines[0]).toHaveLength(60);
    expect(lines[2]).toBe('body');
    expect(lines[8]).toBe('⚠ No event selected');
    expect(lines[9]).toBe('q quit');
  });
});
