import { ApiError } from '../../../client/api-error.js';

/** A failed request: the message for the buyer (the server's own sentence when it answered) and its HTTP status and code for the log. */
export function describeFailure(err: unknown): { message: string; fields: { status?: number; code?: string } } {
  const message = err instanceof Error ? err.message : String(err);
  return { message, fields: err instanceof ApiError ? { status: err.status, code: err.code } : {} };
}
