import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextCursorFromLink, parseLinkHeader } from '../../src/sentry/api/index.js';

const SENTRY_LINK =
  '<https://sentry.io/api/0/organizations/acme/issues/?cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", ' +
  '<https://sentry.io/api/0/organizations/acme/issues/?cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0"';

describe('parseLinkHeader', () => {
  it('reads both entries of a Sentry Link header', () => {
    const links = parseLinkHeader(SENTRY_LINK);
    expect(links.previous).toEqual({
      url: 'https://sentry.io/api/0/organizations/acme/issues/?cursor=0:0:1',
      rel: 'previous',
      results: false,
      cursor: '0:0:1',
    });
    expect(links.next?.results).toBe(true);
    expect(links.next?.cursor).toBe('0:100:0');
    expect(nextCursorFromLink(SENTRY_LINK)).toBe('0:100:0');
  });

  it('treats a next link with results="false" as the last page', () => {
    const last =
      '<https://sentry.io/x/?cursor=0:100:1>; rel="previous"; results="true"; cursor="0:100:1", ' +
      '<https://sentry.io/x/?cursor=0:200:0>; rel="next"; results="false"; cursor="0:200:0"';
    expect(parseLinkHeader(last).next?.results).toBe(false);
    expect(nextCursorFromLink(last)).toBeNull();
  });

  it('handles missing headers, commas inside URLs and unquoted values', () => {
    expect(parseLinkHeader(null)).toEqual({});
    expect(nextCursorFromLink(undefined)).toBeNull();
    const header = '<https://h/x?field=a,b&y=1>; rel=next; results=true; cursor="1:0:0"';
    expect(parseLinkHeader(header).next).toEqual({
      url: 'https://h/x?field=a,b&y=1',
      rel: 'next',
      results: true,
      cursor: '1:0:0',
    });
  });

  it('round-trips generated cursors, URLs and results flags', () => {
    const cursor = fc.oneof(
      fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 1 })).map(([a, b, c]) => `${a}:${b}:${c}`),
      fc.stringMatching(/^[A-Za-z0-9:._,;= -]{1,30}$/),
    );
    const entry = fc.record({
      cursor,
      results: fc.boolean(),
      query: fc.stringMatching(/^[a-z0-9=&,:;-]{0,20}$/),
    });
    fc.assert(
      fc.property(entry, entry, (previous, next) => {
        const render = (rel: string, e: typeof previous) =>
          `<https://sentry.io/api/0/x/?${e.query}>; rel="${rel}"; results="${e.results}"; cursor="${e.cursor}"`;
        const links = parseLinkHeader(`${render('previous', previous)}, ${render('next', next)}`);
        expect(links.previous?.cursor).toBe(previous.cursor);
        expect(links.next?.cursor).toBe(next.cursor);
        expect(links.next?.url).toBe(`https://sentry.io/api/0/x/?${next.query}`);
        expect(nextCursorFromLink(`${render('previous', previous)}, ${render('next', next)}`)).toBe(
          next.results ? next.cursor : null,
        );
      }),
    );
  });
});
