/** Lenient readers for Sentry's loosely typed JSON (ids as numbers or strings, counts as strings, several time formats). */

export type Json = Record<string, unknown>;

export function obj(value: unknown): Json | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null;
}

export function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function str(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/** A non-empty string, or null. */
export function text(value: unknown): string | null {
  const s = str(value);
  return s && s.trim() ? s : null;
}

export function num(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** A count (events, users, commits): a whole number that fits in a bigint column, or unknown. */
export function count(value: unknown): number | null {
  const n = num(value);
  return n !== null && Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/**
 * ISO-8601 UTC from an ISO string (with or without fraction or zone — a missing zone is UTC, as
 * Sentry means it) or epoch seconds (Sentry's float `timestamp`/`received`).
 */
export function isoTime(value: unknown): string | null {
  let date: Date;
  if (typeof value === 'number') date = new Date(value * 1000);
  else if (typeof value === 'string' && value !== '')
    date = new Date(/(Z|[+-]\d{2}:?\d{2})$/i.test(value) || !value.includes('T') ? value : `${value}Z`);
  else return null;
  // Out of range (1e21 seconds, year 300000) is an invalid Date here, not a RangeError later.
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** Tags come as `[key, value]` pairs (webhooks) or `{key, value}` objects (API). */
export function tagMap(value: unknown): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const tag of arr(value)) {
    if (Array.isArray(tag)) {
      const [key, val] = tag;
      if (str(key) !== null && str(val) !== null) tags[str(key)!] = str(val)!;
      continue;
    }
    const o = obj(tag);
    if (o && str(o.key) !== null && str(o.value) !== null) tags[str(o.key)!] = str(o.value)!;
  }
  return tags;
}

/** The minute of an ISO time: transitions seen by a webhook and by the API within it are one fact. */
export function minuteOf(iso: string): string {
  return iso.slice(0, 16);
}

export function truncate(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}
