import { json, notFound, route, type Route, type RequestContext } from '../router.js';
import {
  newGroupsByRelease,
  serializeCommit,
  serializeCommitFile,
  serializeDeploy,
  serializeRelease,
} from '../serialize.js';
import type { EmulatorState } from '../state.js';
import type { ReleaseRecord } from '../model.js';
import { forOrg, pagedReply, projectFilter } from './lists.js';

/** Releases with their deploys, commits and per-commit file changes. */
export function releaseRoutes(state: EmulatorState): Route[] {
  const { store } = state;
  const withRelease = (fn: (ctx: RequestContext, release: ReleaseRecord) => ReturnType<typeof json>) =>
    forOrg(state, (ctx) => {
      const release = store.findRelease(ctx.params.version);
      return release ? fn(ctx, release) : notFound();
    });

  return [
    route(
      'GET',
      '/api/0/organizations/:org/releases/',
      forOrg(state, (ctx) => {
        const projects = projectFilter(ctx);
        const text = ctx.url.searchParams.get('query')?.toLowerCase() ?? '';
        const rows = store.data.releases
          .filter((r) => (!projects || projects.has(r.projectId)) && r.version.toLowerCase().includes(text))
          .sort((a, b) => b.dateCreated.localeCompare(a.dateCreated) || b.id - a.id);
        const newGroups = newGroupsByRelease(store);
        return pagedReply(ctx, rows, (r) => serializeRelease(r, store, newGroups.get(r.version) ?? 0));
      }),
    ),
    route(
      'GET',
      '/api/0/organizations/:org/releases/:version/',
      withRelease((_ctx, release) =>
        json(serializeRelease(release, store, newGroupsByRelease(store).get(release.version) ?? 0)),
      ),
    ),
    route(
      'GET',
      '/api/0/organizations/:org/releases/:version/deploys/',
      withRelease((ctx, release) => pagedReply(ctx, [...release.deploys].reverse(), serializeDeploy)),
    ),
    route(
      'GET',
      '/api/0/organizations/:org/releases/:version/commits/',
      withRelease((ctx, release) => pagedReply(ctx, [...release.commits].reverse(), (c) => serializeCommit(c, store))),
    ),
    route(
      'GET',
      '/api/0/organizations/:org/releases/:version/commitfiles/',
      withRelease((ctx, release) => {
        const files = release.commits.flatMap((commit) => commit.files.map((file) => ({ commit, file })));
        return pagedReply(ctx, files, ({ commit, file }) => serializeCommitFile(file, commit, store));
      }),
    ),
  ];
}
