import { readFileSync } from 'node:fs';

/** boxoffice's own version, from package.json (two levels up from both src/server and dist/server). */
export const VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
})();
