import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { buildApp } from '../../src/server/app.js';
import { signBody } from '../../src/sentry/webhooks/signature.js';

export const SECRET = 'test-client-secret';

export function tempDbPath(): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sentry-memory-test-'));
  return { path: join(dir, 'memory.db'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface TestService {
  runtime: Runtime;
  app: FastifyInstance;
  dbPath: string;
  close(): Promise<void>;
}

/** The real service (store, inbox, worker, Fastify app) on a temporary database; the worker is driven by the test. */
export async function startTestService(
  options: { secrets?: string[]; bodyLimitBytes?: number; workspacePerInstallation?: boolean; /** An existing database, kept on close. */ dbPath?: string } = {},
): Promise<TestService> {
  const db = options.dbPath ? { path: options.dbPath, cleanup: () => undefined } : tempDbPath();
  const runtime = openRuntime({ dbPath: db.path, worker: { retryBaseMs: 1 }, workspacePerInstallation: options.workspacePerInstallation });
  const app = await buildApp({
    runtime,
    workspaceId: DEFAULT_WORKSPACE,
    clientSecrets: options.secrets ?? [SECRET],
    replayToleranceSeconds: 300,
    bodyLimitBytes: options.bodyLimitBytes ?? 5 * 1024 * 1024,
  });
  return {
    runtime,
    app,
    dbPath: db.path,
    async close() {
      await app.close();
      await runtime.close();
      db.cleanup();
    },
  };
}

export interface SignOptions {
  secret?: string;
  requestId?: string | null;
  timestamp?: number;
}

/** Headers exactly as Sentry sends them for `body`. */
export function sentryHeaders(resource: string, body: string | Buffer, options: SignOptions = {}): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'sentry-hook-resource': resource,
    'sentry-hook-timestamp': String(options.timestamp ?? Math.floor(Date.now() / 1000)),
    'sentry-hook-signature': signBody(options.secret ?? SECRET, body),
  };
  if (options.requestId !== null) headers['request-id'] = options.requestId ?? crypto.randomUUID();
  return headers;
}

export function deliver(app: FastifyInstance, resource: string, body: string | Buffer, options: SignOptions & { headers?: Record<string, string> } = {}) {
  return app.inject({ method: 'POST', url: '/webhooks/sentry', payload: body, headers: { ...sentryHeaders(resource, body, options), ...options.headers } });
}
