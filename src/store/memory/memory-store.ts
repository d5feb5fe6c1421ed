import { decideBatch, type IdentitySource } from '../../core/decide-batch.js';
import { compareEvents } from '../../core/event-catalog.js';
import type { BookingOutcome, BookingRequest, Store } from '../../core/store.js';
import type { Booking, Event, Ticket } from '../../core/types.js';

/** Everything in process memory: for tests and `--db :memory:`. Not durable by design. */
export class MemoryStore implements Store {
  readonly kind = 'memory';
  private readonly events = new Map<string, Event>();
  private readonly bookings = new Map<string, Booking>();
  private readonly tickets = new Map<string, Ticket>();

  constructor(private readonly identity?: IdentitySource) {}

  async createEvent(event: Event): Promise<void> {
    if (this.events.has(event.id)) throw new Error(`event ${event.id} already exists`);
    this.events.set(event.id, { ...event });
  }

  async getEvent(id: string): Promise<Event | undefined> {
    const event = this.events.get(id);
    return event && { ...event };
  }

  async listEvents(): Promise<Event[]> {
    return [...this.events.values()].map((e) => ({ ...e })).sort(compareEvents);
  }

  async commitBookings(requests: readonly BookingRequest[]): Promise<BookingOutcome[]> {
    const available = new Map<string, number>();
    for (const { eventId } of requests) {
      const event = this.events.get(eventId);
      if (event) available.set(eventId, event.availableTickets);
    }
    const decision = decideBatch(requests, available, this.identity);
    // Check every event before touching any, so a batch applies whole or not at all.
    for (const [eventId, n] of decision.taken) {
      if (this.events.get(eventId)!.availableTickets < n) throw new Error(`oversell prevented on event ${eventId}`);
    }
    for (const [eventId, n] of decision.taken) this.events.get(eventId)!.availableTickets -= n;
    for (const booking of decision.bookings) {
      this.bookings.set(booking.id, booking);
      for (const ticket of booking.tickets) this.tickets.set(ticket.id, ticket);
    }
    return decision.outcomes;
  }

  async getTicket(id: string): Promise<Ticket | undefined> {
    const ticket = this.tickets.get(id);
    return ticket && { ...ticket };
  }

  async getBooking(id: string): Promise<Booking | undefined> {
    const booking = this.bookings.get(id);
    return booking && { ...booking, tickets: booking.tickets.map((t) => ({ ...t })) };
  }

  async countTickets(eventId: string): Promise<number> {
    let count = 0;
    for (const ticket of this.tickets.values()) if (ticket.eventId === eventId) count++;
    return count;
  }

  async close(): Promise<void> {}
}
