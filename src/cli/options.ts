import { Option } from 'commander';
import { ConfigError } from '../config.js';

export const dbOption = () => new Option('--db <path>', 'SQLite database file (default ./.sentry-memory/memory.db, env SENTRY_MEMORY_DB)');
export const jsonOption = () => new Option('--json', 'print JSON instead of text');

const DURATION = /^(\d+)\s*([smhdw])$/i;
const unitSeconds = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** `30s`, `5m`, `12h`, `7d`, `2w` in milliseconds. */
export function parseDuration(value: string): number {
  const match = DURATION.exec(value.trim());
  if (!match) throw new ConfigError(`expected a duration like 30s, 5m, 12h or 7d, got "${value}"`);
  return Number(match[1]) * unitSeconds[match[2].toLowerCase() as keyof typeof unitSeconds] * 1000;
}

/** `7d`, `12h`, `30m`, `2w` before now, or an ISO date/time. */
export function parseSince(value: string, now = Date.now()): string {
  if (DURATION.test(value.trim())) return new Date(now - parseDuration(value)).toISOString();
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new ConfigError(`--since must be a duration like 7d, 12h, 30m or an ISO date, got "${value}"`);
  return date.toISOString();
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
