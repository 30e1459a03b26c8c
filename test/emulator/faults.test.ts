import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/sentry/emulator/index.js';
import { api } from './helpers.js';

async function outcome(emu: Emulator): Promise<string> {
  try {
    const res = await api(emu, '/api/0/organizations/acme/projects/');
    await res.arrayBuffer();
    return String(res.status);
  } catch {
    return 'dropped';
  }
}

describe('latency and fault injection', () => {
  const running: Emulator[] = [];
  afterEach(async () => {
    await Promise.all(running.map((e) => e.close()));
    running.length = 0;
  });
  const start = async (opts: Parameters<typeof startEmulator>[0]) => {
    const emu = await startEmulator({ issues: 10, ...opts });
    running.push(emu);
    return emu;
  };

  it('returns 5xx when serverErrorRate is 1, some as non-JSON pages', async () => {
    const emu = await start({ faults: { serverErrorRate: 1 } });
    const statuses = [];
    for (let i = 0; i < 12; i++) statuses.push(await outcome(emu));
    expect(statuses.every((s) => ['500', '502', '503'].includes(s))).toBe(true);
    expect(emu.stats.serverErrors).toBe(12);
  });

  it('destroys the connection when dropRate is 1', async () => {
    const emu = await start({ faults: { dropRate: 1 } });
    expect(await outcome(emu)).toBe('dropped');
    expect(emu.stats.dropped).toBe(1);
  });

  it('answers 429 with the configured Retry-After when rateLimitRate is 1', async () => {
    const emu = await start({ faults: { rateLimitRate: 1, rateLimitRetryAfterSeconds: 0.05 } });
    const res = await api(emu, '/api/0/organizations/acme/projects/');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('0.05');
    expect(await res.json()).toEqual({ detail: expect.stringContaining('too frequently') });
    expect(emu.stats.rateLimited).toBe(1);
  });

  it('injects the same faults in the same order for the same seed', async () => {
    const faults = { serverErrorRate: 0.3, dropRate: 0.2, rateLimitRate: 0.2 };
    const sequence = async (seed: number) => {
      const emu = await start({ seed, faults });
      const out = [];
      for (let i = 0; i < 20; i++) out.push(await outcome(emu));
      return out;
    };
    const first = await sequence(11);
    expect(await sequence(11)).toEqual(first);
    expect(first).toContain('dropped');
    expect(first).toContain('200');
    expect(first.some((s) => s.startsWith('5'))).toBe(true);
    expect(first).toContain('429');
  });

  it('adds the configured latency', async () => {
    const emu = await start({ latencyMs: 120 });
    const t0 = performance.now();
    await outcome(emu);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(110);
  });

  it('adds random latency up to latencyJitterMs, on top of latencyMs', async () => {
    const emu = await start({ latencyMs: 20, faults: { latencyJitterMs: 200 } });
    const durations = [];
    for (let i = 0; i < 8; i++) {
      const t0 = performance.now();
      await outcome(emu);
      durations.push(performance.now() - t0);
    }
    expect(Math.min(...durations)).toBeGreaterThanOrEqual(19);
    // Drawn per request: not every request waits the same.
    expect(Math.max(...durations) - Math.min(...durations)).toBeGreaterThan(20);
  });
});
