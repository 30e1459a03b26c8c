import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Sentry's documented webhook bodies and API responses, with their provenance in the folder's README. */
export const fixturesDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'sentry');

export interface WebhookFixture {
  name: string;
  resource: string;
  action: string;
  /** The body exactly as the file holds it: signatures are over these bytes. */
  raw: string;
  json: Record<string, unknown>;
}

export function webhookFixtures(): WebhookFixture[] {
  return readdirSync(join(fixturesDir, 'webhooks'))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => webhookFixture(file.replace(/\.json$/, '')));
}

export function webhookFixture(name: string): WebhookFixture {
  const raw = readFileSync(join(fixturesDir, 'webhooks', `${name}.json`), 'utf8');
  const [resource] = name.split('.');
  const json = JSON.parse(raw) as Record<string, unknown>;
  return { name, resource, action: String(json.action), raw, json };
}

export function apiFixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(join(fixturesDir, 'api', `${name}.json`), 'utf8')) as T;
}

/** Any fixture by its path below the fixtures folder (`api/issue.json`, `webhooks/issue.created.json`). */
export function fixtureFile(path: string): unknown {
  return JSON.parse(readFileSync(join(fixturesDir, path), 'utf8'));
}
