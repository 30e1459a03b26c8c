import type { FastifyInstance } from 'fastify';
import { DEFAULT_WORKSPACE } from '../../src/config.js';
import { openRuntime, type Runtime } from '../../src/runtime.js';
import { buildApp } from '../../src/server/app.js';
import { signBody } from '../../src/sentry/webhooks/signature.js';
import type { Engine } from '../../src/memory/database.js';
import type { Clock } from '../../src/time.js';
import { createTestDatabase } from './database.js';
import { webhookFixtures } from './fixtures.js';

export const SECRET = 'test-client-secret';

export interface TestService {
  runtime: Runtime;
  app: FastifyInstance;
  /** Where its memory is: a SQLite file or a postgres:// URL (see helpers/database.ts). */
  location: string;
  close(): Promise<void>;
}

/** The real service (store, inbox, worker, Fastify app) on a temporary database; the worker is driven by the test. */
export async function startTestService(
  options: {
    secrets?: string[];
    bodyLimitBytes?: number;
    workspacePerInstallation?: boolean;
    /** An existing database, kept on close. */
    location?: string;
    /** Default: the run's engine. */
    engine?: Engine;
    /** The service's clock (default: the system's, which webhook signatures made with Date.now() need). */
    now?: Clock;
    /** The built web dashboard to serve (default: the package's dist/web). */
    webRoot?: string;
  } = {},
): Promise<TestService> {
  const db = options.location
    ? { location: options.location, cleanup: async () => undefined }
    : await createTestDatabase(options.engine);
  const runtime = await openRuntime({
    db: db.location,
    worker: { retryBaseMs: 1 },
    workspacePerInstallation: options.workspacePerInstallation,
  });
  const app = await buildApp({
    runtime,
    workspaceId: DEFAULT_WORKSPACE,
    clientSecrets: options.secrets ?? [SECRET],
    replayToleranceSeconds: 300,
    bodyLimitBytes: options.bodyLimitBytes ?? 5 * 1024 * 1024,
    now: options.now,
    webRoot: options.webRoot,
  });
  return {
    runtime,
    app,
    location: db.location,
    async close() {
      await app.close();
      await runtime.close();
      await db.cleanup();
    },
  };
}

export interface SignOptions {
  secret?: string;
  requestId?: string | null;
  timestamp?: number;
}

/** Headers exactly as Sentry sends them for `body`. */
export function sentryHeaders(
  resource: string,
  body: string | Buffer,
  options: SignOptions = {},
): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'sentry-hook-resource': resource,
    'sentry-hook-timestamp': String(options.timestamp ?? Math.floor(Date.now() / 1000)),
    'sentry-hook-signature': signBody(options.secret ?? SECRET, body),
  };
  if (options.requestId !== null) headers['request-id'] = options.requestId ?? crypto.randomUUID();
  return headers;
}

export function deliver(
  app: FastifyInstance,
  resource: string,
  body: string | Buffer,
  options: SignOptions & { headers?: Record<string, string> } = {},
) {
  return app.inject({
    method: 'POST',
    url: '/webhooks/sentry',
    payload: body,
    headers: { ...sentryHeaders(resource, body, options), ...options.headers },
  });
}

/** Every Sentry webhook fixture through the inbox and the worker into the default workspace, as sent on 20 November. */
export async function applyWebhookFixtures(runtime: Runtime): Promise<void> {
  const sentAt = '2026-11-20T10:00:00.000Z';
  for (const fixture of webhookFixtures()) {
    await runtime.inbox.enqueue({
      workspaceId: DEFAULT_WORKSPACE,
      source: 'sentry',
      deliveryId: fixture.name,
      resource: fixture.resource,
      action: fixture.action,
      externalId: null,
      sentAt,
      body: fixture.raw,
    });
  }
  await runtime.worker.drain();
}
