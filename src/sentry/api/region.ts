import { getOrganization, type SentryReader } from './endpoints.js';
import { SentryApiError } from './errors.js';

/** sentry.io and its region/org subdomains; everything else is treated as self-hosted. */
export function isSentrySaas(baseUrl: string): boolean {
  const host = new URL(baseUrl).hostname.toLowerCase();
  return host === 'sentry.io' || host.endsWith('.sentry.io');
}

/**
 * The base URL to use for an organization's API calls. On sentry.io the data
 * lives in a region (`https://us.sentry.io`, `https://de.sentry.io`), announced
 * in the organization's `links.regionUrl`; self-hosted installs are used as is.
 */
export async function resolveRegionUrl(client: SentryReader, organizationSlug: string): Promise<string> {
  if (!isSentrySaas(client.baseUrl)) return client.baseUrl;
  const organization = await getOrganization(client, organizationSlug);
  const regionUrl = organization.links?.regionUrl;
  if (!regionUrl) return client.baseUrl;
  // The token goes wherever this points, so only accept Sentry's own hosts.
  if (!isHttps(regionUrl) || !isSentrySaas(regionUrl)) {
    throw new SentryApiError({
      kind: 'invalid_response',
      status: 200,
      url: client.baseUrl,
      detail: 'organization regionUrl is not an https sentry.io URL',
    });
  }
  return regionUrl.replace(/\/+$/, '');
}

function isHttps(url: string): boolean {
  try {
    return new URL(url).protocol === 'https:';
  } catch {
    return false;
  }
}
