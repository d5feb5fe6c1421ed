import type { ConflictGroup, DoorList, OfflineScan, SyncResult } from './door-client.js';

/** What a door session says and keeps (issue 14); see door-session.ts. */

export type Connection = 'connecting' | 'online' | 'offline' | 'offline_not_allowed' | 'revoked';

export type Verdict =
  | { kind: 'admitted'; ticketId: string; at: string; offline: boolean }
  | { kind: 'already'; ticketId: string; at?: string; door?: string; offline: boolean; message: string }
  | { kind: 'forged'; offline: boolean; message: string }
  | { kind: 'cancelled'; ticketId?: string; offline: boolean; message: string }
  | { kind: 'other_event'; offline: boolean; message: string }
  | { kind: 'not_found'; offline: boolean; message: string }
  /** The server is unreachable and the organiser does not allow offline admission. */
  | { kind: 'offline_refused'; message: string }
  /** Anything else the server said (revoked door, bad request): nobody admitted. */
  | { kind: 'error'; code: string; message: string };

export interface QueuedScan extends OfflineScan {
  ticketId: string;
}

/** A sync answer the door operator must see: a conflict (another door admitted first) or a refusal. */
export interface SyncNotice {
  ticketId?: string;
  nonce: string;
  outcome: 'conflict' | 'refused';
  message: string;
  firstCheckIn?: SyncResult['firstCheckIn'];
}

export interface DoorSnapshot {
  connection: Connection;
  eventId?: string;
  eventName?: string;
  /** Tickets this door admitted since it started (online and offline). */
  admittedHere: number;
  /** Tickets known admitted at the whole event (the door list, plus what this door admitted since). */
  checkedIn: number;
  /** Offline admissions not yet uploaded. */
  queued: number;
  offlineAllowed: boolean;
  /** Conflicts the server reported (sync answers and the door list's `conflicts`). */
  conflicts: ConflictGroup[];
  syncNotices: SyncNotice[];
  /** When the door list was last downloaded (ISO). */
  listAt?: string;
  lastError?: string;
}

/**
 * Where the offline queue, and the last door list, survive a restart of the door program: a door
 * restarted while the network is down can start from its last list (when offline is allowed).
 */
export interface QueueStore {
  load(): QueuedScan[];
  save(scans: readonly QueuedScan[]): void;
  loadList?(): DoorList | undefined;
  saveList?(list: DoorList): void;
}

export interface DoorSessionOptions {
  /** Skip discovery when the event is known. */
  eventId?: string;
  store?: QueueStore;
  /** Door list refresh while online (default 30 s). */
  refreshMs?: number;
  /** How often an offline door tries the server again (default 5 s). */
  probeMs?: number;
  now?: () => Date;
  nonce?: () => string;
}
