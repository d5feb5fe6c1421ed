import type { ScreenMachine } from '../../screen-machine.js';
import type { StartupScreen } from '../../startup.js';

import type { Event } from '../../../client/types.js';

export type OrganiserScreen =
  | StartupScreen
  | { name: 'events' }
  /** One event and what its organiser can do with it; `confirming` while "Cancel this event?" is asked. */
  | { name: 'event'; event: Event; busy?: string; confirming?: boolean }
  | { name: 'edit'; event: Event; busy: boolean; error?: string }
  | { name: 'bookings'; event: Event }
  /** The sale settings and the waiting room's line (issue 13). */
  | { name: 'queue'; event: Event }
  | { name: 'sale-settings'; event: Event; busy: boolean; error?: string }
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
  events: '↑↓ move · type to filter · Enter open the event · Esc back',
  event: '↑↓ move · Enter choose · Esc back',
  edit: 'Tab/↓/Enter next · Shift-Tab/↑ back · Enter on Save submits · Esc cancel',
  queue: 'p pause the line · r resume · s sale settings · Esc back',
  'sale-settings': 'Tab/↓/Enter next · Shift-Tab/↑ back · Enter on Save submits · Esc cancel',
  bookings: 'type to search · ↑↓ move · Enter cancel the booking (asks first) · Esc back',
  add: 'Tab/↓/Enter next · Shift-Tab/↑ back · Enter on Create submits · Esc cancel',
  logs: '↑↓ scroll · PgUp/PgDn page · Home/End · Esc back',
  'checkin-events': '↑↓ move · type to filter · Enter check-in of the event · Esc back',
  checkin: 'n new door · ↑↓ door · r revoke · o offline on/off · Esc back',
  stopping: 'please wait…',
};
