export { ApiError, isApiError, describeNetworkError } from './api-error.js';
export { BoxofficeClient, abortableSleep, parseRetryAfter, type CallOptions, type ClientOptions, type WaitOptions } from './boxoffice-client.js';
export { readEventStream, subscribeToEvents, type EventSubscription, type SubscribeHandlers, type SubscribeOptions } from './event-stream.js';
export type { Booking, Event, EventStreamMessage, NewEventInput, RetryNotice, StreamStatus, Ticket } from './types.js';
