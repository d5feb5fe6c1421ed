export { ApiError, isApiError, describeNetworkError } from './api-error.js';
export {
  BoxofficeClient,
  abortableSleep,
  parseRetryAfter,
  type CallOptions,
  type CancelOptions,
  type ClientOptions,
  type KeyedCallOptions,
  type WaitOptions,
} from './boxoffice-client.js';
export { readEventStream, subscribeToEvents, type EventSubscription, type SubscribeHandlers, type SubscribeOptions } from './event-stream.js';
export type {
  AvailabilityChange,
  Booking,
  Event,
  EventStreamMessage,
  Hold,
  HoldStatus,
  NewEventInput,
  RetryCause,
  RetryNotice,
  StreamStatus,
  Ticket,
  TicketStatus,
} from './types.js';
