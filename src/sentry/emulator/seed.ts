import {
  COMMENT_TEXTS,
  COMMIT_SUBJECTS,
  COMMIT_VERBS,
  ENVIRONMENTS,
  ERROR_TEMPLATES,
  FIRST_NAMES,
  HTTP_STATUSES,
  LAST_NAMES,
  PROJECT_BLUEPRINTS,
  PROPERTY_NAMES,
  TEAM_SLUGS,
  type ErrorTemplate,
  type Runtime,
} from './catalog.js';
import { newEvent } from './events.js';
import { shapeTagDistributions } from './tags.js';
import { shapeEventTrends } from './trends.js';
import type {
  ActivityRecord,
  CommitRecord,
  DeployRecord,
  EmulatorData,
  IssueRecord,
  IssueStatus,
  IssueSubstatus,
  MemberRecord,
  ProjectRecord,
  ReleaseRecord,
  TeamRecord,
  UserRecord,
} from './model.js';
import { Prng } from './prng.js';
import { seedRelatedIssues } from './related.js';
import { buildStack, culpritFor } from './stack.js';

export interface SeedOptions {
  seed: number;
  projects: number;
  issues: number;
  /** The seeded history ends here (ms). */
  epoch: number;
  /**
   * Adds, after the `issues` others, families of issues that are the same problem seen again and
   * look-alikes that are not (see related.ts). Needs two projects.
   */
  related?: boolean;
}

const DAY = 86_400_000;
const HISTORY_DAYS = 120;

const iso = (ms: number): string => new Date(ms).toISOString();

export interface SeededOrganization {
  data: EmulatorData;
  /** Continues the id sequences, so issues and notes created later get ids after the seeded ones. */
  ids: IdSequences;
}

/** Builds the whole organization. Pure: same options, same data. */
export function seedOrganization(opts: SeedOptions): SeededOrganization {
  const root = new Prng(opts.seed);
  const ids = new IdSequences(root.fork('ids'));
  const { epoch } = opts;

  const organization = { id: ids.bigId(), slug: 'acme', name: 'Acme', dateCreated: iso(epoch - 400 * DAY) };
  const users = seedUsers(root.fork('users'), Math.min(16, Math.max(6, opts.projects * 2)), epoch);
  const teams = seedTeams(root.fork('teams'), ids, users, epoch);
  const members = seedMembers(ids, users, teams);
  const projects = seedProjects(root.fork('projects'), ids, teams, opts.projects, epoch);
  const environments = ENVIRONMENTS.map((name, i) => ({ id: String(i + 1), name }));
  const releases = projects.flatMap((p) => seedReleases(root.fork(`releases:${p.slug}`), ids, p, users, epoch));
  const issues = seedIssues(root.fork('issues'), ids, { projects, releases, users, teams, epoch, total: opts.issues });
  shapeTagDistributions(opts.seed, issues, projects);
  const data = {
    organization,
    users,
    teams,
    members,
    projects,
    environments,
    releases,
    issues,
    trendScenarios: [],
  };
  shapeEventTrends(opts.seed, data, epoch);
  if (opts.related) issues.push(...seedRelatedIssues(root.fork('related'), ids, { projects, releases, users, epoch }));
  return { data, ids };
}

/** Monotonic numeric ids shaped like Sentry's (16-digit project/team ids, 10-digit issue ids). */
export class IdSequences {
  private big = 4_509_000_000_000_000;
  issue = 6_400_000_000;
  activity = 4_630_000_000;
  release = 1_400_000_000;
  private small = 90_000;

  constructor(private readonly rng: Prng) {}

  bigId(): string {
    this.big += this.rng.int(1_000, 900_000);
    return String(this.big);
  }
  nextIssueId(): string {
    this.issue += this.rng.int(1, 40);
    return String(this.issue);
  }
  nextActivityId(): string {
    this.activity += this.rng.int(1, 25);
    return String(this.activity);
  }
  nextReleaseId(): number {
    this.release += this.rng.int(1, 5_000);
    return this.release;
  }
  nextSmallId(): string {
    this.small += this.rng.int(1, 20);
    return String(this.small);
  }
}

function seedUsers(rng: Prng, count: number, epoch: number): UserRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const first = FIRST_NAMES[i % FIRST_NAMES.length];
    const last = LAST_NAMES[(i * 7) % LAST_NAMES.length];
    const email = `${first}.${last}@acme.test`.toLowerCase();
    return {
      id: String(100_001 + i),
      name: `${first} ${last}`,
      email,
      username: email,
      dateJoined: iso(epoch - rng.int(150, 390) * DAY),
    };
  });
}

function seedTeams(rng: Prng, ids: IdSequences, users: UserRecord[], epoch: number): TeamRecord[] {
  return TEAM_SLUGS.map((slug, t) => ({
    id: ids.bigId(),
    slug,
    name: slug,
    dateCreated: iso(epoch - rng.int(200, 390) * DAY),
    // Every user is on at least one team; some are on two.
    memberUserIds: users.filter((_, u) => u % TEAM_SLUGS.length === t || (u * 3 + t) % 5 === 0).map((u) => u.id),
  }));
}

function seedMembers(ids: IdSequences, users: UserRecord[], teams: TeamRecord[]): MemberRecord[] {
  return users.map((user, i) => ({
    id: ids.nextSmallId(),
    userId: user.id,
    orgRole: i === 0 ? 'owner' : i < 3 ? 'manager' : 'member',
    teamSlugs: teams.filter((t) => t.memberUserIds.includes(user.id)).map((t) => t.slug),
    dateCreated: user.dateJoined,
  }));
}

function seedProjects(rng: Prng, ids: IdSequences, teams: TeamRecord[], count: number, epoch: number): ProjectRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const blueprint = PROJECT_BLUEPRINTS[i % PROJECT_BLUEPRINTS.length];
    const round = Math.floor(i / PROJECT_BLUEPRINTS.length);
    const slug = round === 0 ? blueprint.slug : `${blueprint.slug}-${round + 1}`;
    const team = teams.find((t) => t.slug === blueprint.teamSlug) ?? teams[0];
    return {
      id: ids.bigId(),
      slug,
      name: slug,
      platform: blueprint.platform,
      runtime: blueprint.runtime,
      teamId: team.id,
      dateCreated: iso(epoch - rng.int(180, 380) * DAY),
      repository: `acme/${slug}`,
      sourceFiles: blueprint.files.map((f) => f.path),
      lastShortIdNumber: 0,
    };
  });
}

function blueprintFiles(project: ProjectRecord) {
  const blueprint = PROJECT_BLUEPRINTS.find((b) => project.slug === b.slug || project.slug.startsWith(`${b.slug}-`));
  return blueprint?.files ?? PROJECT_BLUEPRINTS[0].files;
}

function seedReleases(
  rng: Prng,
  ids: IdSequences,
  project: ProjectRecord,
  users: UserRecord[],
  epoch: number,
): ReleaseRecord[] {
  const releases: ReleaseRecord[] = [];
  const major = rng.int(1, 4);
  let [minor, patch] = [rng.int(0, 20), 0];
  let previous = epoch - (HISTORY_DAYS + 10) * DAY;
  for (let t = previous + rng.int(1, 6) * DAY; t < epoch - DAY / 2; t += rng.int(5, 11) * DAY + rng.int(0, DAY)) {
    if (rng.chance(0.3)) patch += 1;
    else [minor, patch] = [minor + 1, 0];
    const version = `${project.slug}@${major}.${minor}.${patch}`;
    const commits = seedCommits(rng, project, users, previous, t);
    const dateReleased = t + rng.int(10, 60) * 60_000;
    releases.push({
      id: ids.nextReleaseId(),
      version,
      projectId: project.id,
      ref: commits[commits.length - 1]?.id ?? null,
      dateCreated: iso(t),
      dateReleased: iso(dateReleased),
      commits,
      deploys: seedDeploys(rng, ids, project, version, dateReleased),
    });
    previous = t;
  }
  return releases;
}

function seedCommits(rng: Prng, project: ProjectRecord, users: UserRecord[], from: number, to: number): CommitRecord[] {
  const files = blueprintFiles(project);
  const count = rng.int(1, 4);
  return Array.from({ length: count }, (_, i) => {
    const touched = new Set(Array.from({ length: rng.int(1, 3) }, () => rng.pick(files).path));
    const mainFile = [...touched][0];
    const subject = rng
      .pick(COMMIT_SUBJECTS)
      .replace('{prop}', rng.pick(PROPERTY_NAMES))
      .replace('{file}', mainFile.slice(mainFile.lastIndexOf('/') + 1));
    return {
      id: rng.hex(40),
      message: `${rng.pick(COMMIT_VERBS)} ${subject}`,
      dateCreated: iso(from + ((to - from) * (i + 1)) / (count + 1)),
      authorUserId: rng.pick(users).id,
      repository: project.repository,
      files: [...touched].map((filename) => ({
        id: String(rng.int(1_000_000, 9_999_999)),
        filename,
        type: rng.chance(0.12) ? 'A' : 'M',
      })),
    };
  });
}

function seedDeploys(
  rng: Prng,
  ids: IdSequences,
  project: ProjectRecord,
  version: string,
  releasedAt: number,
): DeployRecord[] {
  const deploys: DeployRecord[] = [];
  let at = releasedAt + rng.int(2, 15) * 60_000;
  for (const environment of rng.chance(0.9) ? ENVIRONMENTS : (['staging'] as const)) {
    const id = ids.nextSmallId();
    const duration = rng.int(60, 600) * 1000;
    deploys.push({
      id,
      environment,
      name: `${version} to ${environment}`,
      url: `https://deploy.acme.test/${project.slug}/${id}`,
      dateStarted: iso(at),
      dateFinished: iso(at + duration),
    });
    at += duration + rng.int(20, 240) * 60_000;
  }
  return deploys;
}

interface IssueContext {
  projects: ProjectRecord[];
  releases: ReleaseRecord[];
  users: UserRecord[];
  teams: TeamRecord[];
  epoch: number;
  total: number;
}

/** The release a project was running at `at` (latest one released by then), if any. */
export function releaseAt(releases: readonly ReleaseRecord[], projectId: string, at: number): ReleaseRecord | null {
  let found: ReleaseRecord | null = null;
  for (const r of releases) {
    if (r.projectId !== projectId || !r.dateReleased || Date.parse(r.dateReleased) > at) continue;
    if (!found || Date.parse(r.dateReleased) > Date.parse(found.dateReleased!)) found = r;
  }
  return found;
}

export function fillTemplate(rng: Prng, template: ErrorTemplate): string {
  return template.value
    .replaceAll('{prop}', rng.pick(PROPERTY_NAMES))
    .replaceAll('{status}', String(rng.pick(HTTP_STATUSES)))
    .replaceAll('{n}', String(rng.int(2, 99)));
}

export interface IssueDraft {
  project: ProjectRecord;
  firstSeen: number;
  template?: ErrorTemplate;
}

/** Sentry renders the per-project counter in Crockford base32: FRONT-END-9, CHECKOUT-API-1A. */
function shortIdSuffix(n: number): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let out = '';
  for (let rest = n; rest > 0; rest = Math.floor(rest / 32)) out = alphabet[rest % 32] + out;
  return out || '0';
}

/** A new issue with a fresh id and short id: no events yet, and its `first_seen` activity. */
export function draftIssue(
  rng: Prng,
  ids: IdSequences,
  draft: IssueDraft,
): { issue: IssueRecord; frames: ReturnType<typeof buildStack>['frames'] } {
  const { project } = draft;
  const template = draft.template ?? rng.pick(ERROR_TEMPLATES[project.runtime as Runtime]);
  const value = fillTemplate(rng, template);
  const stack = buildStack(rng, project.runtime, project.repository, blueprintFiles(project));
  project.lastShortIdNumber += 1;
  const level = template.level;
  const issue: IssueRecord = {
    id: ids.nextIssueId(),
    shortId: `${project.slug.toUpperCase()}-${shortIdSuffix(project.lastShortIdNumber)}`,
    projectId: project.id,
    title: `${template.type}: ${value}`,
    culprit: culpritFor(project.runtime, stack.crashFile, stack.crashFunction),
    level,
    status: 'unresolved',
    substatus: 'new',
    platform: project.runtime === 'browser' || project.runtime === 'node' ? 'javascript' : project.runtime,
    priority: level === 'fatal' ? 'high' : level === 'warning' ? 'low' : 'medium',
    isUnhandled: !template.handled,
    count: 0,
    userCount: 0,
    firstSeen: iso(draft.firstSeen),
    lastSeen: iso(draft.firstSeen),
    firstRelease: null,
    lastRelease: null,
    assignedTo: null,
    metadata: { type: template.type, value, filename: stack.crashFile, function: stack.crashFunction },
    events: [],
    activity: [],
  };
  issue.activity.push({
    id: '0',
    issueId: issue.id,
    type: 'first_seen',
    userId: null,
    data: { priority: issue.priority },
    dateCreated: issue.firstSeen,
  });
  return { issue, frames: stack.frames };
}

function seedIssues(rng: Prng, ids: IdSequences, ctx: IssueContext): IssueRecord[] {
  const { epoch, projects } = ctx;
  // Earlier projects are busier, like a real org's flagship services.
  const weights = projects.map((p, i) => [p, Math.max(1, 6 - i)] as const);
  const firstSeenTimes = Array.from({ length: ctx.total }, () => {
    // Skew towards recent: more issues are young than old.
    const ageDays = HISTORY_DAYS * Math.pow(rng.next(), 1.6);
    return Math.floor(epoch - ageDays * DAY - rng.int(0, 3_600_000));
  }).sort((a, b) => a - b);

  // Issue ids grow with firstSeen, as Sentry's group ids do.
  return firstSeenTimes.map((firstSeen) => {
    const project = rng.weighted(weights);
    const { issue, frames } = draftIssue(rng, ids, { project, firstSeen });
    const lastSeen = firstSeen + Math.floor((epoch - firstSeen) * Math.pow(rng.next(), 0.5));
    issue.lastSeen = iso(lastSeen);
    issue.firstRelease = releaseAt(ctx.releases, project.id, firstSeen)?.version ?? null;
    issue.lastRelease = releaseAt(ctx.releases, project.id, lastSeen)?.version ?? null;
    issue.count = Math.max(1, Math.floor(Math.exp(rng.next() * 8)));
    issue.userCount = Math.max(issue.isUnhandled ? 1 : 0, Math.floor(issue.count * rng.next() * 0.6));

    const eventTimes =
      issue.count === 1
        ? [firstSeen]
        : [firstSeen, ...(issue.count > 5 ? [firstSeen + (lastSeen - firstSeen) / 2] : []), lastSeen];
    issue.events = eventTimes.map((at) =>
      newEvent(rng, {
        issue,
        project,
        frames,
        at,
        release: releaseAt(ctx.releases, project.id, at)?.version ?? null,
        environment: rng.chance(0.8) ? 'production' : 'staging',
      }),
    );

    const activity = (type: string, at: number, userId: string | null, data: Record<string, unknown> = {}) =>
      issue.activity.push({ id: ids.nextActivityId(), issueId: issue.id, type, userId, data, dateCreated: iso(at) });

    const actors = ctx.users;
    const roll = rng.next();
    if (roll < 0.4) issue.assignedTo = { type: 'user', id: rng.pick(actors).id };
    else if (roll < 0.5) issue.assignedTo = { type: 'team', id: rng.pick(ctx.teams).id };
    if (issue.assignedTo) {
      const assignee = issue.assignedTo;
      activity('assigned', Math.min(epoch, firstSeen + rng.int(1, 48) * 3_600_000), rng.pick(actors).id, {
        assignee: assignee.id,
        assigneeType: assignee.type,
      });
    }
    const comments = rng.chance(0.25) ? rng.int(1, 3) : 0;
    for (let i = 0; i < comments; i++) {
      activity('note', firstSeen + (lastSeen - firstSeen) * rng.next(), rng.pick(actors).id, {
        text: rng.pick(COMMENT_TEXTS),
      });
    }

    const [status, substatus] = pickStatus(rng, firstSeen, lastSeen, epoch);
    issue.status = status;
    issue.substatus = substatus;
    const after = lastSeen + Math.floor((epoch - lastSeen) * rng.next());
    if (status === 'resolved') activity('set_resolved', after, rng.pick(actors).id);
    if (status === 'ignored')
      activity('set_ignored', after, rng.pick(actors).id, {
        ignoreUntilEscalating: substatus === 'archived_until_escalating',
      });
    if (substatus === 'regressed') activity('set_regression', lastSeen, null, { version: issue.lastRelease ?? '' });
    issue.activity.sort((a: ActivityRecord, b: ActivityRecord) => a.dateCreated.localeCompare(b.dateCreated));
    return issue;
  });
}

function pickStatus(rng: Prng, firstSeen: number, lastSeen: number, epoch: number): [IssueStatus, IssueSubstatus] {
  const status = rng.weighted<IssueStatus>([
    ['unresolved', 60],
    ['resolved', 25],
    ['ignored', 15],
  ]);
  if (status === 'resolved') return ['resolved', null];
  if (status === 'ignored') {
    return [
      'ignored',
      rng.weighted<IssueSubstatus>([
        ['archived_until_escalating', 6],
        ['archived_forever', 3],
        ['archived_until_condition_met', 1],
      ]),
    ];
  }
  if (epoch - firstSeen < 7 * DAY) return ['unresolved', 'new'];
  if (epoch - lastSeen < 2 * DAY && rng.chance(0.2))
    return ['unresolved', rng.chance(0.5) ? 'regressed' : 'escalating'];
  return ['unresolved', 'ongoing'];
}
