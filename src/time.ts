/**
 * The product's one way to read the time, in epoch milliseconds. Everything that answers "how long
 * ago" or "is it due" takes a Clock from whoever composed it (the CLI, the server, a library user), so
 * tests and replays can pin it; only the composition roots pass `systemClock`.
 */
export type Clock = () => number;
export const systemClock: Clock = () => Date.now();
const DURATION = /^(\d+)\s*([smhdw])$/i;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 } as const;

/** `30s`, `5m`, `12h`, `7d`, `2w` in milliseconds; null when it is not a duration. */
export function durationMs(value: string): number | null {
  const match = DURATION.exec(value.trim());
  return match ? Number(match[1]) * UNIT_SECONDS[match[2].toLowerCase() as keyof typeof UNIT_SECONDS] * 1000 : null;
}

/** `7d`, `12h`, `30m`, `2w` before `now`, or an ISO date/time; null when it is neither. */
export function parseTime(value: string, now: number): string | null {
  const ms = durationMs(value);
  const date = ms !== null ? new Date(now - ms) : new Date(value);
  // Out of range (`99999999999999w`, year 300000) is an invalid Date: null, so the caller says how to write a time.
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
