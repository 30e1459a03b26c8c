import type { FastifyInstance } from 'fastify';
import type { MemoryDatabase } from '../memory/database.js';
import type { Clock } from '../time.js';
import { apiKeyAuth } from './api-key-auth.js';
import { hostGuard } from './host-check.js';
import { mcpRoute } from './mcp-route.js';
import { queryApiRoutes } from './query-api.js';

export interface AgentHttpOptions {
  db: MemoryDatabase;
  /** Hostnames (any port) this server may be reached by: DNS-rebinding protection. */
  allowedHostnames: readonly string[];
  /** What "now" is for every answer (recency, trends, freshness, relative times such as `7d`). */
  now: Clock;
}

/** Everything agents reach over HTTP — `/api/v1/*` and `/mcp` — behind the host check and API-key auth, in one encapsulated context. */
export async function agentHttp(app: FastifyInstance, options: AgentHttpOptions): Promise<void> {
  app.addHook('onRequest', hostGuard(options.allowedHostnames));
  app.addHook('onRequest', apiKeyAuth(options.db));
  const context = (workspaceId: string) => ({ db: options.db, workspaceId, now: options.now });
  await app.register(queryApiRoutes, { context });
  await app.register(mcpRoute, { context });
}
