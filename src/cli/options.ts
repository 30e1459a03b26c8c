import { Option } from 'commander';
import { ConfigError, loadConfig, type Config, type ConfigFlags } from '../config.js';
import { MemoryStore } from '../memory/store.js';
import { durationMs, parseTime } from '../time.js';

export const dbOption = () =>
  new Option(
    '--db <location>',
    'SQLite database file, or a postgres:// URL (env SENTRY_MEMORY_DB or DATABASE_URL; default ./.sentry-memory/memory.db)',
  );
export const jsonOption = () => new Option('--json', 'print JSON instead of text');

/** `30s`, `5m`, `12h`, `7d`, `2w` in milliseconds. */
export function parseDuration(value: string): number {
  const ms = durationMs(value);
  if (ms === null) throw new ConfigError(`expected a duration like 30s, 5m, 12h or 7d, got "${value}"`);
  return ms;
}

/** `7d`, `12h`, `30m`, `2w` before now, or an ISO date/time. */
export function parseSince(value: string, now: number): string {
  const iso = parseTime(value, now);
  if (!iso) throw new ConfigError(`--since must be a duration like 7d, 12h, 30m or an ISO date, got "${value}"`);
  return iso;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Opens the configured store for one command and closes it afterwards, also when `fn` fails. */
export async function withStore<T>(
  flags: ConfigFlags,
  fn: (store: MemoryStore, workspaceId: string, config: Config) => Promise<T>,
): Promise<T> {
  const config = loadConfig(flags);
  const store = await MemoryStore.open(config.db);
  try {
    return await fn(store, config.workspaceId, config);
  } finally {
    await store.close();
  }
}
