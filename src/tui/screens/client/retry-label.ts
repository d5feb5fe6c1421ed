import type { RetryNotice } from '../../../client/types.js';
import { formatDelay } from '../../format.js';

/** What the spinner says while a failed try is repeated. */
export function retryLabel(n: RetryNotice): string {
  const when = `retrying in ${formatDelay(n.delayMs)}… (${n.attempt} of ${n.maxRetries})`;
  switch (n.cause) {
    case 'busy':
      return `Server busy, ${when}`;
    case 'unavailable':
      return `Server unavailable, ${when}`;
    default:
      // Safe: the retry carries the same Idempotency-Key, so the server cannot hold or book twice.
      return `No answer from the server, ${when}`;
  }
}
