/**
 * A real browser for the web page tests: the machine's own Chromium, driven by playwright-core.
 * Never a downloaded browser. CI installs chromium and sets BOXOFFICE_REQUIRE_BROWSER=1, so nothing
 * skips there; elsewhere a missing Chromium skips the suite with a notice.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { describe } from 'vitest';

const REQUIRED = process.env.BOXOFFICE_REQUIRE_BROWSER === '1';
const NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** BOXOFFICE_CHROMIUM if set, else the first Chromium on the PATH or in /usr/bin. */
function findChromium(): string | undefined {
  const explicit = process.env.BOXOFFICE_CHROMIUM;
  if (explicit) return executable(explicit) ? explicit : undefined;
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin'];
  for (const name of NAMES) {
    for (const dir of dirs) {
      const path = join(dir, name);
      if (executable(path)) return path;
    }
  }
  return undefined;
}

export const CHROMIUM_PATH = findChromium();

// Quiet and offline: no sandbox (containers), no GPU, no background traffic to Google.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/** Starts the machine's Chromium; only call it inside `describeBrowser`. */
export function launchChromium(): Promise<Browser> {
  if (!CHROMIUM_PATH) throw new Error('no Chromium found');
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/** `describe` when Chromium is installed; otherwise a visible skip (or a failure when it is required). */
export function describeBrowser(name: string, body: () => void): void {
  if (CHROMIUM_PATH) {
    describe(name, body);
    return;
  }
  if (REQUIRED) {
    describe(name, () => {
      throw new Error('BOXOFFICE_REQUIRE_BROWSER=1 but no Chromium was found (install chromium, or set BOXOFFICE_CHROMIUM=/path/to/chromium)');
    });
    return;
  }
  console.warn(`[boxoffice] skipping "${name}": no Chromium found; install chromium (or set BOXOFFICE_CHROMIUM) to run the browser tests`);
  describe.skip(name, body);
}
