/**
 * Sentry's two API limits, per caller: a fixed-window request count (windows aligned to whole
 * seconds) and a cap on requests in flight at once. Every response reports both through the
 * X-Sentry-Rate-Limit-* headers.
 */

export interface RateLimitConfig {
  perSecond: number;
  concurrent: number;
}

export type RateLimitVerdict =
  | { allowed: true; headers: Record<string, string>; release: () => void }
  | {
      allowed: false;
      reason: 'rate' | 'concurrent';
      retryAfterSeconds: number;
      headers: Record<string, string>;
      detail: string;
    };

interface CallerState {
  window: number;
  count: number;
  inFlight: number;
}

const WINDOW_MS = 1000;

export class RateLimiter {
  private readonly callers = new Map<string, CallerState>();

  constructor(
    private readonly config: RateLimitConfig,
    private readonly now: () => number,
  ) {}

  /** Counts the request against `caller`; when allowed, call `release()` once the response ends. */
  admit(caller: string): RateLimitVerdict {
    const now = this.now();
    const window = Math.floor(now / WINDOW_MS);
    const state = this.callers.get(caller) ?? { window, count: 0, inFlight: 0 };
    this.callers.set(caller, state);
    if (state.window !== window) {
      state.window = window;
      state.count = 0;
    }
    state.count += 1;
    const resetSeconds = ((window + 1) * WINDOW_MS) / 1000;
    const headers = (inFlight: number) => ({
      'X-Sentry-Rate-Limit-Limit': String(this.config.perSecond),
      'X-Sentry-Rate-Limit-Remaining': String(Math.max(0, this.config.perSecond - state.count)),
      'X-Sentry-Rate-Limit-Reset': String(resetSeconds),
      'X-Sentry-Rate-Limit-ConcurrentLimit': String(this.config.concurrent),
      'X-Sentry-Rate-Limit-ConcurrentRemaining': String(Math.max(0, this.config.concurrent - inFlight)),
    });
    const retryAfterSeconds = Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - now) / 1000));

    if (state.count > this.config.perSecond) {
      return {
        allowed: false,
        reason: 'rate',
        retryAfterSeconds,
        headers: headers(state.inFlight),
        detail: `You are attempting to use this endpoint too frequently. Limit is ${this.config.perSecond} requests in 1 seconds`,
      };
    }
    if (state.inFlight >= this.config.concurrent) {
      return {
        allowed: false,
        reason: 'concurrent',
        retryAfterSeconds: 1,
        headers: headers(state.inFlight),
        detail: `You are attempting to go above the allowed concurrency for this endpoint. Concurrency limit is ${this.config.concurrent}`,
      };
    }
    state.inFlight += 1;
    let released = false;
    return {
      allowed: true,
      headers: headers(state.inFlight),
      release: () => {
        if (released) return;
        released = true;
        state.inFlight -= 1;
      },
    };
  }
}
