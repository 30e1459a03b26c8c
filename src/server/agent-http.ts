import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import type { MemoryDatabase } from '../memory/database.js';
import type { Clock } from '../time.js';
import { apiKeyAuth } from './api-key-auth.js';
import { dashboardApiRoutes } from './dashboard-api.js';
import { hostGuard } from './host-check.js';
import { mcpRoute } from './mcp-route.js';
import { queryApiRoutes } from './query-api.js';
import { sessionRoutes } from './session-routes.js';

export interface AgentHttpOptions {
  db: MemoryDatabase;
  /** Hostnames (any port) this server may be reached by: DNS-rebinding protection. */
  allowedHostnames: readonly string[];
  /** What "now" is for every answer (recency, trends, freshness, relative times such as `7d`). */
  now: Clock;
}

/**
 * Everything agents and the dashboard reach over HTTP — `/api/v1/*` and `/mcp` — behind the host
 * check. `/api/v1` takes an API key or the dashboard's session cookie; `/mcp` an API key only.
 */
export async function agentHttp(app: FastifyInstance, options: AgentHttpOptions): Promise<void> {
  app.addHook('onRequest', hostGuard(options.allowedHostnames));
  await app.register(fastifyCookie);
  const context = (workspaceId: string) => ({ db: options.db, workspaceId, now: options.now });
  await app.register(async (api) => {
    api.addHook('onRequest', apiKeyAuth(options.db, { sessions: options.now }));
    await api.register(sessionRoutes, { db: options.db, now: options.now });
    await api.register(queryApiRoutes, { context });
    await api.register(dashboardApiRoutes, { db: options.db, now: options.now });
  });
  await app.register(async (mcp) => {
    mcp.addHook('onRequest', apiKeyAuth(options.db));
    await mcp.register(mcpRoute, { context });
  });
}
