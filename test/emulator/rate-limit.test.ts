import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/sentry/emulator/index.js';
import { api } from './helpers.js';

const RATE_HEADERS = [
  'x-sentry-rate-limit-limit',
  'x-sentry-rate-limit-remaining',
  'x-sentry-rate-limit-reset',
  'x-sentry-rate-limit-concurrentlimit',
  'x-sentry-rate-limit-concurrentremaining',
];

describe('rate limits', () => {
  let emu: Emulator;
  afterEach(() => emu.close());

  it('answers 429 with Retry-After once the per-second window is used up, per caller', async () => {
    // A frozen clock keeps every request in the same one-second window.
    const now = Date.parse('2025-06-01T12:00:00.250Z');
    emu = await startEmulator({ issues: 20, rateLimit: { perSecond: 10, concurrent: 100 }, now: () => now });
    const responses = await Promise.all(
      Array.from({ length: 15 }, () => api(emu, '/api/0/organizations/acme/projects/')),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    const limited = responses.find((r) => r.status === 429)!;
    expect(await limited.json()).toEqual({ detail: expect.stringContaining('too frequently') });
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.headers.get('x-sentry-rate-limit-remaining')).toBe('0');
    expect(limited.headers.get('x-sentry-rate-limit-reset')).toBe(String(Math.floor(now / 1000) + 1));
    expect(emu.stats.rateLimited).toBe(5);
    // Another caller (an unknown token) has its own budget: it gets a 401, not a 429.
    expect((await api(emu, '/api/0/organizations/acme/projects/', 'someone-else')).status).toBe(401);
  });

  it('resets the window when the clock moves to the next second', async () => {
    let now = Date.parse('2025-06-01T12:00:00.000Z');
    emu = await startEmulator({ issues: 20, rateLimit: { perSecond: 2 }, now: () => now });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await api(emu, '/api/0/organizations/acme/teams/')).status);
    expect(statuses).toEqual([200, 200, 429]);
    now += 1000;
    expect((await api(emu, '/api/0/organizations/acme/teams/')).status).toBe(200);
  });

  it('limits requests in flight per caller', async () => {
    emu = await startEmulator({ issues: 20, latencyMs: 150, rateLimit: { perSecond: 1000, concurrent: 3 } });
    const responses = await Promise.all(
      Array.from({ length: 6 }, () => api(emu, '/api/0/organizations/acme/projects/')),
    );
    const limited = responses.filter((r) => r.status === 429);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(3);
    expect(limited).toHaveLength(3);
    expect(await limited[0].json()).toEqual({ detail: expect.stringContaining('concurrency') });
    expect(limited[0].headers.get('x-sentry-rate-limit-concurrentremaining')).toBe('0');
    // Slots free up once responses finish.
    expect((await api(emu, '/api/0/organizations/acme/projects/')).status).toBe(200);
  });

  it('puts the rate-limit headers on every response, errors included', async () => {
    emu = await startEmulator({ issues: 20 });
    const responses = [
      await api(emu, '/api/0/organizations/acme/'),
      await api(emu, '/api/0/organizations/acme/issues/404404/'),
      await api(emu, '/api/0/organizations/acme/', 'bad-token'),
      await fetch(`${emu.url}/api/0/organizations/acme/`),
      await api(emu, '/api/0/organizations/acme/releases/?per_page=500'),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 404, 401, 401, 400]);
    for (const res of responses) for (const h of RATE_HEADERS) expect(res.headers.get(h), h).toMatch(/^\d+$/);
    expect(responses[0].headers.get('x-sentry-rate-limit-limit')).toBe('40');
    expect(responses[0].headers.get('x-sentry-rate-limit-concurrentlimit')).toBe('25');
  });
});
