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

/** How often a request held for the next response looks again. */
const RESPONSE_POLL_MS = 10;

export interface RequestPacerOptions {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Upper bound on one pause, so a skewed server clock cannot stall us for long. */
  maxPauseMs: number;
  /** Told, when requests stop waiting, how long at least one of them was held back. */
  onWaited?: (ms: number) => void;
}

/**
 * Holds requests back when Sentry's window is used up, so that 429s stay rare. It keeps a local
 * budget — the last `Remaining` minus requests sent since — because with many requests in flight,
 * waiting for a response that says `Remaining: 0` is too late: the others already overshot.
 * Sentry counts per caller and endpoint; paths cannot be mapped to Sentry's endpoint classes
 * reliably, so one budget covers every request — at worst it is conservative.
 */
export class RequestPacer {
  private resumeAtMs = 0;
  private budget: number | null = null;
  private windowEndsAtMs = 0;
  /** The window's request limit, as last reported: the budget of a window no response has described yet. */
  private limit: number | null = null;
  /** Whether `budget` is that assumption rather than a count a response gave. */
  private assumed = false;
  private inFlight = 0;
  private waiting = 0;
  private waitingSinceMs = 0;

  constructor(private readonly options: RequestPacerOptions) {}

  /** Call with each response's headers, after `sent()` was called for it. */
  observe(snapshot: RateLimitSnapshot): void {
    if (snapshot.limit !== null && snapshot.limit > 0) this.limit = snapshot.limit;
    if (snapshot.remaining === null || snapshot.resetAtMs === null) return;
    // The response's own request is still counted in flight, and `remaining` already includes it.
    const budget = snapshot.remaining - (this.inFlight - 1);
    if (snapshot.resetAtMs > this.windowEndsAtMs) {
      this.windowEndsAtMs = snapshot.resetAtMs;
      this.budget = budget;
      this.assumed = false;
    } else if (snapshot.resetAtMs === this.windowEndsAtMs) {
      this.budget = Math.min(this.budget ?? budget, budget);
    }
    if (snapshot.remaining === 0) this.pauseUntil(snapshot.resetAtMs);
  }

  /** Used for `Retry-After`: the server told everyone, not just one request, to wait. */
  pauseFor(ms: number): void {
    this.pauseUntil(this.options.now() + ms);
  }

  /** Waits until a request may be sent, then counts it as sent until `done()`. */
  async waitForTurn(): Promise<void> {
    let waiting = false;
    try {
      for (;;) {
        const pauseMs = this.pauseBeforeNextMs();
        if (pauseMs === 0) break;
        if (!waiting) this.startWaiting();
        waiting = true;
        await this.options.sleep(pauseMs);
      }
    } finally {
      if (waiting) this.stopWaiting();
    }
    if (this.budget !== null) this.budget -= 1;
    this.inFlight += 1;
  }

  private pauseBeforeNextMs(): number {
    const now = this.options.now();
    if (this.resumeAtMs > now) return this.resumeAtMs - now;
    // The window a response described is over: what was left of it does not carry into the next.
    if (this.budget !== null && !this.assumed && this.windowEndsAtMs <= now) this.assumeNewWindow();
    if (this.budget === null || this.budget > 0) return 0;
    if (!this.assumed) return Math.min(this.windowEndsAtMs - now, this.options.maxPauseMs);
    // The assumed budget of a new window is spent: wait for a response to say where that window stands.
    if (this.inFlight > 0) return RESPONSE_POLL_MS;
    this.assumeNewWindow();
    return 0;
  }

  /**
   * A new window has begun. Until a response describes it, assume the limit last reported (sending
   * without a budget until the first response let a low limit, 10/s, be overshot by the whole
   * concurrency allowance, 25, at every window), less what is still in flight: a request given its turn
   * in the last window may reach Sentry in this one (a busy event loop, a slow network) and count there.
   */
  private assumeNewWindow(): void {
    this.budget = this.limit === null ? null : this.limit - this.inFlight;
    this.assumed = this.limit !== null;
  }

  /** Waiting is measured as wall-clock time with at least one request held back, so parallel waits count once. */
  private startWaiting(): void {
    if (this.waiting++ === 0) this.waitingSinceMs = this.options.now();
  }

  private stopWaiting(): void {
    if (--this.waiting === 0) this.options.onWaited?.(this.options.now() - this.waitingSinceMs);
  }

  done(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }

  private pauseUntil(atMs: number): void {
    const capped = Math.min(atMs, this.options.now() + this.options.maxPauseMs);
    this.resumeAtMs = Math.max(this.resumeAtMs, capped);
  }
}
