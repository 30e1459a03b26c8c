import { describe, expect, it } from 'vitest';
import { readRateLimitHeaders, RequestPacer } from '../../src/sentry/api/rate-limit.js';
import { RateLimiter } from '../../src/sentry/emulator/rate-limiter.js';

/**
 * The pacer against the emulator's own fixed-window limiter, on one fake clock: each request's turn is
 * taken (`waitForTurn`) at one time and admitted by "Sentry" at another, as on a busy machine.
 */
function setup(limit: number) {
  const clock = { ms: 1_000_000 };
  const sentry = new RateLimiter({ perSecond: limit, concurrent: 100 }, () => clock.ms);
  // Sleeping never ends here: a turn that has to wait stays pending, so what was granted at an instant is countable.
  const pacer = new RequestPacer({
    now: () => clock.ms,
    sleep: () => new Promise(() => undefined),
    maxPauseMs: 60_000,
  });
  const rejected: string[] = [];
  /** Sentry admits a request whose turn was taken, answers, and the pacer reads the answer. */
  const arrive = () => {
    const verdict = sentry.admit('token:t');
    if (!verdict.allowed) rejected.push(verdict.reason);
    else verdict.release();
    return new Headers(verdict.headers);
  };
  const answer = (headers: Headers) => {
    pacer.observe(readRateLimitHeaders(headers));
    pacer.done();
  };
  /** How many of `n` requests get their turn right now, without waiting. */
  const turns = async (n: number) => {
    let granted = 0;
    for (let i = 0; i < n; i++) void pacer.waitForTurn().then(() => granted++);
    await new Promise((resolve) => setImmediate(resolve));
    return granted;
  };
  /** One request describes the window: limit `limit`, one spent. */
  const describeWindow = async () => {
    expect(await turns(1)).toBe(1);
    answer(arrive());
  };
  return { clock, arrive, answer, turns, describeWindow, rejected };
}

describe('RequestPacer', () => {
  it('counts requests still in flight from the last window against the next one', async () => {
    const { clock, arrive, answer, turns, describeWindow, rejected } = setup(10);
    await describeWindow();
    // Late in the window, the 9 left are granted; the event loop stalls and they reach Sentry after the window turns.
    clock.ms += 990;
    expect(await turns(9)).toBe(9);
    clock.ms += 15;
    const late = Array.from({ length: 9 }, arrive);
    // The new window, before any of their answers is read: only what the late ones left of it may go.
    expect(await turns(10)).toBe(1);
    const sent = arrive();
    for (const headers of late) answer(headers);
    answer(sent);
    expect(rejected).toEqual([]);
  });

  it('sends a whole window once nothing is in flight', async () => {
    const { clock, turns, describeWindow, rejected } = setup(10);
    await describeWindow();
    clock.ms += 1_000;
    expect(await turns(12)).toBe(10);
    expect(rejected).toEqual([]);
  });
});
