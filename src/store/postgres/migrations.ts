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
];
