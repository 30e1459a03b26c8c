import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Runtime } from '../runtime.js';
import { systemClock, type Clock } from '../time.js';
import { agentHttp } from './agent-http.js';
import { DEFAULT_WEB_ROOT, dashboardPages } from './dashboard.js';
import { hostGuard, LOCAL_HOSTNAMES } from './host-check.js';
import { sentryWebhookRoute } from './webhook-route.js';

export interface AppOptions {
  runtime: Runtime;
  workspaceId: string;
  clientSecrets: string[];
  replayToleranceSeconds: number;
  bodyLimitBytes: number;
  /** Hostnames beyond localhost that `/mcp` and `/api/v1` answer to (DNS-rebinding protection). */
  allowedHosts?: string[];
  /** The service's clock: the replay window and every agent answer read the time from it (default: the system's). */
  now?: Clock;
  /** The built web dashboard (default: the package's `dist/web`). */
  webRoot?: string;
  logger?: Logger;
}

/** The HTTP service: webhook intake, the agent query API and MCP, the web dashboard, and health. Each concern is its own plugin. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger | undefined,
    bodyLimit: options.bodyLimitBytes,
    // Request logs would carry signature headers; the route logs what matters itself.
    logController: new LogController({ disableRequestLogging: true }),
  });
  const { runtime } = options;
  const now = options.now ?? systemClock;
  await app.register(sentryWebhookRoute, {
    secrets: options.clientSecrets,
    toleranceSeconds: options.replayToleranceSeconds,
    now,
    workspaceId: options.workspaceId,
    enqueue: (delivery) => runtime.enqueue(delivery),
    bodyLimit: options.bodyLimitBytes,
  });
  const allowedHostnames = [...LOCAL_HOSTNAMES, ...(options.allowedHosts ?? [])];
  await app.register(agentHttp, { db: runtime.store.db, allowedHostnames, now });
  await app.register(async (pages) => {
    pages.addHook('onRequest', hostGuard(allowedHostnames));
    await pages.register(dashboardPages, { root: options.webRoot ?? DEFAULT_WEB_ROOT });
  });
  app.get('/healthz', async () => {
    const inbox = await runtime.inbox.countsByState(options.workspaceId);
    return { ok: true, inbox };
  });
  return app;
}
