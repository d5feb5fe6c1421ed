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
];
