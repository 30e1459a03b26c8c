/** Supplies the bearer token for Sentry API calls. */
export interface TokenProvider {
  /** A token believed to be valid now (refreshing first if it is about to expire). */
  getToken(): Promise<string>;
  /**
   * Called after Sentry answered 401 to `rejected`. Returns a different token to
   * retry with, or null when there is nothing better (the caller then fails).
   */
  refreshAfterUnauthorized(rejected: string): Promise<string | null>;
}

/** Internal integrations and personal tokens: one long-lived token, nothing to refresh. */
export class StaticTokenProvider implements TokenProvider {
  constructor(private readonly token: string) {
    if (!token) throw new Error('StaticTokenProvider needs a non-empty token');
  }

  async getToken(): Promise<string> {
    return this.token;
  }

  async refreshAfterUnauthorized(): Promise<string | null> {
    return null;
  }
}
