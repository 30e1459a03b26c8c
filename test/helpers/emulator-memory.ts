import { issueTagSchema, issueTagValueSchema } from '../../src/sentry/api/schemas.js';
import { issueTagCounts } from '../../src/sentry/emulator/tags.js';
import { serializeTag, serializeValue } from '../../src/sentry/emulator/routes/tag-routes.js';
import { mapApiIssueTags } from '../../src/sentry/mapping/issue-tags.js';
import {
  mapApiCommit,
  mapApiDeploy,
  mapApiIssue,
  mapApiMember,
  mapApiProject,
  mapApiRelease,
  mapApiTeam,
} from '../../src/sentry/mapping/api.js';
import type { MemoryRecord } from '../../src/memory/records.js';
import type { EmulatorData } from '../../src/sentry/emulator/index.js';
import { seedOrganization } from '../../src/sentry/emulator/seed.js';
import {
  newGroupsByRelease,
  serializeActivity,
  serializeCommit,
  serializeCommitFile,
  serializeDeploy,
  serializeEvent,
  serializeIssue,
  serializeMember,
  serializeProject,
  serializeRelease,
  serializeTeam,
} from '../../src/sentry/emulator/serialize.js';
import { Store } from '../../src/sentry/emulator/store.js';

/** Fixed end of the seeded history, so answers (ages, trends, windows) are the same on every run. */
export const EPOCH = Date.parse('2026-11-20T00:00:00.000Z');
export const BASE_URL = 'https://sentry.emulator.test';

/** A seeded emulator organization, as the emulator serves it (no HTTP needed). */
export function seededOrganization(
  options: { seed?: number; projects?: number; issues?: number; related?: boolean } = {},
): {
  data: EmulatorData;
  store: Store;
} {
  const { data } = seedOrganization({
    seed: options.seed ?? 7,
    projects: options.projects ?? 4,
    issues: options.issues ?? 300,
    related: options.related,
    epoch: EPOCH,
  });
  return { data, store: new Store(data) };
}

/**
 * The organization as memory records: every object is rendered in Sentry's API shape by the
 * emulator's serializers and mapped by the same mappers the sync uses (issue + latest event + activity).
 */
export function emulatorRecords(store: Store, syncedAt = new Date(EPOCH).toISOString()): MemoryRecord[] {
  const { data } = store;
  const records: MemoryRecord[] = [];
  for (const project of data.projects) records.push(mapApiProject(serializeProject(project, store)));
  for (const team of data.teams) records.push(mapApiTeam(serializeTeam(team)));
  for (const member of data.members) {
    const record = mapApiMember(serializeMember(member, store.user(member.userId)!));
    if (record) records.push(record);
  }
  for (const env of data.environments) records.push({ kind: 'environment', name: env.name });
  const newGroups = newGroupsByRelease(store);
  for (const release of data.releases) {
    const json = serializeRelease(release, store, newGroups.get(release.version) ?? 0);
    const mapped = mapApiRelease(json);
    records.push(mapped);
    for (const deploy of release.deploys)
      records.push(...mapApiDeploy(serializeDeploy(deploy), release.version, mapped.projects));
    for (const commit of release.commits) {
      records.push(
        mapApiCommit(
          serializeCommit(commit, store),
          release.version,
          commit.files.map((f) => serializeCommitFile(f, commit, store)),
        ),
      );
    }
  }
  for (const issue of data.issues) {
    const latest = issue.events[issue.events.length - 1];
    records.push(
      ...mapApiIssue(serializeIssue(issue, store, { baseUrl: BASE_URL, now: EPOCH, detailed: true }), syncedAt, {
        event: latest ? serializeEvent(latest, issue, store) : null,
        activities: issue.activity.map((a) => serializeActivity(a, store)),
      }),
    );
    records.push(issueTagsRecord(issue, syncedAt));
  }
  return records;
}

/** The issue's tags as a sync reads them: the keys with their top values, and every value of each key. */
export function issueTagsRecord(issue: EmulatorData['issues'][number], syncedAt: string): MemoryRecord {
  const tags = issueTagCounts(issue);
  return mapApiIssueTags(
    issue.id,
    tags.map((t) => issueTagSchema.parse(serializeTag(t))),
    new Map(tags.map((t) => [t.key, t.values.map((v) => issueTagValueSchema.parse(serializeValue(t.key, v)))])),
    syncedAt,
  );
}
