/**
 * Access tokens, refresh tokens and one-time grant codes, with Sentry's lifecycles:
 * - the internal-integration token never expires;
 * - installation/OAuth tokens expire after the configured TTL;
 * - a refresh token works once, and refreshing revokes the access token it belonged to;
 * - a grant code works once and expires after 10 minutes.
 */
import type { Prng } from './prng.js';

export type TokenKind = 'internal' | 'installation' | 'oauth';

export interface AccessToken {
  id: string;
  token: string;
  refreshToken: string | null;
  kind: TokenKind;
  installationUuid: string | null;
  userId: string | null;
  scopes: string[];
  dateCreated: number;
  /** ms; null = never expires. */
  expiresAt: number | null;
}

export interface Grant {
  code: string;
  installationUuid: string | null;
  userId: string | null;
  redirectUri: string | null;
  expiresAt: number;
}

const GRANT_TTL_MS = 10 * 60_000;
export const APP_SCOPES = ['event:read', 'member:read', 'org:read', 'project:read', 'project:releases', 'team:read'];

export class TokenStore {
  private readonly byToken = new Map<string, AccessToken>();
  private readonly byRefresh = new Map<string, AccessToken>();
  private readonly grants = new Map<string, Grant>();
  private readonly usedJwtIds = new Set<string>();
  private nextId = 1;
  readonly internalToken: string;

  constructor(
    private readonly rng: Prng,
    private readonly now: () => number,
    private readonly ttlMs: number,
  ) {
    this.internalToken = this.store({ kind: 'internal', installationUuid: null, userId: null, expires: false }).token;
  }

  private store(opts: {
    kind: TokenKind;
    installationUuid: string | null;
    userId: string | null;
    expires: boolean;
  }): AccessToken {
    const created = this.now();
    const token: AccessToken = {
      id: String(this.nextId++),
      token: this.rng.hex(64),
      refreshToken: opts.expires ? this.rng.hex(64) : null,
      kind: opts.kind,
      installationUuid: opts.installationUuid,
      userId: opts.userId,
      scopes: APP_SCOPES,
      dateCreated: created,
      expiresAt: opts.expires ? created + this.ttlMs : null,
    };
    this.byToken.set(token.token, token);
    if (token.refreshToken) this.byRefresh.set(token.refreshToken, token);
    return token;
  }

  issue(kind: 'installation' | 'oauth', owner: { installationUuid?: string; userId?: string }): AccessToken {
    return this.store({
      kind,
      installationUuid: owner.installationUuid ?? null,
      userId: owner.userId ?? null,
      expires: true,
    });
  }

  /** The live token for a bearer string, or null when unknown, revoked or expired. */
  authenticate(bearer: string): AccessToken | null {
    const token = this.byToken.get(bearer);
    if (!token) return null;
    if (token.expiresAt !== null && token.expiresAt <= this.now()) return null;
    return token;
  }

  revoke(token: AccessToken): void {
    this.byToken.delete(token.token);
    if (token.refreshToken) this.byRefresh.delete(token.refreshToken);
  }

  /** Consumes a refresh token: the old access token dies and a new pair is issued. */
  refresh(refreshToken: string, installationUuid: string | null): AccessToken | null {
    const old = this.byRefresh.get(refreshToken);
    if (!old || old.installationUuid !== installationUuid) return null;
    this.revoke(old);
    return this.store({ kind: old.kind, installationUuid: old.installationUuid, userId: old.userId, expires: true });
  }

  /** Revokes every token of an installation (the JWT grant replaces the installation's token). */
  revokeInstallation(installationUuid: string): void {
    for (const token of [...this.byToken.values()]) if (token.installationUuid === installationUuid) this.revoke(token);
  }

  /** Makes every expiring access token expire now; refresh tokens keep working. */
  expireAll(): void {
    const now = this.now();
    for (const token of this.byToken.values()) if (token.expiresAt !== null) token.expiresAt = now;
  }

  createGrant(owner: { installationUuid?: string; userId?: string; redirectUri?: string }): Grant {
    const grant: Grant = {
      code: this.rng.hex(32),
      installationUuid: owner.installationUuid ?? null,
      userId: owner.userId ?? null,
      redirectUri: owner.redirectUri ?? null,
      expiresAt: this.now() + GRANT_TTL_MS,
    };
    this.grants.set(grant.code, grant);
    return grant;
  }

  /** Returns the grant once; a second use, or a use after expiry, gets null. */
  consumeGrant(code: string): Grant | null {
    const grant = this.grants.get(code);
    if (!grant) return null;
    this.grants.delete(code);
    return grant.expiresAt > this.now() ? grant : null;
  }

  /** JWT ids are single-use, as Sentry caches them to block replays. */
  claimJwtId(jti: string): boolean {
    if (this.usedJwtIds.has(jti)) return false;
    this.usedJwtIds.add(jti);
    return true;
  }
}
