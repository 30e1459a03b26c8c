const UNITS = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 } as const;

/** `7d`, `12h`, `30m`, `2w` before `now`, or an ISO date/time; null when it is neither. */
export function parseTime(value: string, now = Date.now()): string | null {
  const match = /^(\d+)\s*([smhdw])$/i.exec(value.trim());
  if (match) return new Date(now - Number(match[1]) * UNITS[match[2].toLowerCase() as keyof typeof UNITS] * 1000).toISOString();
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
