import type { ScreenMachine } from '../../screen-machine.js';
import type { StartupScreen } from '../../startup.js';

export type OrganiserScreen = StartupScreen | { name: 'events' } | { name: 'add'; busy: boolean; error?: string } | { name: 'logs' } | { name: 'stopping' };

export type OrganiserNav = ScreenMachine<OrganiserScreen>;

export const ORGANISER_HINTS: Record<OrganiserScreen['name'], string> = {
  starting: 'Ctrl-C quit',
  failed: '↑↓ move · Enter choose · q quit',
  menu: '↑↓/jk move · Enter choose · q quit',
  events: '↑↓ move · type to filter · Esc back',
  add: 'Tab/↓/Enter next · Shift-Tab/↑ back · Enter on Create submits · Esc cancel',
  logs: '↑↓ scroll · PgUp/PgDn page · Home/End · Esc back',
  stopping: 'please wait…',
};
