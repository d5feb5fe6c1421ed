import type { Booking, Event, Hold } from '../../../client/types.js';
import type { ScreenMachine } from '../../screen-machine.js';
import type { StartupScreen } from '../../startup.js';

export type BuyerScreen =
  | StartupScreen
  | { name: 'events' }
  /** `pass`: the waiting room's admission pass, sent with the hold. */
  | { name: 'select'; event: Event; pass?: string }
  /** The buyer's name and email, when the event asks for them, before `tickets` are held. */
  | { name: 'details'; event: Event; tickets: number; pass?: string }
  /** An event's waiting room: the line, then the hold form with the pass. */
  | { name: 'queue'; event: Event }
  | { name: 'booking'; label: string }
  /** Tickets held for the buyer until `deadline` (this machine's clock); `busy` while confirming or releasing. */
  | { name: 'hold'; hold: Hold; event: Event; deadline: number; busy?: string }
  | { name: 'receipt'; booking: Booking; eventName: string }
  | { name: 'cancel'; busy: boolean; error?: string }
  | { name: 'logs' };

export type BuyerNav = ScreenMachine<BuyerScreen>;

export const BUYER_HINTS: Record<BuyerScreen['name'], string> = {
  starting: 'Ctrl-C quit',
  failed: '↑↓ move · Enter choose · q quit',
  menu: '↑↓/jk move · Enter choose · q quit',
  events: '↑↓ move · type to filter · Enter pick · Esc back',
  select: '↑↓ or digits choose · Enter hold them · Esc cancel',
  queue: 'Enter join the line · Esc back (you keep your place)',
  details: 'Tab/↓/Enter next · Shift-Tab/↑ back · Enter on the button holds · Esc back',
  hold: 'Enter buy the held tickets · Esc give them back',
  booking: 'please wait…',
  receipt: 'Enter or Esc back to the events',
  cancel: 'Tab/↓/Enter next · Shift-Tab/↑ back · Enter on the button asks first · Esc back',
  logs: '↑↓ scroll · PgUp/PgDn page · Home/End · Esc back',
};
