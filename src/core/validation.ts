import { Errors, truncate } from './errors.js';
import { DEFAULT_HOLD_SECONDS, DEFAULT_MAX_TICKETS_PER_BOOKING, type BuyerContact, type BuyerDetailsSetting, type EventPatch, type NewEvent } from './types.js';

/** Every rule about what input is acceptable lives here, shared by the API and the terminal UIs. */
export const LIMITS = {
  nameMaxLength: 200,
  descriptionMaxLength: 2000,
  venueMaxLength: 200,
  buyerNameMaxLength: 200,
  emailMaxLength: 254,
  searchMaxLength: 200,
  totalTicketsMax: 10_000_000,
  maxTicketsPerBookingMax: 10_000,
  queueWindowMax: 100_000,
  holdSecondsMax: 86_400,
  idempotencyKeyMinLength: 16,
  idempotencyKeyMaxLength: 200,
} as const;

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
// Offset or Z required: a date without one means a different instant on every machine.
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
// Digits only: no sign, no fraction, no exponent, no leading zero; nine digits keep it a safe integer.
const DECIMAL_COUNT = /^[1-9]\d{0,8}$/;

export function isUuidV4(value: unknown): value is string {
  return typeof value === 'string' && UUID_V4.test(value);
}

/** Returns the id in canonical (lowercase) form, or throws `invalid_request`. */
export function parseId(value: unknown, what = 'id'): string {
  if (!isUuidV4(value)) {
    throw Errors.invalidRequest(`${what} must be a UUID like 3f2b8c4e-6a1d-4e5f-9b7a-2c8d1e0f4a6b, got ${describe(value)}.`);
  }
  return value.toLowerCase();
}

/**
 * A ticket count from JSON (a number) or a query string (digits).
 * Floats, negatives, zero, exponent forms, strings in JSON and anything above `max` are refused.
 */
export function parseTicketCount(value: unknown, max: number = DEFAULT_MAX_TICKETS_PER_BOOKING): number {
  let count: number | undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value)) count = value;
  else if (typeof value === 'string' && DECIMAL_COUNT.test(value)) count = Number(value);
  if (count === undefined || count < 1 || count > max) {
    throw Errors.invalidRequest(`tickets must be a whole number from 1 to ${max}, got ${describe(value)}.`);
  }
  return count;
}

export function validateDate(value: unknown, field = 'date'): string {
  const fail = () =>
    Errors.invalidRequest(
      `${field} must be an ISO 8601 date-time with a time zone, like 2026-12-31T20:00:00Z, got ${describe(value)}.`,
    );
  if (typeof value !== 'string') throw fail();
  const m = ISO_DATE_TIME.exec(value);
  if (!m) throw fail();
  const [, y, mo, d, h, mi, s] = m;
  const millis = Date.parse(value);
  // Date.parse rolls 2026-02-30 over to March; compare the calendar fields to catch that.
  const probe = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (
    Number.isNaN(millis) ||
    probe.getUTCMonth() !== Number(mo) - 1 ||
    probe.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s ?? 0) > 59
  ) {
    throw fail();
  }
  return new Date(millis).toISOString();
}

export function validateNewEvent(input: unknown): NewEvent {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw Errors.invalidRequest('The event must be a JSON object with name, date and totalTickets.');
  }
  const body = input as Record<string, unknown>;
  const name = validateName(body.name);
  const date = validateDate(body.date);
  const totalTickets = wholeNumber(body.totalTickets, 'totalTickets', 1, LIMITS.totalTicketsMax);
  const maxTicketsPerBooking =
    body.maxTicketsPerBooking === undefined || body.maxTicketsPerBooking === null
      ? DEFAULT_MAX_TICKETS_PER_BOOKING
      : wholeNumber(body.maxTicketsPerBooking, 'maxTicketsPerBooking', 1, LIMITS.maxTicketsPerBookingMax);
  const holdSeconds =
    body.holdSeconds === undefined || body.holdSeconds === null
      ? DEFAULT_HOLD_SECONDS
      : wholeNumber(body.holdSeconds, 'holdSeconds', 1, LIMITS.holdSecondsMax);
  const maxHeldPerBuyer = optionalWhole(body.maxHeldPerBuyer, 'maxHeldPerBuyer', LIMITS.totalTicketsMax) ?? maxTicketsPerBooking;
  const maxTicketsPerBuyer = optionalWhole(body.maxTicketsPerBuyer, 'maxTicketsPerBuyer', LIMITS.totalTicketsMax) ?? totalTickets;
  const offlineCheckIn = optionalBoolean(body.offlineCheckIn, 'offlineCheckIn') ?? false;
  const event: NewEvent = {
    name,
    date,
    totalTickets,
    maxTicketsPerBooking,
    holdSeconds,
    maxHeldPerBuyer,
    maxTicketsPerBuyer,
    offlineCheckIn,
    description: optionalText(body.description, 'description', LIMITS.descriptionMaxLength) ?? '',
    venue: optionalText(body.venue, 'venue', LIMITS.venueMaxLength) ?? '',
    salesOpen: optionalBoolean(body.salesOpen, 'salesOpen') ?? true,
    buyerDetails: optionalBuyerDetails(body.buyerDetails) ?? 'none',
    ...validateSaleSettings(body, { onSaleAt: null, waitingRoom: false, queueWindow: null }),
  };
  if (body.timeZone !== undefined && body.timeZone !== null) event.timeZone = validateTimeZone(body.timeZone);
  return event;
}

/** The fields `PATCH /events/:id` may change. */
export const PATCHABLE_FIELDS = [
  'name',
  'date',
  'description',
  'venue',
  'timeZone',
  'totalTickets',
  'maxTicketsPerBooking',
  'holdSeconds',
  'maxHeldPerBuyer',
  'maxTicketsPerBuyer',
  'buyerDetails',
  'salesOpen',
] as const;

/** The waiting-room settings a PATCH may also change (written apart from the other fields). */
export const SALE_FIELDS = ['onSaleAt', 'waitingRoom', 'queueWindow'] as const;
const CHANGEABLE: readonly string[] = [...PATCHABLE_FIELDS, ...SALE_FIELDS];

/**
 * A change to an event: any of `PATCHABLE_FIELDS`, at least one, each validated as on creation (a
 * date in the past is allowed: the organiser may correct a past event). Whether the new numbers
 * fit what is already sold and held is the decision's to say, on the locked row.
 */
export function validateEventPatch(input: unknown): EventPatch {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw Errors.invalidRequest(`The change must be a JSON object with one or more of ${CHANGEABLE.join(', ')}.`);
  }
  const body = input as Record<string, unknown>;
  const unknown = Object.keys(body).find((k) => !CHANGEABLE.includes(k));
  if (unknown !== undefined) {
    throw Errors.invalidRequest(`${truncate(unknown, 60)} cannot be changed; send one or more of ${CHANGEABLE.join(', ')}.`);
  }
  const patch: EventPatch = {};
  if (body.name !== undefined) patch.name = validateName(body.name);
  if (body.date !== undefined) patch.date = validateDate(body.date);
  if (body.description !== undefined) patch.description = validateText(body.description, 'description', LIMITS.descriptionMaxLength);
  if (body.venue !== undefined) patch.venue = validateText(body.venue, 'venue', LIMITS.venueMaxLength);
  if (body.timeZone !== undefined) patch.timeZone = validateTimeZone(body.timeZone);
  if (body.totalTickets !== undefined) patch.totalTickets = wholeNumber(body.totalTickets, 'totalTickets', 1, LIMITS.totalTicketsMax);
  if (body.maxTicketsPerBooking !== undefined) {
    patch.maxTicketsPerBooking = wholeNumber(body.maxTicketsPerBooking, 'maxTicketsPerBooking', 1, LIMITS.maxTicketsPerBookingMax);
  }
  if (body.holdSeconds !== undefined) patch.holdSeconds = wholeNumber(body.holdSeconds, 'holdSeconds', 1, LIMITS.holdSecondsMax);
  if (body.maxHeldPerBuyer !== undefined) patch.maxHeldPerBuyer = wholeNumber(body.maxHeldPerBuyer, 'maxHeldPerBuyer', 1, LIMITS.totalTicketsMax);
  if (body.maxTicketsPerBuyer !== undefined) patch.maxTicketsPerBuyer = wholeNumber(body.maxTicketsPerBuyer, 'maxTicketsPerBuyer', 1, LIMITS.totalTicketsMax);
  if (body.buyerDetails !== undefined) patch.buyerDetails = optionalBuyerDetails(body.buyerDetails ?? 'null');
  if (body.salesOpen !== undefined) patch.salesOpen = optionalBoolean(body.salesOpen ?? 'null', 'salesOpen');
  const sale = validateSaleSettings(body, {});
  if ('onSaleAt' in body) patch.onSaleAt = sale.onSaleAt;
  if ('waitingRoom' in body) patch.waitingRoom = sale.waitingRoom;
  if ('queueWindow' in body) patch.queueWindow = sale.queueWindow;
  if (Object.keys(patch).length === 0) {
    throw Errors.invalidRequest(`The change must name one or more of ${CHANGEABLE.join(', ')}.`);
  }
  return patch;
}

/**
 * The waiting-room settings (issue 13): `onSaleAt` an instant or null (on sale now), `waitingRoom`
 * a boolean, `queueWindow` a whole number or null (derived from the stock). Absent fields take `absent`.
 */
function validateSaleSettings<T extends Partial<Pick<NewEvent, 'onSaleAt' | 'waitingRoom' | 'queueWindow'>>>(
  body: Record<string, unknown>,
  absent: T,
): Pick<NewEvent, 'onSaleAt' | 'waitingRoom' | 'queueWindow'> {
  const out = { ...absent } as Pick<NewEvent, 'onSaleAt' | 'waitingRoom' | 'queueWindow'>;
  if (body.onSaleAt !== undefined) out.onSaleAt = body.onSaleAt === null ? null : validateDate(body.onSaleAt, 'onSaleAt');
  if (body.waitingRoom !== undefined) out.waitingRoom = optionalBoolean(body.waitingRoom ?? 'null', 'waitingRoom')!;
  if (body.queueWindow !== undefined) out.queueWindow = optionalWhole(body.queueWindow, 'queueWindow', LIMITS.queueWindowMax) ?? null;
  return out;
}

// An IANA name: Area/Location (Europe/Berlin, America/Argentina/Buenos_Aires), or UTC and the like.
const TIME_ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+\-]*(\/[A-Za-z0-9_+\-]+){0,2}$/;

/**
 * An IANA time zone name, as Intl knows it (so every screen can format dates in it), in its
 * canonical spelling. Offsets (`+01:00`) and abbreviations (`CET` aside, which IANA has) are not zones.
 */
export function validateTimeZone(value: unknown): string {
  const fail = () =>
    Errors.invalidRequest(`timeZone must be an IANA time zone like Europe/Berlin or America/New_York, got ${describe(value)}.`);
  if (typeof value !== 'string' || value.length > 64 || !TIME_ZONE_NAME.test(value)) throw fail();
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    throw fail();
  }
}

/** This machine's own time zone, the default when neither the flag nor the variable names one. */
export function systemTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

// Deliberately loose (the only real check is a mail that arrives): one @, something before it, a
// dot in the domain, no spaces or angle brackets.
export const EMAIL = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:.]{2,}$/u;

/**
 * The buyer's `{ name?, email? }` of a booking or hold body: undefined when absent. Names are shown
 * on the organiser's screens and in the CSV, so they must be displayable like event names.
 */
export function parseBuyerContact(value: unknown): BuyerContact | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw Errors.invalidRequest(`buyer must be an object like {"name": "Ada Lovelace", "email": "ada@example.org"}, got ${describe(value)}.`);
  }
  const body = value as Record<string, unknown>;
  const unknown = Object.keys(body).find((k) => k !== 'name' && k !== 'email');
  if (unknown !== undefined) throw Errors.invalidRequest(`buyer may have only name and email, got ${truncate(unknown, 60)}.`);
  const contact: BuyerContact = {};
  if (body.name !== undefined && body.name !== null) {
    const name = typeof body.name === 'string' ? body.name.trim() : undefined;
    if (!name || name.length > LIMITS.buyerNameMaxLength) {
      throw Errors.invalidRequest(`buyer.name must be text of 1 to ${LIMITS.buyerNameMaxLength} characters, got ${describe(body.name)}.`);
    }
    checkDisplayable(name, 'buyer.name');
    contact.name = name;
  }
  if (body.email !== undefined && body.email !== null) {
    const email = typeof body.email === 'string' ? body.email.trim() : undefined;
    if (!email || email.length > LIMITS.emailMaxLength || !EMAIL.test(email)) {
      throw Errors.invalidRequest(`buyer.email must be an email address like ada@example.org (at most ${LIMITS.emailMaxLength} characters), got ${describe(body.email)}.`);
    }
    contact.email = email;
  }
  return contact.name === undefined && contact.email === undefined ? undefined : contact;
}

function validateName(value: unknown): string {
  const name = typeof value === 'string' ? value.trim() : undefined;
  if (!name || name.length > LIMITS.nameMaxLength) {
    throw Errors.invalidRequest(`name must be text of 1 to ${LIMITS.nameMaxLength} characters, got ${describe(value)}.`);
  }
  checkDisplayable(name, 'name');
  return name;
}

/** Free text that may be empty (description, venue): displayable, newlines allowed in a description. */
function validateText(value: unknown, field: string, max: number): string {
  if (typeof value !== 'string' || value.length > max) {
    throw Errors.invalidRequest(`${field} must be text of at most ${max} characters, got ${describe(value)}.`);
  }
  const text = value.trim();
  if (text === '') return '';
  checkDisplayable(field === 'description' ? text.replace(/\r?\n/g, ' ') : text, field);
  return text;
}

function optionalText(value: unknown, field: string, max: number): string | undefined {
  return value === undefined || value === null ? undefined : validateText(value, field, max);
}

function optionalBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw Errors.invalidRequest(`${field} must be true or false, got ${describe(value)}.`);
  return value;
}

const BUYER_DETAILS: readonly BuyerDetailsSetting[] = ['none', 'optional', 'required'];

function optionalBuyerDetails(value: unknown): BuyerDetailsSetting | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !(BUYER_DETAILS as readonly string[]).includes(value)) {
    throw Errors.invalidRequest(`buyerDetails must be "none", "optional" or "required", got ${describe(value)}.`);
  }
  return value as BuyerDetailsSetting;
}

// C0 and C1 controls (ESC starts terminal colour codes, NUL and newlines break logs and lists),
// and the bidi overrides and isolates that make text display in an order other than it is stored.
const UNDISPLAYABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;
// Characters that draw nothing: a name made only of these looks empty on every screen.
const INVISIBLE = /^[\s\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202f\u205f-\u2064\u206a-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]*$/u;

/**
 * Text shown on the organiser's terminal, the buyer's TUI and the web page must display as what it
 * is: control and bidi-override characters are refused, naming the code point, rather than cleaned,
 * so the organiser learns what was wrong with the text they pasted.
 */
export function checkDisplayable(text: string, field: string): void {
  const bad = UNDISPLAYABLE.exec(text);
  if (bad) {
    const code = `U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    throw Errors.invalidRequest(
      `${field} must not contain control or text-direction characters, found ${code} (character ${bad.index + 1}).`,
    );
  }
  if (INVISIBLE.test(text)) throw Errors.invalidRequest(`${field} must contain at least one visible character.`);
}

function optionalWhole(value: unknown, field: string, max: number): number | undefined {
  return value === undefined || value === null ? undefined : wholeNumber(value, field, 1, max);
}

// Letters, digits and - _ . ~ : + / = (a UUID, hex, base64): a key travels in a header and is
// compared byte for byte. At least 16 characters: a key must be unguessable, since clients behind one
// address (a NAT, a proxy) share the key space.
const IDEMPOTENCY_KEY = /^[A-Za-z0-9\-_.~:+/=]+$/;

/** The Idempotency-Key header's value, or undefined when the request has none. */
export function parseIdempotencyKey(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (
    typeof value !== 'string' ||
    value.length < LIMITS.idempotencyKeyMinLength ||
    value.length > LIMITS.idempotencyKeyMaxLength ||
    !IDEMPOTENCY_KEY.test(value)
  ) {
    throw Errors.invalidRequest(
      `Idempotency-Key must be an unguessable ${LIMITS.idempotencyKeyMinLength} to ${LIMITS.idempotencyKeyMaxLength} characters of letters, digits and - _ . ~ : + / = (a random UUID is a good choice), got ${describe(value)}.`,
    );
  }
  return value;
}

/** A list of ticket ids to cancel: canonical, at most `max`, no duplicates. */
export function parseTicketIds(value: unknown, max: number): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > max) {
    throw Errors.invalidRequest(`tickets must be a list of 1 to ${max} ticket ids, got ${describe(value)}.`);
  }
  return value.map((id) => parseId(id, 'ticket id'));
}

function wholeNumber(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw Errors.invalidRequest(
      `${field} must be a whole number from ${min} to ${max.toLocaleString('en-US')}, got ${describe(value)}.`,
    );
  }
  return value;
}

/** A short, safe rendering of a rejected value for an error message. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return truncate(text, 60);
}
