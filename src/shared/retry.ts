/**
 * The one retry helper. Retries of a deadlock or a serialization failure wait a random time that
 * doubles with each attempt, so the transactions that collided do not meet again in step.
 */

export interface Backoff {
  /** The wait's scale: attempt n waits up to `baseMs · 2^n` (default 5). */
  baseMs?: number;
  /** false: wait exactly `baseMs · 2^n` (for a peer that is simply not ready yet). Default true. */
  jitter?: boolean;
}

/** How long to wait before attempt `attempt + 1`. */
export function backoffMs(attempt: number, o: Backoff = {}): number {
  const ceiling = (o.baseMs ?? 5) * 2 ** attempt;
  return o.jitter === false ? ceiling : Math.random() * ceiling;
}

/** Waits `backoffMs(attempt)`. */
export function backoff(attempt: number, o?: Backoff): Promise<void> {
  return new Promise((r) => setTimeout(r, backoffMs(attempt, o)));
}

export interface RetryOptions extends Backoff {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Whether a failure may be retried; anything else is thrown at once. */
  retryable(error: unknown): boolean;
  onRetry?(error: unknown, attempt: number): void;
}

/** Runs `fn` until it succeeds, fails in a way that may not be retried, or runs out of attempts. */
export async function retrying<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (!o.retryable(error) || attempt >= o.attempts) throw error;
      o.onRetry?.(error, attempt);
      await backoff(attempt, o);
    }
  }
}
