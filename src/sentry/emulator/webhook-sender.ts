import { randomUUID } from 'node:crypto';
import { signBody } from '../webhooks/signature.js';

export interface DeliverOptions {
  requestId?: string;
  /** Epoch seconds for Sentry-Hook-Timestamp; defaults to now. */
  timestamp?: number;
}

/**
 * POSTs a webhook exactly as Sentry does: the JSON body bytes signed with HMAC-SHA256 of the
 * client secret (hex) in Sentry-Hook-Signature, plus Request-ID, Sentry-Hook-Resource and
 * Sentry-Hook-Timestamp.
 */
export function deliverWebhook(
  url: string,
  secret: string,
  resource: string,
  body: unknown,
  opts: DeliverOptions = {},
): Promise<Response> {
  const payload = JSON.stringify(body);
  return fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'Request-ID': opts.requestId ?? randomUUID(),
      'Sentry-Hook-Resource': resource,
      'Sentry-Hook-Timestamp': String(opts.timestamp ?? Math.floor(Date.now() / 1000)),
      'Sentry-Hook-Signature': signBody(secret, payload),
    },
    body: payload,
  });
}
