import type { Connection, Verdict } from '../../../client/door-session.js';

/** What the big block says for a verdict: colour, headline, and the line under it. */
export interface VerdictView {
  color: 'green' | 'red' | 'yellow';
  headline: string;
  detail: string;
}

const two = (n: number) => String(n).padStart(2, '0');

/** `20:41`, local time of the door. */
export function clock(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : `${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** `3f2b9c1e`: enough of a ticket id to read out loud. */
export const shortId = (id: string | undefined) => (id ? id.slice(0, 8) : '');

export function viewOf(verdict: Verdict): VerdictView {
  switch (verdict.kind) {
    case 'admitted':
      return {
        color: 'green',
        headline: 'ADMITTED',
        detail: `ticket ${shortId(verdict.ticketId)}${verdict.offline ? ' · offline, will sync' : ''}`,
      };
    case 'already': {
      const when = [clock(verdict.at), verdict.door].filter(Boolean).join(' ');
      // The headline says when and where; the detail only which ticket (and, offline, on what grounds).
      const detail = `ticket ${shortId(verdict.ticketId)}${verdict.offline ? ' · from the door list (offline)' : ''}`;
      return { color: 'red', headline: when ? `ALREADY IN — ${when}` : 'ALREADY IN', detail };
    }
    case 'forged':
      return { color: 'red', headline: 'FORGED', detail: verdict.message };
    case 'cancelled':
      return { color: 'red', headline: 'CANCELLED', detail: `ticket ${shortId(verdict.ticketId)} · ${verdict.message}` };
    case 'other_event':
      return { color: 'red', headline: 'OTHER EVENT', detail: verdict.message };
    case 'not_found':
      return { color: 'red', headline: 'UNKNOWN TICKET', detail: verdict.message };
    case 'offline_refused':
      return { color: 'red', headline: 'NOT ADMITTED — OFFLINE', detail: verdict.message };
    case 'error':
      return { color: 'red', headline: verdict.code === 'door_revoked' ? 'DOOR REVOKED' : 'NOT ADMITTED', detail: verdict.message };
  }
}

export const CONNECTION_VIEW: Record<Connection, { color: string; text: string }> = {
  connecting: { color: 'yellow', text: '○ connecting' },
  online: { color: 'green', text: '● online' },
  offline: { color: 'yellow', text: '◐ offline (admitting, will sync)' },
  offline_not_allowed: { color: 'red', text: '○ offline: not allowed by the organiser' },
  revoked: { color: 'red', text: '○ door revoked' },
};
