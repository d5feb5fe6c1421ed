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
  {
    version: 2,
    description: 'holds, cancellation and idempotency keys',
    sql: `
      -- SQLite checks a column's CHECK against the whole row, so this is the full invariant:
      -- available + held never exceeds total (sold is the rest), whatever a decision computed.
      ALTER TABLE events ADD COLUMN held_tickets INTEGER NOT NULL DEFAULT 0
        CHECK (held_tickets >= 0 AND available_tickets + held_tickets <= total_tickets);
      ALTER TABLE events ADD COLUMN hold_seconds INTEGER NOT NULL DEFAULT 600 CHECK (hold_seconds > 0);
      -- Only the hash of a booking's secret; NULL for bookings made before secrets existed.
      ALTER TABLE bookings ADD COLUMN secret_hash TEXT;
      -- NULL while the ticket is valid.
      ALTER TABLE tickets ADD COLUMN cancelled_at TEXT;
      CREATE TABLE holds (
        id TEXT PRIMARY KEY,
        event_id TEXT NOT NULL REFERENCES events(id),
        tickets INTEGER NOT NULL CHECK (tickets > 0),
        status TEXT NOT NULL CHECK (status IN ('active', 'confirmed', 'released', 'expired')),
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        booking_id TEXT
      ) STRICT;
      -- The sweeper's question, "which active holds are due?", reads only this small index.
      CREATE INDEX holds_active_by_expiry ON holds (expires_at) WHERE status = 'active';
      CREATE TABLE idempotency_keys (
        key TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        result TEXT NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
    `,
  },
  {
    version: 3,
    description: 'per-buyer limits',
    sql: `
      -- NULL: the event predates per-buyer limits, and the defaults apply (see rows.ts).
      ALTER TABLE events ADD COLUMN max_held_per_buyer INTEGER CHECK (max_held_per_buyer > 0);
      ALTER TABLE events ADD COLUMN max_tickets_per_buyer INTEGER CHECK (max_tickets_per_buyer > 0);
      -- Who made a hold or a booking (an opaque key, not an address); NULL before this version.
      ALTER TABLE holds ADD COLUMN buyer TEXT;
      ALTER TABLE bookings ADD COLUMN buyer TEXT;
      CREATE TABLE buyer_tickets (
        event_id TEXT NOT NULL REFERENCES events(id),
        buyer TEXT NOT NULL,
        held INTEGER NOT NULL CHECK (held >= 0),
        bought INTEGER NOT NULL CHECK (bought >= 0),
        PRIMARY KEY (event_id, buyer)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 4,
    description: 'no booking secret at rest',
    sql: `
      -- Secrets are now derived from a server key, never stored. Answers remembered before held the
      -- booking's secret in clear (client keys and repeated confirmations): remove it. openDatabase
      -- runs this with secure_delete on and checkpoints the WAL afterwards, so no copy stays on disk.
      UPDATE idempotency_keys SET result = json_remove(result, '$.booking.secret')
        WHERE json_extract(result, '$.booking.secret') IS NOT NULL;
    `,
  },
];
