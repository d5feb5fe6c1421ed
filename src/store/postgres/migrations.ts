import type { Migration } from '../migration.js';

/** Schema history of the PostgreSQL adapter; append, never edit. Names resolve in the configured schema. */
export const postgresMigrations: readonly Migration[] = [
  {
    version: 1,
    description: 'events, bookings and tickets',
    sql: `
      CREATE TABLE events (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        date timestamptz NOT NULL,
        total_tickets integer NOT NULL CHECK (total_tickets > 0),
        available_tickets integer NOT NULL CHECK (available_tickets >= 0 AND available_tickets <= total_tickets),
        max_tickets_per_booking integer NOT NULL CHECK (max_tickets_per_booking > 0)
      );
      CREATE TABLE bookings (
        id uuid PRIMARY KEY,
        event_id uuid NOT NULL REFERENCES events (id),
        tickets integer NOT NULL CHECK (tickets > 0),
        created_at timestamptz NOT NULL
      );
      CREATE TABLE tickets (
        id uuid PRIMARY KEY,
        booking_id uuid NOT NULL REFERENCES bookings (id),
        event_id uuid NOT NULL
      );
      CREATE INDEX tickets_by_booking ON tickets (booking_id);
    `,
  },
  {
    version: 2,
    description: 'holds, cancellation and idempotency keys',
    sql: `
      ALTER TABLE events ADD COLUMN held_tickets integer NOT NULL DEFAULT 0 CHECK (held_tickets >= 0);
      ALTER TABLE events ADD COLUMN hold_seconds integer NOT NULL DEFAULT 600 CHECK (hold_seconds > 0);
      -- The invariant as a constraint: available + held never exceeds total (sold is the rest).
      ALTER TABLE events ADD CONSTRAINT events_stock_within_total CHECK (available_tickets + held_tickets <= total_tickets);
      -- Only the hash of a booking's secret; NULL for bookings made before secrets existed.
      ALTER TABLE bookings ADD COLUMN secret_hash text;
      -- NULL while the ticket is valid.
      ALTER TABLE tickets ADD COLUMN cancelled_at timestamptz;
      CREATE TABLE holds (
        id uuid PRIMARY KEY,
        event_id uuid NOT NULL REFERENCES events (id),
        tickets integer NOT NULL CHECK (tickets > 0),
        status text NOT NULL CHECK (status IN ('active', 'confirmed', 'released', 'expired')),
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        booking_id uuid REFERENCES bookings (id)
      );
      CREATE INDEX holds_active_by_expiry ON holds (expires_at) WHERE status = 'active';
      -- result is NULL only inside the transaction that claimed the key; it is set before COMMIT.
      CREATE TABLE idempotency_keys (
        key text PRIMARY KEY,
        fingerprint text NOT NULL,
        result text,
        created_at timestamptz NOT NULL
      );
      CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
    `,
  },
  {
    version: 3,
    description: 'per-buyer limits',
    sql: `
      -- NULL: the event predates per-buyer limits, and the defaults apply (see rows.ts).
      ALTER TABLE events ADD COLUMN max_held_per_buyer integer CHECK (max_held_per_buyer > 0);
      ALTER TABLE events ADD COLUMN max_tickets_per_buyer integer CHECK (max_tickets_per_buyer > 0);
      -- Who made a hold or a booking (an opaque key, not an address); NULL before this version.
      ALTER TABLE holds ADD COLUMN buyer text;
      ALTER TABLE bookings ADD COLUMN buyer text;
      CREATE TABLE buyer_tickets (
        event_id uuid NOT NULL REFERENCES events (id),
        buyer text NOT NULL,
        held integer NOT NULL CHECK (held >= 0),
        bought integer NOT NULL CHECK (bought >= 0),
        PRIMARY KEY (event_id, buyer)
      );
    `,
  },
  {
    version: 4,
    description: 'no booking secret at rest',
    sql: `
      -- Secrets are now derived from a server key, never stored. Answers remembered before held the
      -- booking's secret in clear (client keys and repeated confirmations): remove it. (The old row
      -- versions are gone once VACUUM reclaims them.)
      UPDATE idempotency_keys SET result = (result::jsonb #- '{booking,secret}')::text
        WHERE result IS NOT NULL AND result::jsonb #> '{booking,secret}' IS NOT NULL;
    `,
  },
  {
    version: 5,
    description: 'check-in at the door',
    sql: `
      ALTER TABLE events ADD COLUMN offline_checkin boolean NOT NULL DEFAULT false;
      ALTER TABLE events ADD COLUMN checked_in_tickets integer NOT NULL DEFAULT 0 CHECK (checked_in_tickets >= 0);
      -- A door device of one event; only the SHA-256 of its token is kept.
      CREATE TABLE doors (
        id uuid PRIMARY KEY,
        event_id uuid NOT NULL REFERENCES events (id),
        name text NOT NULL,
        token_hash text NOT NULL,
        created_at timestamptz NOT NULL,
        revoked_at timestamptz
      );
      CREATE INDEX doors_by_event ON doors (event_id, created_at);
      -- The one admission of a ticket: the primary key makes a second one impossible, on any node.
      CREATE TABLE checkins (
        ticket_id uuid PRIMARY KEY REFERENCES tickets (id),
        event_id uuid NOT NULL REFERENCES events (id),
        booking_id uuid NOT NULL,
        door_id uuid NOT NULL REFERENCES doors (id),
        at timestamptz NOT NULL,
        offline boolean NOT NULL
      );
      CREATE INDEX checkins_by_event ON checkins (event_id);
      CREATE INDEX checkins_by_door ON checkins (door_id);
      -- Every scan a decision recorded, for the organiser (recent scans, conflicts).
      CREATE TABLE scans (
        seq bigserial PRIMARY KEY,
        event_id uuid NOT NULL REFERENCES events (id),
        ticket_id uuid NOT NULL,
        door_id uuid NOT NULL REFERENCES doors (id),
        at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('admitted', 'already_checked_in', 'conflict', 'cancelled')),
        offline boolean NOT NULL
      );
      CREATE INDEX scans_by_event ON scans (event_id, seq);
      CREATE INDEX scans_by_ticket ON scans (ticket_id);
      CREATE INDEX scans_conflicts ON scans (event_id) WHERE outcome = 'conflict';
    `,
  },
  {
    version: 6,
    description: 'event lifecycle, time zone and buyers\' details (issue 17)',
    sql: `
      ALTER TABLE events ADD COLUMN description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000);
      ALTER TABLE events ADD COLUMN venue text NOT NULL DEFAULT '' CHECK (length(venue) <= 200);
      -- Events made before zones existed were stored and shown in UTC.
      ALTER TABLE events ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC';
      ALTER TABLE events ADD COLUMN sales_open boolean NOT NULL DEFAULT true;
      ALTER TABLE events ADD COLUMN status text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled'));
      ALTER TABLE events ADD COLUMN buyer_details text NOT NULL DEFAULT 'none' CHECK (buyer_details IN ('none', 'optional', 'required'));
      -- What the buyer typed: shown to the organiser only.
      ALTER TABLE bookings ADD COLUMN buyer_name text;
      ALTER TABLE bookings ADD COLUMN buyer_email text;
      ALTER TABLE holds ADD COLUMN buyer_name text;
      ALTER TABLE holds ADD COLUMN buyer_email text;
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
      ALTER TABLE events ADD COLUMN on_sale_at timestamptz;
      ALTER TABLE events ADD COLUMN waiting_room boolean NOT NULL DEFAULT false;
      ALTER TABLE events ADD COLUMN waiting_room_opens_at timestamptz;
      ALTER TABLE events ADD COLUMN queue_window integer CHECK (queue_window IS NULL OR queue_window > 0);
      -- One line per event, shared by every node. version: every change is conditional on it (the order is drawn once).
      CREATE TABLE queue_lines (
        event_id uuid PRIMARY KEY REFERENCES events (id),
        version integer NOT NULL,
        joined integer NOT NULL CHECK (joined >= 0),
        positioned integer NOT NULL CHECK (positioned >= 0 AND positioned <= joined),
        opened_at timestamptz,
        serving integer NOT NULL CHECK (serving >= 0 AND serving <= positioned),
        paused boolean NOT NULL
      );
      CREATE TABLE queue_entries (
        id uuid PRIMARY KEY,
        event_id uuid NOT NULL REFERENCES events (id),
        buyer text NOT NULL,
        seq integer NOT NULL,
        position integer,
        state text NOT NULL CHECK (state IN ('waiting', 'admitted', 'done', 'expired')),
        joined_at timestamptz NOT NULL,
        admitted_at timestamptz,
        pass_expires_at timestamptz,
        finished_at timestamptz,
        UNIQUE (event_id, seq),
        UNIQUE (event_id, position)
      );
      -- One active entry per buyer and event, whatever the code above it decides.
      CREATE UNIQUE INDEX queue_entries_active_buyer ON queue_entries (event_id, buyer) WHERE state IN ('waiting', 'admitted');
      CREATE INDEX queue_entries_unpositioned ON queue_entries (event_id, seq) WHERE position IS NULL;
      CREATE INDEX queue_entries_admitted ON queue_entries (event_id, pass_expires_at) WHERE state = 'admitted';
      -- Keys every node shares (the waiting room's signing key), created once by the first node.
      CREATE TABLE server_keys (name text PRIMARY KEY, value text NOT NULL);
      -- 244 random bits from the server's strong random source (two version-4 UUIDs), without pgcrypto.
      INSERT INTO server_keys (name, value) VALUES ('waiting-room', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));
    `,
  },
];
