import type { Migration } from '../migration.js';

/**
 * Schema history of the SQLite adapter. Append, never edit: a database records the last version
 * it applied (PRAGMA user_version) and runs only what follows.
 */
export const sqliteMigrations: readonly Migration[] = [
  {
    version: 1,
    description: 'events, bookings and tickets',
    sql: `
      CREATE TABLE events (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        date TEXT NOT NULL,
        total_tickets INTEGER NOT NULL CHECK (total_tickets > 0),
        available_tickets INTEGER NOT NULL CHECK (available_tickets >= 0 AND available_tickets <= total_tickets),
        max_tickets_per_booking INTEGER NOT NULL CHECK (max_tickets_per_booking > 0)
      ) STRICT;
      -- seq is the rowid: bookings append, and tickets point at it instead of at a random UUID.
      CREATE TABLE bookings (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        event_id TEXT NOT NULL REFERENCES events(id),
        tickets INTEGER NOT NULL CHECK (tickets > 0),
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE TABLE tickets (
        id TEXT PRIMARY KEY,
        booking_seq INTEGER NOT NULL REFERENCES bookings(seq),
        event_id TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX tickets_by_booking ON tickets (booking_seq);
    `,
  },
];
