import { Option } from 'commander';
import { ConfigError } from '../config.js';

export const dbOption = () => new Option('--db <path>', 'SQLite database file (default ./.sentry-memory/memory.db, env SENTRY_MEMORY_DB)');
export const jsonOption = () => new Option('--json', 'print JSON instead of text');

/** `7d`, `12h`, `30m`, `2w` before now, or an ISO date/time. */
export function parseSince(value: string, now = Date.now()): string {
  const match = /^(\d+)\s*([smhdw])$/i.exec(value.trim());
  if (match) {
    const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[match[2].toLowerCase() as 's' | 'm' | 'h' | 'd' | 'w'];
    return new Date(now - Number(match[1]) * unit * 1000).toISOString();
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new ConfigError(`--since must be a duration like 7d, 12h, 30m or an ISO date, got "${value}"`);
  return date.toISOString();
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
