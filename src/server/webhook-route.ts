import type { FastifyInstance } from 'fastify';
import { receiveSentryDelivery, type ReceiverOptions } from '../sentry/webhooks/receiver.js';

/**
 * `POST /webhooks/sentry`. The body is kept as raw bytes: the signature covers exactly those bytes,
 * so it is never re-serialized. Body limit → 413 from Fastify before anything is read further.
 */
export async function sentryWebhookRoute(
  app: FastifyInstance,
  options: ReceiverOptions & { bodyLimit: number },
): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: options.bodyLimit }, (_request, body, done) =>
    done(null, body),
  );
  app.post('/webhooks/sentry', async (request, reply) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const result = await receiveSentryDelivery(
      options,
      (name) => {
        const value = request.headers[name];
        return Array.isArray(value) ? value[0] : value;
      },
      body,
    );
    if (result.storeFailure) {
      const error = result.storeFailure as { code?: unknown; message?: unknown };
      request.log.error(
        { code: error.code, err: String(error.message ?? error), resource: request.headers['sentry-hook-resource'] },
        'webhook delivery NOT stored (answered 503, the sender will retry)',
      );
    }
    return reply
      .code(result.status)
      .headers(result.headers ?? {})
      .send(result.body);
  });
}
