import { ConfigError } from '../config.js';

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * The Sentry URL a connection talks to carries its tokens and secrets, so it must be https; plain http
 * only to this machine (a local Sentry or the emulator). Returns the URL without trailing slashes.
 */
export function checkSentryUrl(value: string, what = '--url'): string {
  const url = URL.canParse(value) ? new URL(value) : null;
  const secure = url?.protocol === 'https:' || (url?.protocol === 'http:' && LOOPBACK.test(url.hostname));
  if (!url || !secure || url.username || url.password) {
    throw new ConfigError(
      `${what} must be an https URL such as https://sentry.io (plain http only to localhost, 127.0.0.1 or [::1]), without credentials; got "${url ? `${url.protocol}//${url.host}` : value}"`,
    );
  }
  return value.replace(/\/+$/, '');
}
