import type { RateLimitSnapshot } from './rate-limit.js';

/** Sentry's concurrent limit is per caller; we never go above this even if it allows more. */
export const MAX_CONCURRENCY = 25;

/**
 * Limits requests in flight to min(configured cap, Sentry's ConcurrentLimit,
 * what ConcurrentRemaining says is left). The last term matters when other
 * processes share the same token: they use up the caller's concurrent budget.
 */
export class ConcurrencyGate {
  private active = 0;
  private readonly waiters: Array<() => void> = [];
  private serverLimit: number | null = null;
  private serverBudget: number | null = null;
  private readonly cap: number;

  constructor(cap: number = MAX_CONCURRENCY) {
    this.cap = Math.max(1, Math.min(MAX_CONCURRENCY, Math.floor(cap)));
  }

  get limit(): number {
    return Math.max(1, Math.min(this.cap, this.serverLimit ?? this.cap, this.serverBudget ?? this.cap));
  }

  /** Call while the request that produced `snapshot` still holds its slot. */
  observe(snapshot: RateLimitSnapshot): void {
    if (snapshot.concurrentLimit !== null && snapshot.concurrentLimit > 0) {
      this.serverLimit = snapshot.concurrentLimit;
    }
    if (snapshot.concurrentRemaining !== null) {
      // The server's count includes the requests we have in flight right now.
      this.serverBudget = this.active + snapshot.concurrentRemaining;
    }
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    while (this.active >= this.limit) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.wakeWaiters();
    }
  }

  private wakeWaiters(): void {
    let free = this.limit - this.active;
    while (free-- > 0 && this.waiters.length > 0) this.waiters.shift()?.();
  }
}
