import type { Emulator } from '../../src/sentry/emulator/index.js';

export { fixtureFile as fixture } from '../helpers/fixtures.js';

/** GET against the emulator with the internal token (or the given one). */
export function api(emu: Emulator, path: string, token: string = emu.internalToken): Promise<Response> {
  return fetch(`${emu.url}${path}`, { headers: { Authorization: `Bearer ${token}` } });
}

export async function getJson<T = unknown>(emu: Emulator, path: string, token?: string): Promise<T> {
  const res = await api(emu, path, token);
  if (!res.ok) throw new Error(`${path} -> ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export interface LinkPart {
  url: string;
  rel: string;
  results: boolean;
  cursor: string;
}

/** Parses Sentry's Link header (strict: every attribute must be present). */
export function parseLink(header: string | null): Record<string, LinkPart> {
  if (!header) throw new Error('missing Link header');
  const out: Record<string, LinkPart> = {};
  for (const part of header.split(/,\s*(?=<)/)) {
    const m = /^<([^>]+)>; rel="(\w+)"; results="(true|false)"; cursor="([^"]+)"$/.exec(part.trim());
    if (!m) throw new Error(`malformed link part: ${part}`);
    out[m[2]] = { url: m[1], rel: m[2], results: m[3] === 'true', cursor: m[4] };
  }
  return out;
}

export function missingKeys(expected: object, actual: object): string[] {
  return Object.keys(expected).filter((k) => !(k in actual));
}
