import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** The built dashboard, `<package root>/dist/web`: two levels up from this file in src/server and in dist/server alike. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../dist/web', import.meta.url));

/** The pages' paths: each is the same index.html, and the page's own router shows what the path names. */
const PAGES = ['/', '/sign-in', '/timeline', '/search', '/issues/*', '/releases/*'];

/** Only this server's own scripts, styles, images and API: no inline script, no CDN, no framing. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The web dashboard's files from `root` (a Vite build). Hashed `/assets/*` are cached for good;
 * `index.html` is revalidated every time, so a new build is picked up at once. Without a build, the
 * pages answer 503 and say how to make one.
 */
export async function dashboardPages(app: FastifyInstance, options: { root: string }): Promise<void> {
  await app.register(fastifyStatic, { root: options.root, serve: false });
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'same-origin');
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html'))
      reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    return payload;
  });
  const index = join(options.root, 'index.html');
  const page = async (reply: FastifyReply) => {
    const built = await access(index).then(
      () => true,
      () => false,
    );
    if (!built)
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send(`The dashboard is not built (no ${index}): run \`npm run build\`, then reload.`);
    return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
  };
  for (const path of PAGES) app.get(path, async (_request, reply) => page(reply));
  app.get('/assets/*', async (request, reply) =>
    reply.sendFile(`assets/${(request.params as { '*': string })['*']}`, { immutable: true, maxAge: '365d' }),
  );
}
