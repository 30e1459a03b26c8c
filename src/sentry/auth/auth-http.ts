import { SentryApiError, errorKindForStatus, extractErrorDetail } from '../api/errors.js';
import { SentryAuthError } from './errors.js';

export interface AuthRequest {
  url: string;
  method: 'POST' | 'PUT';
  body: Readonly<Record<string, string>>;
  /** Sentry-app endpoints take JSON; the OAuth token endpoint takes a form. */
  encoding: 'json' | 'form';
  /** Sent as `Authorization: Bearer …`. */
  bearer?: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/**
 * One request to a token or installation endpoint, without retries: a retried
 * refresh could spend a rotating refresh token twice. Failures surface as
 * SentryApiError (HTTP, network, timeout) whose message never carries the
 * request body or headers.
 */
export async function sendAuthRequest(request: AuthRequest): Promise<unknown> {
  const fetchImpl = request.fetch ?? fetch;
  const headers: Record<string, string> = {
    Accept: 'application/json',
    'Content-Type': request.encoding === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
  };
  if (request.bearer) headers.Authorization = `Bearer ${request.bearer}`;
  const body =
    request.encoding === 'json' ? JSON.stringify(request.body) : new URLSearchParams(request.body).toString();

  let status: number;
  let text: string;
  try {
    const response = await fetchImpl(request.url, {
      method: request.method,
      headers,
      body,
      signal: AbortSignal.timeout(request.timeoutMs ?? 30_000),
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    throw new SentryApiError({ kind: timedOut ? 'timeout' : 'network', status: null, url: request.url });
  }

  if (status < 200 || status >= 300) {
    throw new SentryApiError({
      kind: errorKindForStatus(status),
      status,
      url: request.url,
      detail: extractErrorDetail(text),
    });
  }
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    // No cause: V8's SyntaxError quotes the body, which may hold a token.
    throw new SentryAuthError('invalid_token_response', `Sentry answered ${status} with a body that is not JSON`);
  }
}
