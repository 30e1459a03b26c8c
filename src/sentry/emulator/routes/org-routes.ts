import { json, route, type Route } from '../router.js';
import {
  serializeEnvironment,
  serializeMember,
  serializeOrganization,
  serializeProject,
  serializeTeam,
} from '../serialize.js';
import type { EmulatorState } from '../state.js';
import { forOrg, pagedReply } from './lists.js';

/** Organization, projects, teams, members, environments. */
export function orgRoutes(state: EmulatorState): Route[] {
  const { store } = state;
  const org = () => serializeOrganization(store.data.organization, state.baseUrl);
  return [
    route('GET', '/api/0/organizations/', (ctx) => pagedReply(ctx, [store.data.organization], () => org())),
    route(
      'GET',
      '/api/0/organizations/:org/',
      forOrg(state, () =>
        json({
          ...org(),
          projects: store.data.projects.map((p) => ({ id: p.id, slug: p.slug, name: p.name, platform: p.platform })),
          teams: store.data.teams.map(serializeTeam),
          access: ['org:read', 'member:read', 'project:read', 'event:read', 'team:read'],
        }),
      ),
    ),
    route(
      'GET',
      '/api/0/organizations/:org/projects/',
      forOrg(state, (ctx) => pagedReply(ctx, store.data.projects, (p) => serializeProject(p, store))),
    ),
    route(
      'GET',
      '/api/0/organizations/:org/teams/',
      forOrg(state, (ctx) => pagedReply(ctx, store.data.teams, serializeTeam)),
    ),
    route(
      'GET',
      '/api/0/organizations/:org/members/',
      forOrg(state, (ctx) => pagedReply(ctx, store.data.members, (m) => serializeMember(m, store.user(m.userId)!))),
    ),
    route(
      'GET',
      '/api/0/organizations/:org/environments/',
      forOrg(state, () => json(store.data.environments.map(serializeEnvironment))),
    ),
  ];
}
