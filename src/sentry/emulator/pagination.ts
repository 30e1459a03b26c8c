/**
 * Sentry-style cursor pagination. Two paginators, as in Sentry:
 * - offset lists (projects, teams, releases, …): cursor `per_page:page:is_prev`, e.g. `100:1:0`;
 * - keyset lists (issues sorted by a timestamp): cursor `value:offset:is_prev`, where value is the
 *   sort key in ms and offset skips rows sharing that value — stable while rows are inserted.
 * The Link header always carries both a previous and a next link; only `results` says whether
 * following it yields anything.
 */

export interface Cursor {
  value: number;
  offset: number;
  isPrev: boolean;
}

export class BadRequest extends Error {}

export function parseCursor(raw: string | null): Cursor | null {
  if (raw === null || raw === '') return null;
  const parts = raw.split(':');
  if (parts.length !== 3 || parts.some((p) => !/^-?\d+$/.test(p))) throw new BadRequest('Invalid cursor parameter.');
  const [value, offset, isPrev] = parts.map(Number);
  return { value, offset, isPrev: isPrev !== 0 };
}

const formatCursor = (c: Cursor): string => `${c.value}:${c.offset}:${c.isPrev ? 1 : 0}`;

export interface Page<T> {
  items: T[];
  prev: Cursor & { hasResults: boolean };
  next: Cursor & { hasResults: boolean };
}

/** OffsetPaginator: `page` counts pages of `value` rows each. */
export function paginateOffset<T>(rows: readonly T[], perPage: number, cursor: Cursor | null): Page<T> {
  const size = cursor && cursor.value > 0 ? cursor.value : perPage;
  const page = Math.max(0, cursor?.offset ?? 0);
  const start = page * size;
  const items = rows.slice(start, start + size);
  return {
    items,
    prev: { value: size, offset: page - 1, isPrev: true, hasResults: page > 0 },
    next: { value: size, offset: page + 1, isPrev: false, hasResults: start + size < rows.length },
  };
}

/**
 * Keyset pagination over rows sorted by `key` descending (ties in stable order). The cursor
 * names a position: skip every row with a larger key, then `offset` rows with an equal key.
 */
export function paginateByKey<T>(
  rows: readonly T[],
  key: (row: T) => number,
  perPage: number,
  cursor: Cursor | null,
): Page<T> {
  const positionOf = (c: Cursor): number => {
    let greater = 0;
    while (greater < rows.length && key(rows[greater]) > c.value) greater++;
    return Math.min(rows.length, greater + Math.max(0, c.offset));
  };
  const cursorAt = (index: number, isPrev: boolean): Cursor => {
    if (index >= rows.length) {
      // Past the end: point just below the last key so new older rows would show up.
      const last = rows[rows.length - 1];
      return last
        ? { value: key(last), offset: index - firstIndexOfKey(key(last)), isPrev }
        : { value: 0, offset: 0, isPrev };
    }
    const value = key(rows[index]);
    return { value, offset: index - firstIndexOfKey(value), isPrev };
  };
  const firstIndexOfKey = (value: number): number => {
    let i = 0;
    while (i < rows.length && key(rows[i]) > value) i++;
    return i;
  };

  let start: number;
  let end: number;
  if (!cursor) [start, end] = [0, Math.min(perPage, rows.length)];
  else if (cursor.isPrev) {
    end = positionOf(cursor);
    start = Math.max(0, end - perPage);
  } else {
    start = positionOf(cursor);
    end = Math.min(rows.length, start + perPage);
  }
  return {
    items: rows.slice(start, end),
    prev: { ...cursorAt(start, true), hasResults: start > 0 },
    next: { ...cursorAt(end, false), hasResults: end < rows.length },
  };
}

/** `<url>; rel="previous"; results="false"; cursor="…", <url>; rel="next"; results="true"; cursor="…"` */
export function linkHeader(requestUrl: URL, page: Page<unknown>): string {
  const link = (c: Cursor & { hasResults: boolean }, rel: string) => {
    const params = new URLSearchParams(requestUrl.search);
    params.delete('cursor');
    const query = params.toString();
    // Sentry appends the cursor unencoded after the other parameters.
    const url = `${requestUrl.origin}${requestUrl.pathname}?${query ? `${query}&` : '&'}cursor=${formatCursor(c)}`;
    return `<${url}>; rel="${rel}"; results="${c.hasResults}"; cursor="${formatCursor(c)}"`;
  };
  return `${link(page.prev, 'previous')}, ${link(page.next, 'next')}`;
}

export const MAX_PER_PAGE = 100;

/** Sentry rejects (rather than clamps) `per_page` above the maximum. */
export function parsePerPage(raw: string | null): number {
  if (raw === null || raw === '') return MAX_PER_PAGE;
  if (!/^\d+$/.test(raw)) throw new BadRequest('Invalid per_page parameter.');
  const n = Number(raw);
  if (n > MAX_PER_PAGE) throw new BadRequest(`Invalid per_page value. Cannot exceed ${MAX_PER_PAGE}.`);
  if (n < 1) throw new BadRequest('Invalid per_page parameter.');
  return n;
}
