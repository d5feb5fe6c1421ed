import type { ScreenMachine } from '../../screen-machine.js';
import type { StartupScreen } from '../../startup.js';

/** `menu` is the scan screen: where start-up lands. */
export type DoorScreen = StartupScreen | { name: 'conflicts' };

export type DoorNav = ScreenMachine<DoorScreen>;

export const DOOR_HINTS: Record<DoorScreen['name'], string> = {
  starting: 'Ctrl-C quit',
  failed: '↑↓ move · Enter choose · q quit',
  menu: 'scan or type a code, Enter checks it · Tab conflicts · Ctrl-C quit',
  conflicts: 'Esc or Tab back to scanning · Ctrl-C quit',
};
