import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Runtime } from '../runtime.js';
import { sentryWebhookRoute } from './webhook-route.js';

export interface AppOptions {
  runtime: Runtime;
  workspaceId: string;
  clientSecrets: string[];
  replayToleranceSeconds: number;
  bodyLimitBytes: number;
  logger?: Logger;
}

/** The HTTP service: webhook intake and health. Each concern is its own plugin. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger | undefined,
    bodyLimit: options.bodyLimitBytes,
    // Request logs would carry signature headers; the route logs what matters itself.
    logController: new LogController({ disableRequestLogging: true }),
  });
  const { runtime } = options;
  await app.register(sentryWebhookRoute, {
    secrets: options.clientSecrets,
    toleranceSeconds: options.replayToleranceSeconds,
    workspaceId: options.workspaceId,
    enqueue: (delivery) => runtime.inbox.enqueue(delivery),
    bodyLimit: options.bodyLimitBytes,
  });
  app.get('/healthz', async () => {
    const inbox = runtime.inbox.countsByState(options.workspaceId);
    return { ok: true, inbox };
  });
  return app;
}
