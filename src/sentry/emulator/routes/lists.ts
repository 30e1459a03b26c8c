import { BadRequest, linkHeader, paginateOffset, parseCursor, parsePerPage } from '../pagination.js';
import { json, notFound, type Handler, type Reply, type RequestContext } from '../router.js';
import type { EmulatorState } from '../state.js';

/** An offset-paginated list reply with Sentry's Link header. */
export function pagedReply<T>(ctx: RequestContext, rows: readonly T[], render: (row: T) => unknown): Reply {
  const page = paginateOffset(
    rows,
    parsePerPage(ctx.url.searchParams.get('per_page')),
    parseCursor(ctx.url.searchParams.get('cursor')),
  );
  return json(page.items.map(render), 200, { Link: linkHeader(ctx.url, page) });
}

/** Guards org-scoped routes: the `:org` segment must be this org's slug or id. */
export function forOrg(state: EmulatorState, handler: Handler): Handler {
  return (ctx) => {
    const org = state.store.data.organization;
    if (ctx.params.org !== org.slug && ctx.params.org !== org.id) return notFound();
    return handler(ctx);
  };
}

/** `project=1&project=2`; `-1` or nothing means every project. Sentry takes numeric ids only. */
export function projectFilter(ctx: RequestContext): Set<string> | null {
  const values = ctx.url.searchParams.getAll('project').filter((v) => v !== '');
  if (values.some((v) => !/^-?\d+$/.test(v)))
    throw new BadRequest('Invalid project parameter. Values must be numbers.');
  if (values.length === 0 || values.includes('-1')) return null;
  return new Set(values);
}
