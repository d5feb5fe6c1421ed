import type { ScreenMachine } from '../../screen-machine.js';
import type { StartupScreen } from '../../startup.js';

import type { Event } from '../../../client/types.js';

export type OrganiserScreen =
  | StartupScreen
  | { name: 'events' }
  | { name: 'add'; busy: boolean; error?: string }
  | { name: 'logs' }
  | { name: 'checkin-events' }
  | { name: 'checkin'; event: Event }
  | { name: 'stopping' };

export type OrganiserNav = ScreenMachine<OrganiserScreen>;

export const ORGANISER_HINTS: Record<OrganiserScreen['name'], string> = {
  starting: 'Ctrl-C quit',
  failed: '↑↓ move · Enter choose · q quit',
  menu: '↑↓/jk move · Enter choose · q quit',
  events: '↑↓ move · type to filter · Esc back',
  add: 'Tab/↓/Enter next · Shift-Tab/↑ back · Enter on Create submits · Esc cancel',
  logs: '↑↓ scroll · PgUp/PgDn page · Home/End · Esc back',
  'checkin-events': '↑↓ move · type to filter · Enter check-in of the event · Esc back',
  checkin: 'n new door · ↑↓ door · r revoke · o offline on/off · Esc back',
  stopping: 'please wait…',
};
