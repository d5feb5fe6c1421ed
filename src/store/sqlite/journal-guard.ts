import { statSync } from 'node:fs';
import type Database from 'better-sqlite3';

/** The `code` of the error every write gets once the journal is gone. */
export const JOURNAL_LOST = 'BOXOFFICE_JOURNAL_LOST';

/**
 * Notices that the WAL file was deleted (or replaced) under a running server. SQLite keeps writing
 * to the file it has open, which no longer has a name: commits "succeed" into it and vanish at the
 * next crash. So the writer stats the WAL's path once per batch, after COMMIT and before anyone is
 * answered (plus a periodic check in the writer thread), and compares device and inode with what it
 * saw at open. Once lost, it checkpoints, which copies every committed page from the still-open file
 * into the database file, and every later write is refused until a restart.
 */
export class JournalGuard {
  private readonly walPath: string;
  private seen: { dev: number; ino: number } | undefined;
  private lost: string | undefined;
  /** The WAL's size at the last check (bytes): the writer's cue to truncate it (one stat serves both). */
  size = 0;

  constructor(private readonly db: Database.Database) {
    this.walPath = `${db.name}-wal`;
    this.seen = this.identity();
  }

  /** Why writes are refused, once the journal was found gone. */
  get fault(): string | undefined {
    return this.lost;
  }

  /** Checks the journal (one stat); returns the fault when it is gone, now or earlier. */
  check(): string | undefined {
    if (this.lost) return this.lost;
    const now = this.identity();
    if (!this.seen) {
      this.seen = now;
      return undefined;
    }
    if (now && now.dev === this.seen.dev && now.ino === this.seen.ino) return undefined;
    this.lost = `the journal ${this.walPath} was deleted or replaced while the server ran; bookings are refused until a restart`;
    try {
      // The connection still has the unnamed file open: this saves what it holds.
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // Nothing more can be done from here; the refusal below still stands.
    }
    return this.lost;
  }

  private identity(): { dev: number; ino: number } | undefined {
    const stats = statSync(this.walPath, { throwIfNoEntry: false });
    this.size = stats?.size ?? 0;
    return stats && { dev: stats.dev, ino: stats.ino };
  }
}

export function journalLostError(fault: string): Error {
  return Object.assign(new Error(fault), { code: JOURNAL_LOST });
}
