import type { ApiLogger } from '../api/client.js';
import { SentryApiError } from '../api/errors.js';
import type { CredentialStore, Credentials } from './credentials.js';
import { SentryAuthError } from './errors.js';
import type { TokenProvider } from './token-provider.js';
import { systemClock, type Clock } from '../../time.js';

/** How one kind of integration renews its credentials. */
export interface RefreshGrants {
  /** Spends `current.refreshToken` for a new pair. */
  refresh(current: Credentials): Promise<Credentials>;
  /**
   * Optional second way in when the refresh failed and its outcome is unknown
   * (the response was lost after Sentry may already have rotated the pair).
   */
  recover?(): Promise<Credentials>;
}

export interface RefreshingTokenProviderOptions {
  store: CredentialStore;
  grants: RefreshGrants;
  /** Refresh this long before `expiresAt`; default 5 minutes. */
  refreshSkewMs?: number;
  now?: Clock;
  logger?: ApiLogger;
}

const DEFAULT_SKEW_MS = 5 * 60_000;

/**
 * Token lifecycle shared by sentry-app installations and OAuth apps:
 * - refreshes ahead of expiry and after a 401;
 * - single-flight: concurrent callers share one refresh (a second refresh
 *   would spend the already-rotated refresh token and fail);
 * - persist-first: the new pair is saved before anyone gets to use it.
 */
export class RefreshingTokenProvider implements TokenProvider {
  private current: Credentials | null = null;
  private loading: Promise<Credentials | null> | null = null;
  private refreshing: Promise<Credentials> | null = null;
  private readonly store: CredentialStore;
  private readonly grants: RefreshGrants;
  private readonly skewMs: number;
  private readonly now: () => number;
  private readonly logger: ApiLogger | undefined;

  constructor(options: RefreshingTokenProviderOptions) {
    this.store = options.store;
    this.grants = options.grants;
    this.skewMs = options.refreshSkewMs ?? DEFAULT_SKEW_MS;
    this.now = options.now ?? systemClock;
    this.logger = options.logger;
  }

  async getToken(): Promise<string> {
    const current = await this.loadCurrent();
    if (current.expiresAt - this.skewMs > this.now()) return current.accessToken;
    try {
      return (await this.refreshOnce()).accessToken;
    } catch (error) {
      // Refreshing early failed for a passing reason; the old token still works for a while.
      if (isTransient(error) && current.expiresAt > this.now()) return current.accessToken;
      throw error;
    }
  }

  async refreshAfterUnauthorized(rejected: string): Promise<string> {
    const current = await this.loadCurrent();
    // Someone else already replaced the rejected token: use theirs, don't refresh again.
    if (current.accessToken !== rejected) return current.accessToken;
    return (await this.refreshOnce()).accessToken;
  }

  private refreshOnce(): Promise<Credentials> {
    this.refreshing ??= this.refreshAndPersist().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async refreshAndPersist(): Promise<Credentials> {
    const current = await this.loadCurrent();
    const next = await this.obtainNewCredentials(current);
    await this.store.save(next);
    this.current = next;
    return next;
  }

  private async obtainNewCredentials(current: Credentials): Promise<Credentials> {
    try {
      return await this.grants.refresh(current);
    } catch (refreshError) {
      if (!this.grants.recover) throw asBrokenIfRejected(refreshError);
      this.logger?.warn({ reason: describe(refreshError) }, 'token refresh failed; trying recovery grant');
      try {
        return await this.grants.recover();
      } catch (recoverError) {
        throw asBrokenIfRejected(recoverError);
      }
    }
  }

  private async loadCurrent(): Promise<Credentials> {
    if (this.current) return this.current;
    this.loading ??= this.store.load().finally(() => {
      this.loading = null;
    });
    const loaded = await this.loading;
    if (!loaded)
      throw new SentryAuthError('not_connected', 'no Sentry credentials are stored; connect the integration first');
    this.current ??= loaded;
    return this.current;
  }
}

/** Sentry said no (as opposed to "not now"): the connection needs a human to redo it. */
function asBrokenIfRejected(error: unknown): unknown {
  if (error instanceof SentryApiError && ['unauthorized', 'forbidden', 'client', 'not_found'].includes(error.kind)) {
    return new SentryAuthError('connection_broken', 'Sentry rejected the stored grant; reconnect the integration', {
      cause: error,
    });
  }
  return error;
}

function isTransient(error: unknown): boolean {
  return error instanceof SentryApiError && error.retryable;
}

function describe(error: unknown): string {
  if (error instanceof SentryApiError || error instanceof SentryAuthError) return error.kind;
  return error instanceof Error ? error.name : 'unknown';
}
