/**
 * Renders model records in the exact JSON shapes of Sentry's REST API (see the fixtures in
 * test/fixtures/sentry/api): string ids where Sentry uses them, numeric ids where it does not,
 * `count` as a string, camelCase frames under `entries[]`, tags as {key, value}.
 */
import { createHash } from 'node:crypto';
import type {
  ActivityRecord,
  Assignee,
  CommitRecord,
  DeployRecord,
  EnvironmentRecord,
  EventRecord,
  FileChangeRecord,
  IssueRecord,
  MemberRecord,
  OrganizationRecord,
  ProjectRecord,
  ReleaseRecord,
  TeamRecord,
  UserRecord,
} from './model.js';
import type { Store } from './store.js';

type Json = Record<string, unknown>;

const TEAM_ACCESS = [
  'event:read',
  'event:write',
  'event:admin',
  'org:read',
  'member:read',
  'project:read',
  'project:write',
  'project:releases',
  'team:read',
  'alerts:read',
];

const INSIGHTS_FLAGS = Object.fromEntries(
  ['Http', 'Db', 'Assets', 'AppStart', 'ScreenLoad', 'Vitals', 'Caches', 'Queues', 'LlmMonitoring'].map((k) => [
    `hasInsights${k}`,
    false,
  ]),
);

export function serializeOrganization(org: OrganizationRecord, baseUrl: string): Json {
  return {
    id: org.id,
    slug: org.slug,
    name: org.name,
    dateCreated: org.dateCreated,
    status: { id: 'active', name: 'active' },
    isEarlyAdopter: false,
    require2FA: false,
    features: ['issue-stream-search-query-builder', 'release-committer-assignees'],
    links: { regionUrl: baseUrl, organizationUrl: `${baseUrl}/organizations/${org.slug}/` },
  };
}

export function serializeUserSummary(user: UserRecord): Json {
  return { id: user.id, name: user.name, email: user.email };
}

export function serializeUser(user: UserRecord): Json {
  return {
    id: user.id,
    name: user.name,
    email: user.email,
    username: user.username,
    avatarUrl: null,
    dateJoined: user.dateJoined,
    isActive: true,
    isManaged: false,
    isStaff: false,
    isSuperuser: false,
    lastLogin: null,
    has2fa: false,
    hasPasswordAuth: true,
    emails: [{ id: user.id, email: user.email, is_verified: true }],
  };
}

export function serializeMember(member: MemberRecord, user: UserRecord): Json {
  return {
    id: member.id,
    email: user.email,
    name: user.name,
    user: serializeUser(user),
    orgRole: member.orgRole,
    role: member.orgRole,
    roleName: member.orgRole[0].toUpperCase() + member.orgRole.slice(1),
    pending: false,
    expired: false,
    flags: {
      'idp:provisioned': false,
      'idp:role-restricted': false,
      'sso:linked': false,
      'sso:invalid': false,
      'member-limit:restricted': false,
      'partnership:restricted': false,
    },
    dateCreated: member.dateCreated,
    inviteStatus: 'approved',
    inviterName: null,
    teams: member.teamSlugs,
    teamRoles: member.teamSlugs.map((teamSlug) => ({ teamSlug, role: null })),
  };
}

export function serializeTeamSummary(team: TeamRecord): Json {
  return { id: team.id, slug: team.slug, name: team.name };
}

export function serializeTeam(team: TeamRecord): Json {
  return {
    id: team.id,
    slug: team.slug,
    name: team.name,
    dateCreated: team.dateCreated,
    isMember: true,
    teamRole: 'admin',
    flags: { 'idp:provisioned': false },
    access: TEAM_ACCESS,
    hasAccess: true,
    isPending: false,
    memberCount: team.memberUserIds.length,
    avatar: { avatarType: 'letter_avatar', avatarUuid: null },
    externalTeams: [],
    projects: [],
  };
}

export function serializeEnvironment(env: EnvironmentRecord): Json {
  return { id: env.id, name: env.name };
}

export function serializeProject(project: ProjectRecord, store: Store): Json {
  const team = store.team(project.teamId);
  const releases = store.data.releases.filter((r) => r.projectId === project.id);
  const latest = releases[releases.length - 1];
  return {
    team: team ? serializeTeamSummary(team) : null,
    teams: team ? [serializeTeamSummary(team)] : [],
    id: project.id,
    name: project.name,
    slug: project.slug,
    isBookmarked: false,
    isMember: true,
    access: TEAM_ACCESS,
    hasAccess: true,
    dateCreated: project.dateCreated,
    environments: store.data.environments.map((e) => e.name),
    eventProcessing: { symbolicationDegraded: false },
    features: ['discard-groups', 'alert-filters', 'similarity-embeddings', 'similarity-indexing', 'similarity-view'],
    firstEvent: project.dateCreated,
    firstTransactionEvent: false,
    hasSessions: false,
    hasProfiles: false,
    hasReplays: false,
    hasFeedbacks: false,
    hasNewFeedbacks: false,
    hasMonitors: false,
    hasMinifiedStackTrace: project.runtime === 'browser',
    ...INSIGHTS_FLAGS,
    platform: project.platform,
    platforms: [project.platform],
    latestRelease: latest ? { version: latest.version } : null,
    hasUserReports: false,
    hasFlags: false,
    latestDeploys: null,
  };
}

export function serializeDeploy(deploy: DeployRecord): Json {
  return {
    id: deploy.id,
    environment: deploy.environment,
    name: deploy.name,
    url: deploy.url,
    dateStarted: deploy.dateStarted,
    dateFinished: deploy.dateFinished,
  };
}

function commitAuthor(commit: CommitRecord, store: Store): Json {
  const user = store.user(commit.authorUserId);
  return user ? { name: user.name, email: user.email } : { name: 'unknown', email: 'unknown@acme.test' };
}

export function serializeCommit(commit: CommitRecord, store: Store): Json {
  return {
    id: commit.id,
    message: commit.message,
    dateCreated: commit.dateCreated,
    pullRequest: null,
    suspectCommitType: '',
    author: commitAuthor(commit, store),
    repository: { name: commit.repository },
  };
}

/** Shape of /releases/{version}/commitfiles/ (Sentry's CommitFileChange serializer). */
export function serializeCommitFile(file: FileChangeRecord, commit: CommitRecord, store: Store): Json {
  return {
    id: file.id,
    orgId: Number(store.data.organization.id),
    author: commitAuthor(commit, store),
    commitMessage: commit.message,
    filename: file.filename,
    type: file.type,
    repoName: commit.repository,
  };
}

/** `newGroups` is the number of issues first seen in each release version. */
export function newGroupsByRelease(store: Store): Map<string, number> {
  const counts = new Map<string, number>();
  for (const issue of store.data.issues) {
    if (issue.firstRelease) counts.set(issue.firstRelease, (counts.get(issue.firstRelease) ?? 0) + 1);
  }
  return counts;
}

export function serializeRelease(release: ReleaseRecord, store: Store, newGroups: number): Json {
  const project = store.project(release.projectId);
  const authors = new Map<string, UserRecord>();
  for (const c of release.commits) {
    const user = store.user(c.authorUserId);
    if (user) authors.set(user.id, user);
  }
  const lastCommit = release.commits[release.commits.length - 1];
  const lastDeploy = release.deploys[release.deploys.length - 1];
  const [, semver = release.version] = release.version.split('@');
  return {
    id: release.id,
    version: release.version,
    status: 'open',
    shortVersion: semver,
    versionInfo: {
      package: release.version.split('@')[0],
      version: { raw: semver },
      description: semver,
      buildHash: null,
    },
    ref: release.ref,
    url: null,
    dateReleased: release.dateReleased,
    dateCreated: release.dateCreated,
    data: {},
    newGroups,
    owner: null,
    commitCount: release.commits.length,
    lastCommit: lastCommit ? serializeCommit(lastCommit, store) : null,
    deployCount: release.deploys.length,
    lastDeploy: lastDeploy ? serializeDeploy(lastDeploy) : null,
    authors: [...authors.values()].map(serializeUser),
    projects: [
      {
        id: Number(project.id),
        slug: project.slug,
        name: project.name,
        newGroups,
        platform: project.platform,
        platforms: [project.platform],
        hasHealthData: false,
      },
    ],
    firstEvent: null,
    lastEvent: null,
    currentProjectMeta: {},
    userAgent: null,
  };
}

export function serializeAssignee(assignee: Assignee | null, store: Store): Json | null {
  if (!assignee) return null;
  if (assignee.type === 'team') {
    const team = store.team(assignee.id);
    return { type: 'team', id: assignee.id, name: team?.slug ?? 'unknown' };
  }
  const user = store.user(assignee.id);
  return { type: 'user', id: assignee.id, name: user?.name ?? 'unknown', email: user?.email ?? null };
}

export function serializeActivity(activity: ActivityRecord, store: Store): Json {
  const user = activity.userId ? store.user(activity.userId) : undefined;
  return {
    id: activity.id,
    user: user ? serializeUserSummary(user) : null,
    sentry_app: null,
    type: activity.type,
    data: activity.data,
    dateCreated: activity.dateCreated,
  };
}

/** Hourly (24h) or daily (30d) event-count buckets; the emulator only knows when events happened. */
function statsBuckets(issue: IssueRecord, now: number, bucketMs: number, buckets: number): [number, number][] {
  const end = Math.floor(now / bucketMs) * bucketMs;
  const start = end - (buckets - 1) * bucketMs;
  const series: [number, number][] = Array.from({ length: buckets }, (_, i) => [(start + i * bucketMs) / 1000, 0]);
  for (const event of issue.events) {
    const at = Date.parse(event.dateCreated);
    const idx = Math.floor((at - start) / bucketMs);
    // Sentry counts what it has received: none of a seeded event that is still ahead of the clock.
    if (idx >= 0 && idx < buckets && at <= now) series[idx][1] += 1;
  }
  return series;
}

/** Issues embed a short form of their first/last release. */
function releaseRef(version: string | null, store: Store): Json | null {
  const release = version ? store.findRelease(version) : undefined;
  if (!release) return null;
  return {
    id: release.id,
    version: release.version,
    shortVersion: release.version.split('@')[1] ?? release.version,
    dateCreated: release.dateCreated,
    dateReleased: release.dateReleased,
  };
}

export interface IssueSerializeOptions {
  baseUrl: string;
  now: number;
  /** The details endpoint adds activity, seenBy, participants and 30d stats. */
  detailed?: boolean;
  /** The list's `groupStatsPeriod`: hourly for a day (the default), daily for 14 days, or none. */
  groupStatsPeriod?: '24h' | '14d' | '';
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

function listStats(
  issue: IssueRecord,
  now: number,
  period: IssueSerializeOptions['groupStatsPeriod'],
): Json | undefined {
  if (period === '') return undefined;
  if (period === '14d') return { '14d': statsBuckets(issue, now, DAY_MS, 14) };
  return { '24h': statsBuckets(issue, now, HOUR_MS, 24) };
}

/**
 * The hash Sentry grouped an issue's events by: of its custom fingerprint when it has one (so an
 * issue re-created with the fingerprint of an older one has that one's hash), else one of its own.
 */
export function groupingHash(issue: Pick<IssueRecord, 'id' | 'fingerprint'>): string {
  if (!issue.fingerprint) return issue.id.padStart(32, '0');
  return createHash('md5').update(issue.fingerprint.join('\n')).digest('hex');
}

export function serializeIssue(issue: IssueRecord, store: Store, opts: IssueSerializeOptions): Json {
  const project = store.project(issue.projectId);
  const notes = issue.activity.filter((a) => a.type === 'note').length;
  const base: Json = {
    id: issue.id,
    shareId: null,
    shortId: issue.shortId,
    title: issue.title,
    culprit: issue.culprit,
    permalink: `${opts.baseUrl}/organizations/${store.data.organization.slug}/issues/${issue.id}/`,
    logger: null,
    level: issue.level,
    status: issue.status,
    statusDetails:
      issue.status === 'ignored' && issue.substatus === 'archived_until_escalating'
        ? { ignoreUntilEscalating: true }
        : {},
    substatus: issue.substatus,
    isPublic: false,
    platform: issue.platform,
    project: { id: project.id, name: project.name, slug: project.slug, platform: project.platform },
    type: 'error',
    metadata: { ...issue.metadata, in_app_frame_mix: 'mixed', title: issue.title },
    numComments: notes,
    assignedTo: serializeAssignee(issue.assignedTo, store),
    isBookmarked: false,
    isSubscribed: false,
    subscriptionDetails: null,
    hasSeen: false,
    annotations: [],
    issueType: 'error',
    issueCategory: 'error',
    priority: issue.priority,
    priorityLockedAt: null,
    isUnhandled: issue.isUnhandled,
    count: String(issue.count),
    userCount: issue.userCount,
    firstSeen: issue.firstSeen,
    lastSeen: issue.lastSeen,
    firstRelease: releaseRef(issue.firstRelease, store),
    lastRelease: releaseRef(issue.lastRelease, store),
    stats: listStats(issue, opts.now, opts.groupStatsPeriod),
  };
  if (!opts.detailed) return base;
  return {
    ...base,
    activity: [...issue.activity].reverse().map((a) => serializeActivity(a, store)),
    openPeriods: [],
    seenBy: [],
    pluginActions: [],
    pluginIssues: [],
    pluginContexts: [],
    userReportCount: 0,
    stats: {
      '24h': statsBuckets(issue, opts.now, HOUR_MS, 24),
      '30d': statsBuckets(issue, opts.now, DAY_MS, 30),
    },
    participants: [],
  };
}

function serializeFrame(frame: EventRecord['exception']['frames'][number]): Json {
  return {
    filename: frame.filename,
    absPath: frame.absPath,
    module: frame.module,
    package: null,
    platform: null,
    instructionAddr: null,
    symbolAddr: null,
    function: frame.function,
    rawFunction: null,
    symbol: null,
    context: [],
    lineNo: frame.lineNo,
    colNo: frame.colNo,
    inApp: frame.inApp,
    trust: null,
    errors: null,
    lock: null,
    sourceLink: null,
    vars: null,
  };
}

export function serializeEvent(event: EventRecord, issue: IssueRecord, store: Store): Json {
  const project = store.project(event.projectId);
  const idx = issue.events.indexOf(event);
  const release = event.release ? store.findRelease(event.release) : undefined;
  const stacktrace = {
    frames: event.exception.frames.map(serializeFrame),
    framesOmitted: null,
    registers: null,
    hasSystemFrames: true,
  };
  const entries: Json[] = [
    {
      type: 'exception',
      data: {
        values: [
          {
            type: event.exception.type,
            value: event.exception.value,
            mechanism: { type: event.exception.mechanism, handled: event.exception.handled },
            threadId: null,
            module: null,
            stacktrace,
            rawStacktrace: null,
          },
        ],
        hasSystemFrames: true,
        excOmitted: null,
      },
    },
  ];
  if (event.requestUrl) {
    entries.push({
      type: 'request',
      data: {
        apiTarget: null,
        method: 'POST',
        url: event.requestUrl,
        query: [],
        fragment: null,
        data: null,
        headers: [
          ['Accept', 'application/json'],
          ['User-Agent', 'Mozilla/5.0'],
        ],
        cookies: [],
        env: null,
        inferredContentType: null,
      },
    });
  }
  return {
    id: event.eventId,
    groupID: issue.id,
    eventID: event.eventId,
    projectID: project.id,
    size: 2_048 + event.exception.frames.length * 256,
    entries,
    dist: null,
    message: '',
    title: issue.title,
    location: issue.metadata.filename,
    user: {
      id: event.user.id,
      email: event.user.email,
      username: null,
      ip_address: event.user.ipAddress,
      name: null,
      geo: null,
      data: null,
    },
    contexts: {
      runtime: { name: project.runtime, type: 'runtime' },
      trace: { trace_id: event.eventId, span_id: event.eventId.slice(0, 16), status: 'unknown', type: 'trace' },
    },
    sdk: { name: `sentry.${issue.platform}`, version: '8.0.0' },
    context: {},
    packages: {},
    type: 'error',
    metadata: { ...issue.metadata },
    tags: event.tags,
    platform: issue.platform,
    dateReceived: event.dateCreated,
    errors: [],
    occurrence: null,
    _meta: {},
    crashFile: null,
    culprit: issue.culprit,
    dateCreated: event.dateCreated,
    fingerprints: [groupingHash(issue)],
    groupingConfig: { enhancements: 'emulator', id: 'newstyle:2023-01-11' },
    release: release ? serializeRelease(release, store, 0) : null,
    userReport: null,
    sdkUpdates: [],
    resolvedWith: [],
    nextEventID: issue.events[idx + 1]?.eventId ?? null,
    previousEventID: issue.events[idx - 1]?.eventId ?? null,
  };
}
