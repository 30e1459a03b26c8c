import type { FastifyReply, FastifyRequest } from 'fastify';
import { verifyApiKey } from '../memory/api-keys.js';
import type { MemoryDatabase } from '../memory/database.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The workspace the request's API key grants; set by `apiKeyAuth`, the only source of it. */
    agentWorkspaceId?: string;
  }
}

/** `Authorization: Bearer smk_…` → the key's workspace; anything else → 401. The key is never logged. */
export function apiKeyAuth(db: MemoryDatabase) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    const grant = match ? await verifyApiKey(db, match[1]) : null;
    if (!grant) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="sentry-memory"')
        .send({
          error: match
            ? 'API key is not valid (unknown or revoked)'
            : 'missing API key: send "Authorization: Bearer <key>" (create one with `sentry-memory apikey create`)',
        });
      return;
    }
    request.agentWorkspaceId = grant.workspaceId;
  };
}
