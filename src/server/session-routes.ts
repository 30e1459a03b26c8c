import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { verifyApiKey } from '../memory/api-keys.js';
import type { MemoryDatabase } from '../memory/database.js';
import { createSession, deleteSession, SESSION_TTL_MS, type Session } from '../memory/sessions.js';
import type { Clock } from '../time.js';
import { crossSiteRefusal, SESSION_COOKIE } from './session-auth.js';

function sessionAnswer(session: Pick<Session, 'workspaceId' | 'expiresAt' | 'csrfToken'>) {
  return { workspaceId: session.workspaceId, expiresAt: session.expiresAt, csrfToken: session.csrfToken };
}

/** Secure whenever the page is served over https (as Fastify sees it: TLS here, or a proxy it was told to trust). */
function cookieOptions(request: FastifyRequest, maxAgeSeconds: number) {
  return {
    httpOnly: true,
    sameSite: 'strict' as const,
    path: '/',
    secure: request.protocol === 'https',
    maxAge: maxAgeSeconds,
  };
}

/**
 * `/api/v1/session`: the dashboard signs in once with an API key and then carries an httpOnly
 * session cookie (see memory/sessions.ts). GET tells the page who it is signed in as; DELETE signs out.
 */
export async function sessionRoutes(app: FastifyInstance, options: { db: MemoryDatabase; now: Clock }): Promise<void> {
  app.post('/api/v1/session', { config: { signIn: true } }, async (request, reply) => {
    const refusal = crossSiteRefusal(request);
    if (refusal) return reply.code(403).send({ error: refusal });
    const body = request.body as { apiKey?: unknown } | undefined;
    if (typeof body !== 'object' || body === null || typeof body.apiKey !== 'string' || !body.apiKey)
      return reply
        .code(400)
        .send({ error: 'send JSON {"apiKey": "smk_…"} (create a key with `sentry-memory apikey create`)' });
    const grant = await verifyApiKey(options.db, body.apiKey.trim());
    if (!grant) return reply.code(401).send({ error: 'API key is not valid (unknown or revoked)' });
    const { token, session } = await createSession(options.db, grant, options.now());
    return reply
      .setCookie(SESSION_COOKIE, token, cookieOptions(request, SESSION_TTL_MS / 1000))
      .send(sessionAnswer(session));
  });
  app.get('/api/v1/session', async (request: FastifyRequest) =>
    request.dashboardSession
      ? sessionAnswer(request.dashboardSession)
      : { workspaceId: request.agentWorkspaceId!, expiresAt: null, csrfToken: null },
  );
  app.delete('/api/v1/session', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.dashboardSession) await deleteSession(options.db, request.dashboardSession.token);
    return reply.clearCookie(SESSION_COOKIE, cookieOptions(request, 0)).code(204).send();
  });
}
