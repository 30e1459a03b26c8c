/** Sentry's rate-limit response headers (https://docs.sentry.io/api/ratelimits/). */
export interface RateLimitSnapshot {
  limit: number | null;
  remaining: number | null;
  /** When the current window ends, epoch milliseconds (the header is epoch seconds). */
  resetAtMs: number | null;
  concurrentLimit: number | null;
  concurrentRemaining: number | null;
}

export function readRateLimitHeaders(headers: Headers): RateLimitSnapshot {
  const reset = numberHeader(headers, 'x-sentry-rate-limit-reset');
  return {
    limit: numberHeader(headers, 'x-sentry-rate-limit-limit'),
    remaining: numberHeader(headers, 'x-sentry-rate-limit-remaining'),
    resetAtMs: reset === null ? null : reset * 1000,
    concurrentLimit: numberHeader(headers, 'x-sentry-rate-limit-concurrentlimit'),
    concurrentRemaining: numberHeader(headers, 'x-sentry-rate-limit-concurrentremaining'),
  };
}

/** `Retry-After` as delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfterMs(value: string | null, nowMs: number): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

function numberHeader(headers: Headers, name: string): number | null {
  const raw = headers.get(name);
  if (raw === null || raw.trim() === '') return null;
  const value = Number(raw);
  return Number.isFinite(value) ? value : null;
}

export interface RequestPacerOptions {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Upper bound on one pause, so a skewed server clock cannot stall us for long. */
  maxPauseMs: number;
}

/**
 * Holds requests back when Sentry says the window is used up, so that 429s stay
 * rare. Sentry counts per caller and endpoint; we cannot map paths to Sentry's
 * endpoint classes reliably, so one exhausted window pauses every request — at
 * worst that costs the rest of one window.
 */
export class RequestPacer {
  private resumeAtMs = 0;

  constructor(private readonly options: RequestPacerOptions) {}

  observe(snapshot: RateLimitSnapshot): void {
    if (snapshot.remaining === 0 && snapshot.resetAtMs !== null) this.pauseUntil(snapshot.resetAtMs);
  }

  /** Used for `Retry-After`: the server told everyone, not just one request, to wait. */
  pauseFor(ms: number): void {
    this.pauseUntil(this.options.now() + ms);
  }

  async waitForTurn(): Promise<void> {
    const waitMs = this.resumeAtMs - this.options.now();
    if (waitMs > 0) await this.options.sleep(waitMs);
  }

  private pauseUntil(atMs: number): void {
    const capped = Math.min(atMs, this.options.now() + this.options.maxPauseMs);
    this.resumeAtMs = Math.max(this.resumeAtMs, capped);
  }
}
