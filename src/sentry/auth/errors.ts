/**
 * `connection_broken`: Sentry no longer accepts our grant (revoked, uninstalled,
 * or a refresh token lost and no way to recover); a human must reconnect.
 * `not_connected`: no credentials have been stored yet.
 * `invalid_token_response`: the token endpoint answered 2xx with an unusable body.
 * Messages never include tokens, secrets or response bodies.
 */
export type SentryAuthErrorKind = 'connection_broken' | 'not_connected' | 'invalid_token_response';

export class SentryAuthError extends Error {
  readonly kind: SentryAuthErrorKind;

  constructor(kind: SentryAuthErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SentryAuthError';
    this.kind = kind;
  }
}
