import type { Prng } from './prng.js';

export interface FaultConfig {
  /** Probability that a request gets a 5xx. */
  serverErrorRate: number;
  /** Probability that the connection is destroyed without a response. */
  dropRate: number;
}

export type Fault = { kind: 'drop' } | { kind: 'server-error'; status: 500 | 502 | 503 } | null;

/**
 * Rolls one fault decision per request from a seeded stream, so a given seed and request order
 * reproduce the same failures. 502/503 come back as HTML, like a load balancer would send.
 */
export class FaultInjector {
  constructor(
    private readonly rng: Prng,
    private readonly config: FaultConfig,
  ) {}

  roll(): Fault {
    if (this.config.dropRate <= 0 && this.config.serverErrorRate <= 0) return null;
    const r = this.rng.next();
    if (r < this.config.dropRate) return { kind: 'drop' };
    if (r < this.config.dropRate + this.config.serverErrorRate) return { kind: 'server-error', status: this.rng.pick([500, 500, 502, 503] as const) };
    return null;
  }
}
