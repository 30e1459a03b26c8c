import { useEffect, useState } from 'preact/hooks';
import type { Session } from './api-types';

/** A refused or failed request, with the server's own words ({ error }) when it gave some. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Why the sign-in page is shown: the key was never accepted, or a session ended under us. */
export type SignInReason = 'signed-out' | 'session-ended';

let csrfToken: string | null = null;
let onUnauthorized: (reason: SignInReason) => void = () => undefined;

/** The app's answer to a 401 anywhere (back to sign-in, saying why). */
export function handleUnauthorized(handler: (reason: SignInReason) => void): void {
  onUnauthorized = handler;
}

async function request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  // The session cookie is SameSite=Strict and httpOnly; writes also prove they come from this page.
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, 'The server did not answer. Is `sentry-memory serve` still running?');
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  if (!response.ok) {
    const said = (json as { error?: unknown } | undefined)?.error;
    const message = typeof said === 'string' ? said : `The server answered ${response.status} ${response.statusText}`;
    const error = new ApiError(response.status, message);
    if (response.status === 401 && path !== SESSION) {
      csrfToken = null;
      onUnauthorized('session-ended');
    }
    throw error;
  }
  return json as T;
}

const SESSION = '/api/v1/session';

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body),
};

/** The current session, or null when there is none (never signed in, expired, or its key revoked). */
export async function currentSession(): Promise<Session | null> {
  try {
    const session = await request<Session>('GET', SESSION);
    csrfToken = session.csrfToken;
    return session;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export async function signIn(apiKey: string): Promise<Session> {
  const session = await request<Session>('POST', SESSION, { apiKey });
  csrfToken = session.csrfToken;
  return session;
}

export async function signOut(): Promise<void> {
  try {
    await request<void>('DELETE', SESSION);
  } finally {
    csrfToken = null;
  }
}

/** A path with its query: undefined and empty values are left out. */
export function withQuery(path: string, query: Record<string, string | number | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export type Loaded<T> =
  | { state: 'loading'; data?: undefined; error?: undefined }
  | { state: 'ready'; data: T; error?: undefined }
  | { state: 'failed'; data?: undefined; error: ApiError };

/**
 * GETs `path` (null: nothing yet) and again whenever it or `version` changes. A reload of the same
 * path keeps the previous answer on screen until the new one arrives, so refreshing does not flash.
 */
export function useApi<T>(path: string | null, version = 0): Loaded<T> {
  const [loaded, setLoaded] = useState<{ path: string | null; answer: Loaded<T> }>({
    path: null,
    answer: { state: 'loading' },
  });
  useEffect(() => {
    if (path === null) return;
    let current = true;
    const settle = (answer: Loaded<T>) => current && setLoaded({ path, answer });
    api.get<T>(path).then(
      (data) => settle({ state: 'ready', data }),
      (error: unknown) =>
        settle({ state: 'failed', error: error instanceof ApiError ? error : new ApiError(0, String(error)) }),
    );
    return () => {
      current = false;
    };
  }, [path, version]);
  return loaded.path === path ? loaded.answer : { state: 'loading' };
}
