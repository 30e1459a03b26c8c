/** One entry of a `Link` header, with Sentry's extra `results` and `cursor` attributes. */
export interface LinkEntry {
  url: string;
  rel: string;
  /** Sentry's `results="true|false"`; null when the attribute is absent. */
  results: boolean | null;
  cursor: string | null;
}

/**
 * Parses an RFC 8288 `Link` header as Sentry writes it:
 *   <url>; rel="previous"; results="false"; cursor="0:0:1", <url>; rel="next"; results="true"; cursor="0:100:0"
 * Returns the entries keyed by `rel`. Commas inside `<...>` or quoted values do
 * not split entries (URLs may carry comma-separated query values).
 */
export function parseLinkHeader(header: string | null | undefined): Record<string, LinkEntry> {
  const links: Record<string, LinkEntry> = {};
  if (!header) return links;
  for (const part of splitOutsideQuotes(header, ',')) {
    const entry = parseEntry(part);
    if (entry) links[entry.rel] = entry;
  }
  return links;
}

/**
 * The cursor of the next page, or null on the last page. Sentry always sends a
 * `next` link; only `results="true"` means there is actually more to fetch.
 */
export function nextCursorFromLink(header: string | null | undefined): string | null {
  const next = parseLinkHeader(header).next;
  return next?.results === true && next.cursor ? next.cursor : null;
}

function parseEntry(part: string): LinkEntry | null {
  const match = /^\s*<([^>]*)>(.*)$/s.exec(part);
  if (!match) return null;
  const [, url = '', rest = ''] = match;
  const params = new Map<string, string>();
  for (const param of splitOutsideQuotes(rest, ';')) {
    const eq = param.indexOf('=');
    if (eq < 0) continue;
    const name = param.slice(0, eq).trim().toLowerCase();
    params.set(name, unquote(param.slice(eq + 1).trim()));
  }
  const rel = params.get('rel');
  if (!rel) return null;
  const results = params.get('results');
  return {
    url,
    rel,
    results: results === undefined ? null : results.toLowerCase() === 'true',
    cursor: params.get('cursor') ?? null,
  };
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let inQuotes = false;
  let inAngle = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inQuotes && ch === '\\' && i + 1 < text.length) {
      current += ch + text[++i];
      continue;
    }
    if (ch === '"' && !inAngle) inQuotes = !inQuotes;
    else if (ch === '<' && !inQuotes) inAngle = true;
    else if (ch === '>' && !inQuotes) inAngle = false;
    if (ch === separator && !inQuotes && !inAngle) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.filter((p) => p.trim().length > 0);
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return value;
}
