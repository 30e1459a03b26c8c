export { sendAuthRequest, type AuthRequest } from './auth-http.js';
export { isCredentials, type CredentialStore, type Credentials } from './credentials.js';
export { SecretDecryptionError, decryptSecret, encryptSecret, loadEncryptionKey } from './crypto.js';
export { SentryAuthError, type SentryAuthErrorKind } from './errors.js';
export {
  CLIENT_SECRET_JWT_GRANT,
  InstallationTokenProvider,
  completeInstallation,
  exchangeInstallationCode,
  markInstallationInstalled,
  refreshInstallationToken,
  requestInstallationTokenWithJwt,
  type InstallationApp,
  type InstallationTokenProviderOptions,
} from './installation.js';
export { createClientSecretJwt, signJwtHs256 } from './jwt.js';
export {
  OAuthTokenProvider,
  buildAuthorizeUrl,
  createState,
  exchangeOAuthCode,
  refreshOAuthToken,
  statesMatch,
  type OAuthApp,
  type OAuthGrant,
  type OAuthTokenProviderOptions,
} from './oauth.js';
export {
  RefreshingTokenProvider,
  type RefreshGrants,
  type RefreshingTokenProviderOptions,
} from './refreshing-token-provider.js';
export { StaticTokenProvider, type TokenProvider } from './token-provider.js';
