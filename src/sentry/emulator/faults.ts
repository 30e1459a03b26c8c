import type { Prng } from './prng.js';

export interface FaultConfig {
  /** Probability that a request gets a 5xx. */
  serverErrorRate: number;
  /** Probability that the connection is destroyed without a response. */
  dropRate: number;
  /** Probability that a request gets a 429, as if another client of the token had used up its limit. */
  rateLimitRate: number;
  /** Retry-After of those 429s, seconds (fractions allowed, so tests need not wait whole seconds). */
  rateLimitRetryAfterSeconds: number;
  /** Extra latency per request, uniform in [0, latencyJitterMs). */
  latencyJitterMs: number;
}

export type Fault =
  | { kind: 'drop' }
  | { kind: 'server-error'; status: 500 | 502 | 503 }
  | { kind: 'rate-limited'; retryAfterSeconds: number }
  | null;

/**
 * Rolls one fault decision per request from a seeded stream, so a given seed and request order
 * reproduce the same failures. 502/503 come back as HTML, like a load balancer would send.
 * Latency is drawn from its own stream, forked only when latency jitter is on, so seeds without it
 * keep their fault sequence.
 */
export class FaultInjector {
  private readonly latencyRng: Prng | null;

  constructor(
    private readonly rng: Prng,
    private readonly config: FaultConfig,
  ) {
    this.latencyRng = config.latencyJitterMs > 0 ? rng.fork('latency') : null;
  }

  roll(): Fault {
    const { dropRate, serverErrorRate, rateLimitRate } = this.config;
    if (dropRate <= 0 && serverErrorRate <= 0 && rateLimitRate <= 0) return null;
    const r = this.rng.next();
    if (r < dropRate) return { kind: 'drop' };
    if (r < dropRate + serverErrorRate)
      return { kind: 'server-error', status: this.rng.pick([500, 500, 502, 503] as const) };
    if (r < dropRate + serverErrorRate + rateLimitRate)
      return { kind: 'rate-limited', retryAfterSeconds: this.config.rateLimitRetryAfterSeconds };
    return null;
  }

  extraLatencyMs(): number {
    return this.latencyRng ? Math.floor(this.latencyRng.next() * this.config.latencyJitterMs) : 0;
  }
}
