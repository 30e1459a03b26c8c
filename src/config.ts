import { join } from 'node:path';

/** Every setting of the service, from flags over environment over defaults. */
export interface Config {
  /** Where the memory lives: a SQLite file, or a postgres:// URL. */
  db: string;
  host: string;
  port: number;
  workspaceId: string;
  clientSecrets: string[];
  replayToleranceSeconds: number;
  bodyLimitBytes: number;
  logLevel: string;
  /** `web` verifies, stores and acknowledges; `worker` processes and runs scheduled syncs; `all` does both. */
  role: ServeRole;
  /** How long a write waits for another connection's lock before giving up (then the webhook route answers 503). */
  busyTimeoutMs: number;
  /** First retry delay of a delivery whose processing failed; doubles per attempt. */
  retryBaseMs: number;
  /** A workspace per installation of a public integration, created on installation.created. */
  workspacePerInstallation: boolean;
}

export interface ConfigFlags {
  db?: string;
  host?: string;
  port?: string | number;
  workspace?: string;
  replayTolerance?: string | number;
  bodyLimit?: string | number;
  role?: string;
  busyTimeout?: string | number;
  retryBase?: string | number;
  workspacePerInstallation?: boolean;
}

export const DEFAULT_WORKSPACE = 'default';

export const SERVE_ROLES = ['all', 'web', 'worker'] as const;
export type ServeRole = (typeof SERVE_ROLES)[number];

function role(value: string | undefined): ServeRole {
  if (value === undefined || value === '') return 'all';
  if (!(SERVE_ROLES as readonly string[]).includes(value))
    throw new ConfigError(`role must be one of ${SERVE_ROLES.join(', ')}, got "${value}"`);
  return value as ServeRole;
}

export class ConfigError extends Error {}

function integer(name: string, value: string | number | undefined, fallback: number, min = 0): number {
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`${name} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}

/** An on/off environment setting: 1/true/yes or 0/false/no (unset is off). */
function flag(name: string, value: string | undefined): boolean {
  if (value === undefined || value === '') return false;
  if (/^(1|true|yes)$/i.test(value)) return true;
  if (/^(0|false|no)$/i.test(value)) return false;
  throw new ConfigError(`${name} must be 1 or 0 (true/false), got "${value}"`);
}

/** Accepts `5mb`, `512kb` or a plain byte count. */
export function parseBytes(name: string, value: string | number | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const match = /^(\d+)\s*(b|kb|mb)?$/i.exec(String(value).trim());
  if (!match) throw new ConfigError(`${name} must be bytes like 5mb, 512kb or 1048576, got "${value}"`);
  const unit = { b: 1, kb: 1024, mb: 1024 * 1024 }[(match[2] ?? 'b').toLowerCase() as 'b' | 'kb' | 'mb'];
  return Number(match[1]) * unit;
}

export function defaultDbPath(cwd = process.cwd()): string {
  return join(cwd, '.sentry-memory', 'memory.db');
}

export function loadConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): Config {
  return {
    db: flags.db ?? env.SENTRY_MEMORY_DB ?? env.DATABASE_URL ?? defaultDbPath(),
    host: flags.host ?? env.HOST ?? '127.0.0.1',
    port: integer('port', flags.port ?? env.PORT, 8787),
    workspaceId: flags.workspace ?? env.SENTRY_MEMORY_WORKSPACE ?? DEFAULT_WORKSPACE,
    clientSecrets: (env.SENTRY_CLIENT_SECRET ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    replayToleranceSeconds: integer(
      'replay tolerance',
      flags.replayTolerance ?? env.SENTRY_MEMORY_REPLAY_TOLERANCE,
      300,
      1,
    ),
    bodyLimitBytes: parseBytes('body limit', flags.bodyLimit ?? env.SENTRY_MEMORY_BODY_LIMIT, 5 * 1024 * 1024),
    logLevel: env.LOG_LEVEL ?? 'info',
    role: role(flags.role ?? env.SENTRY_MEMORY_ROLE),
    busyTimeoutMs: integer('busy timeout', flags.busyTimeout ?? env.SENTRY_MEMORY_BUSY_TIMEOUT, 5000),
    retryBaseMs: integer('retry base', flags.retryBase ?? env.SENTRY_MEMORY_RETRY_BASE, 1000),
    workspacePerInstallation:
      flags.workspacePerInstallation ??
      flag('SENTRY_MEMORY_WORKSPACE_PER_INSTALLATION', env.SENTRY_MEMORY_WORKSPACE_PER_INSTALLATION),
  };
}
