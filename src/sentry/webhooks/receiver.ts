import { createHash } from 'node:crypto';
import { describeStorageFailure } from '../../memory/database.js';
import type { Delivery, EnqueueResult } from '../../queue/delivery.js';
import type { Clock } from '../../time.js';
import { SENTRY_SOURCE } from '../source.js';
import { checkTimestamp, verifySignature } from './signature.js';

export interface ReceiverOptions {
  /** Accepted client secrets; more than one while a secret is being rotated. */
  secrets: readonly string[];
  toleranceSeconds: number;
  workspaceId: string;
  enqueue: (delivery: Delivery) => Promise<EnqueueResult>;
  now?: Clock;
}

export interface ReceiverReply {
  status: number;
  body: { ok: boolean; duplicate?: boolean; error?: string };
  headers?: Record<string, string>;
  /** Why the delivery could not be stored (503), for the caller to log. */
  storeFailure?: unknown;
}

/** Seconds a sender is asked to wait after a 503: long enough for a lock to clear or space to be freed. */
export const STORE_RETRY_AFTER_SECONDS = 10;

/** JSON is UTF-8 (RFC 8259); a byte-order mark is kept, so the stored text is exactly the signed bytes. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function newInstallationName(payload: Record<string, unknown>): string {
  const slug = (payload.data as { installation?: { organization?: { slug?: unknown } } } | undefined)?.installation
    ?.organization?.slug;
  return typeof slug === 'string' ? slug : 'installation';
}

/** Header lookup that is case-insensitive, whatever the transport. */
export type HeaderLookup = (name: string) => string | undefined;

/**
 * Acknowledges one Sentry delivery: signature over the raw bytes, replay window, JSON check, then a
 * durable write to the inbox. Nothing else happens on this path; processing is the worker's.
 */
export async function receiveSentryDelivery(
  options: ReceiverOptions,
  header: HeaderLookup,
  body: Uint8Array,
): Promise<ReceiverReply> {
  if (!options.secrets.length)
    return {
      status: 401,
      body: { ok: false, error: 'no client secret is configured on this server (SENTRY_CLIENT_SECRET)' },
    };
  const signature = header('sentry-hook-signature') ?? header('sentry-app-signature');
  if (!verifySignature(body, signature, options.secrets)) {
    return {
      status: 401,
      body: { ok: false, error: signature ? 'signature does not match the body' : 'missing Sentry-Hook-Signature' },
    };
  }
  const timestamp = checkTimestamp(header('sentry-hook-timestamp'), options.toleranceSeconds, options.now?.());
  if (!timestamp.ok) return { status: 401, body: { ok: false, error: timestamp.reason } };
  const resource = header('sentry-hook-resource');
  if (!resource) return { status: 400, body: { ok: false, error: 'missing Sentry-Hook-Resource' } };
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    // Decoding leniently would store U+FFFD in place of the signed bytes: the delivery would not be kept as sent.
    return { status: 400, body: { ok: false, error: 'body is not valid UTF-8' } };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { status: 400, body: { ok: false, error: 'body is not valid JSON' } };
  }
  const payload =
    parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : null;
  if (!payload) return { status: 400, body: { ok: false, error: 'body must be a JSON object' } };
  const installation = payload.installation as { uuid?: unknown } | undefined;
  const deliveryId =
    header('request-id') || createHash('sha256').update(resource).update('\n').update(body).digest('hex');
  try {
    const result = await options.enqueue({
      workspaceId: options.workspaceId,
      source: SENTRY_SOURCE,
      deliveryId,
      resource,
      action: typeof payload.action === 'string' ? payload.action : null,
      externalId: typeof installation?.uuid === 'string' ? installation.uuid : null,
      // A new installation's workspace (when there is one per installation) is named after its organization.
      newInstallation:
        resource === 'installation' && payload.action === 'created'
          ? { name: newInstallationName(payload) }
          : undefined,
      sentAt: timestamp.sentAt.toISOString(),
      body: text,
    });
    return { status: 200, body: { ok: true, duplicate: result.duplicate } };
  } catch (error) {
    // Not written, so not acknowledged: Sentry will deliver it again.
    return {
      status: 503,
      headers: { 'retry-after': String(STORE_RETRY_AFTER_SECONDS) },
      // What kind of failure, in words a sender's log can show (never the raw error).
      body: { ok: false, error: `could not store the delivery (${describeStorageFailure(error)}); retry later` },
      storeFailure: error,
    };
  }
}

/**
 * A Web-standard `(Request) => Promise<Response>` handler, for Next.js/Hono/any fetch-style route.
 * `maxBodyBytes` is enforced while reading, before the signature check.
 */
export function createWebhookHandler(
  options: ReceiverOptions & { maxBodyBytes?: number },
): (request: Request) => Promise<Response> {
  const maxBodyBytes = options.maxBodyBytes ?? 5 * 1024 * 1024;
  return async (request) => {
    if (request.method !== 'POST') return Response.json({ ok: false, error: 'method not allowed' }, { status: 405 });
    const body = await readBody(request, maxBodyBytes);
    if (!body) return Response.json({ ok: false, error: `body exceeds ${maxBodyBytes} bytes` }, { status: 413 });
    const reply = await receiveSentryDelivery(options, (name) => request.headers.get(name) ?? undefined, body);
    return Response.json(reply.body, { status: reply.status, headers: reply.headers });
  };
}

async function readBody(request: Request, limit: number): Promise<Uint8Array | null> {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) return null;
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
