/** What went wrong, so callers can branch without parsing messages or status codes. */
export type SentryApiErrorKind =
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'rate_limited'
  | 'client'
  | 'server'
  | 'network'
  | 'timeout'
  | 'invalid_response';

export interface SentryApiErrorInit {
  kind: SentryApiErrorKind;
  /** HTTP status, or null when no response arrived (network, timeout). */
  status: number | null;
  /** Request URL; query parameters that may carry secrets are redacted here. */
  url: string;
  /** Sentry's own `detail` (or OAuth `error_description`) message, if any. */
  detail?: string | null;
}

/**
 * Every failure of a Sentry HTTP call. The message is built only from the
 * status, the redacted URL and Sentry's detail — never from request headers or
 * bodies — so it is safe to log.
 */
export class SentryApiError extends Error {
  readonly kind: SentryApiErrorKind;
  readonly status: number | null;
  readonly url: string;
  readonly detail: string | null;

  constructor(init: SentryApiErrorInit) {
    const url = redactUrl(init.url);
    const detail = init.detail ?? null;
    const status = init.status === null ? init.kind : `HTTP ${init.status}`;
    super(`Sentry API ${status} for ${url}${detail ? `: ${detail}` : ''}`);
    this.name = 'SentryApiError';
    this.kind = init.kind;
    this.status = init.status;
    this.url = url;
    this.detail = detail;
  }

  /** Worth retrying: the same request may succeed later. */
  get retryable(): boolean {
    return ['rate_limited', 'server', 'network', 'timeout'].includes(this.kind);
  }
}

export function errorKindForStatus(status: number): SentryApiErrorKind {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server';
  return 'client';
}

const SECRET_PARAM = /token|secret|code|key|password|assertion|auth|session|sig/i;

/** Drops the values of query parameters whose names suggest a credential. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw.split('?')[0] ?? '';
  }
  url.username = '';
  url.password = '';
  for (const name of [...new Set(url.searchParams.keys())]) {
    if (SECRET_PARAM.test(name)) url.searchParams.set(name, 'REDACTED');
  }
  return url.toString();
}

const MAX_DETAIL_LENGTH = 300;

/**
 * Pulls a human message out of an error body. Sentry uses `{ detail }`; OAuth
 * endpoints use `{ error, error_description }`. Anything else is ignored rather
 * than echoed, because a body we don't understand could contain anything.
 */
export function extractErrorDetail(bodyText: string): string | null {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return null;
  }
  if (typeof body !== 'object' || body === null) return null;
  const record = body as Record<string, unknown>;
  const candidate = [record.detail, record.error_description, record.error].find(
    (value): value is string => typeof value === 'string' && value.length > 0,
  );
  return candidate ? candidate.slice(0, MAX_DETAIL_LENGTH) : null;
}
