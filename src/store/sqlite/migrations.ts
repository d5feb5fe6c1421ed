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
  {
    version: 5,
    description: 'check-in at the door',
    sql: `
      ALTER TABLE events ADD COLUMN offline_checkin INTEGER NOT NULL DEFAULT 0 CHECK (offline_checkin IN (0, 1));
      ALTER TABLE events ADD COLUMN checked_in_tickets INTEGER NOT NULL DEFAULT 0 CHECK (checked_in_tickets >= 0);
      -- A door device of one event; only the SHA-256 of its token is kept.
      CREATE TABLE doors (
        id TEXT PRIMARY KEY,
        event_id TEXT NOT NULL REFERENCES events(id),
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT
      ) STRICT;
      CREATE INDEX doors_by_event ON doors (event_id, created_at);
      -- The one admission of a ticket: the primary key makes a second one impossible, whatever a
      -- decision computed.
      CREATE TABLE checkins (
        ticket_id TEXT PRIMARY KEY REFERENCES tickets(id),
        event_id TEXT NOT NULL REFERENCES events(id),
        booking_id TEXT NOT NULL,
        door_id TEXT NOT NULL REFERENCES doors(id),
        at TEXT NOT NULL,
        offline INTEGER NOT NULL CHECK (offline IN (0, 1))
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX checkins_by_event ON checkins (event_id);
      CREATE INDEX checkins_by_door ON checkins (door_id);
      -- Every scan a decision recorded, for the organiser (recent scans, conflicts).
      CREATE TABLE scans (
        seq INTEGER PRIMARY KEY,
        event_id TEXT NOT NULL REFERENCES events(id),
        ticket_id TEXT NOT NULL,
        door_id TEXT NOT NULL REFERENCES doors(id),
        at TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('admitted', 'already_checked_in', 'conflict', 'cancelled')),
        offline INTEGER NOT NULL CHECK (offline IN (0, 1))
      ) STRICT;
      CREATE INDEX scans_by_event ON scans (event_id, seq);
      CREATE INDEX scans_by_ticket ON scans (ticket_id);
      CREATE INDEX scans_conflicts ON scans (event_id) WHERE outcome = 'conflict';
    `,
  },
  {
    version: 6,
    description: 'event lifecycle, time zone and buyers\' details (issue 17)',
    sql: `
      ALTER TABLE events ADD COLUMN description TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 2000);
      ALTER TABLE events ADD COLUMN venue TEXT NOT NULL DEFAULT '' CHECK (length(venue) <= 200);
      -- Events made before zones existed were stored and shown in UTC.
      ALTER TABLE events ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
      ALTER TABLE events ADD COLUMN sales_open INTEGER NOT NULL DEFAULT 1 CHECK (sales_open IN (0, 1));
      ALTER TABLE events ADD COLUMN status TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled'));
      ALTER TABLE events ADD COLUMN buyer_details TEXT NOT NULL DEFAULT 'none' CHECK (buyer_details IN ('none', 'optional', 'required'));
      -- What the buyer typed: shown to the organiser only.
      ALTER TABLE bookings ADD COLUMN buyer_name TEXT;
      ALTER TABLE bookings ADD COLUMN buyer_email TEXT;
      ALTER TABLE holds ADD COLUMN buyer_name TEXT;
      ALTER TABLE holds ADD COLUMN buyer_email TEXT;
      -- The organiser's list of bookings, and cancelling an event's tickets and holds in bulk.
      CREATE INDEX bookings_by_event ON bookings (event_id, created_at);
      CREATE INDEX tickets_by_event ON tickets (event_id);
      CREATE INDEX holds_active_by_event ON holds (event_id) WHERE status = 'active';
    `,
  },
  {
    version: 7,
    description: 'sale time and the virtual waiting room (issue 13)',
    sql: `
      ALTER TABLE events ADD COLUMN on_sale_at TEXT;
      ALTER TABLE events ADD COLUMN waiting_room INTEGER NOT NULL DEFAULT 0 CHECK (waiting_room IN (0, 1));
      ALTER TABLE events ADD COLUMN waiting_room_opens_at TEXT;
      ALTER TABLE events ADD COLUMN queue_window INTEGER CHECK (queue_window IS NULL OR queue_window > 0);
      -- One line per event. version: every change is conditional on it (the order is drawn once).
      CREATE TABLE queue_lines (
        event_id TEXT PRIMARY KEY REFERENCES events(id),
        version INTEGER NOT NULL,
        joined INTEGER NOT NULL CHECK (joined >= 0),
        positioned INTEGER NOT NULL CHECK (positioned >= 0 AND positioned <= joined),
        opened_at TEXT,
        serving INTEGER NOT NULL CHECK (serving >= 0 AND serving <= positioned),
        paused INTEGER NOT NULL CHECK (paused IN (0, 1))
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE queue_entries (
        id TEXT PRIMARY KEY,
        event_id TEXT NOT NULL REFERENCES events(id),
        buyer TEXT NOT NULL,
        seq INTEGER NOT NULL,
        position INTEGER,
        state TEXT NOT NULL CHECK (state IN ('waiting', 'admitted', 'done', 'expired')),
        joined_at TEXT NOT NULL,
        admitted_at TEXT,
        pass_expires_at TEXT,
        finished_at TEXT,
        UNIQUE (event_id, seq),
        UNIQUE (event_id, position)
      ) STRICT, WITHOUT ROWID;
      -- One active entry per buyer and event, whatever the code above it decides.
      CREATE UNIQUE INDEX queue_entries_active_buyer ON queue_entries (event_id, buyer) WHERE state IN ('waiting', 'admitted');
      CREATE INDEX queue_entries_unpositioned ON queue_entries (event_id, seq) WHERE position IS NULL;
      CREATE INDEX queue_entries_admitted ON queue_entries (event_id, pass_expires_at) WHERE state = 'admitted';
      -- Keys every node shares (the waiting room's signing key), created once by the first node.
      CREATE TABLE server_keys (name TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
      INSERT INTO server_keys (name, value) VALUES ('waiting-room', lower(hex(randomblob(32))));
    `,
  },
  {
    version: 8,
    description: 'an event\'s tickets reached through its bookings (issue 12)',
    sql: `
      -- Each ticket's entry in (event_id, id) landed on a page of its own (ids are random): a third
      -- of a booking's cost in every commit. An event's tickets are reached through
      -- bookings_by_event and tickets_by_booking instead; only cancelled tickets, few and read by
      -- the doors, keep an index by event.
      DROP INDEX tickets_by_event;
      CREATE INDEX tickets_cancelled_by_event ON tickets (event_id) WHERE cancelled_at IS NOT NULL;
    `,
  },
];
