/** An access token with the refresh token that renews it. */
export interface Credentials {
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/**
 * Where the current credentials live. Refresh tokens rotate on every use, so
 * the new pair must be saved before anything uses it: a crash after a refresh
 * but before the save would otherwise lose the only valid refresh token.
 */
export interface CredentialStore {
  load(): Promise<Credentials | null>;
  save(credentials: Credentials): Promise<void>;
}

export function isCredentials(value: unknown): value is Credentials {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.accessToken === 'string' &&
    typeof record.refreshToken === 'string' &&
    typeof record.expiresAt === 'number' &&
    Number.isFinite(record.expiresAt)
  );
}
