export {
  SentryApiClient,
  buildUrl,
  type ApiLogger,
  type ApiResponse,
  type ApiStats,
  type Page,
  type Query,
  type QueryValue,
  type SentryApiClientOptions,
} from './client.js';
export { ConcurrencyGate, MAX_CONCURRENCY } from './concurrency.js';
export {
  SentryApiError,
  errorKindForStatus,
  extractErrorDetail,
  redactUrl,
  type SentryApiErrorKind,
} from './errors.js';
export { nextCursorFromLink, parseLinkHeader, type LinkEntry } from './link.js';
export { RequestPacer, parseRetryAfterMs, readRateLimitHeaders, type RateLimitSnapshot } from './rate-limit.js';
export { isSentrySaas, resolveRegionUrl } from './region.js';
export * from './endpoints.js';
export * from './schemas.js';
