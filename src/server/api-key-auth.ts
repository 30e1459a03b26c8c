import type { FastifyReply, FastifyRequest } from 'fastify';
import { verifyApiKey } from '../memory/api-keys.js';
import type { MemoryDatabase } from '../memory/database.js';
import type { Session } from '../memory/sessions.js';
import type { Clock } from '../time.js';
import { csrfRefusal, SESSION_COOKIE, sessionOf } from './session-auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The workspace the request's API key (or its key's session) grants; set by `apiKeyAuth`, the only source of it. */
    agentWorkspaceId?: string;
    /** The dashboard session the request came with, when it was authenticated by its cookie. */
    dashboardSession?: Session & { token: string };
  }
  interface FastifyContextConfig {
    /** The route authenticates by itself (sign-in: it is where a session comes from). */
    signIn?: boolean;
  }
}

/**
 * `Authorization: Bearer smk_…` → the key's workspace; with `sessions`, a request without that header
 * may instead carry the dashboard's session cookie, and then a change it asks for must carry the
 * session's CSRF token and come from this origin. Anything else → 401. Keys and tokens are never logged.
 */
export function apiKeyAuth(db: MemoryDatabase, options: { sessions?: Clock } = {}) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (request.routeOptions.config.signIn) return;
    const cookie = request.cookies?.[SESSION_COOKIE];
    if (options.sessions && request.headers.authorization === undefined && cookie !== undefined) {
      const session = await sessionOf(db, cookie, options.sessions());
      if (!session) {
        await reply
          .code(401)
          .send({ error: 'the session has ended (expired, signed out or its key revoked): sign in again' });
        return;
      }
      const refusal = csrfRefusal(request, session.csrfToken);
      if (refusal) {
        await reply.code(403).send({ error: refusal });
        return;
      }
      request.agentWorkspaceId = session.workspaceId;
      request.dashboardSession = session;
      return;
    }
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    const grant = match ? await verifyApiKey(db, match[1]) : null;
    if (!grant) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="sentry-memory"')
        .send({
          error: match
            ? 'API key is not valid (unknown or revoked)'
            : options.sessions
              ? 'not signed in: sign in on the dashboard, or send "Authorization: Bearer <key>" (create one with `sentry-memory apikey create`)'
              : 'missing API key: send "Authorization: Bearer <key>" (create one with `sentry-memory apikey create`)',
        });
      return;
    }
    request.agentWorkspaceId = grant.workspaceId;
  };
}
