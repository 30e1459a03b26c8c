import type { z } from 'zod';
import type { Page, Query, SentryApiClient } from './client.js';
import { SentryApiError } from './errors.js';
import {
  activityListSchema,
  commitFileSchema,
  commitSchema,
  deploySchema,
  environmentSchema,
  eventSchema,
  issueSchema,
  issueTagSchema,
  issueTagValueSchema,
  memberSchema,
  organizationSchema,
  projectSchema,
  releaseSchema,
  teamSchema,
  type Activity,
  type Commit,
  type CommitFile,
  type Deploy,
  type Environment,
  type Issue,
  type IssueEvent,
  type IssueTag,
  type IssueTagValue,
  type Member,
  type Organization,
  type Project,
  type Release,
  type Team,
} from './schemas.js';

/** What the endpoint wrappers need from a client. */
export type SentryReader = Pick<SentryApiClient, 'baseUrl' | 'get' | 'paginate'>;
type Pages<T> = AsyncGenerator<Page<T>, void, undefined>;

export type IssueSort = 'date' | 'new' | 'freq' | 'user' | 'trends' | 'inbox';

export interface IssueListParams {
  /**
   * Sentry search syntax. Required on purpose: when it is omitted Sentry applies
   * `is:unresolved` and resolved issues silently disappear. Use '' for all issues.
   */
  query: string;
  /** Relative window such as `14d`; overrides start/end on Sentry's side. */
  statsPeriod?: string;
  /** The `stats` each issue carries: `24h` (hourly, Sentry's default), `14d` (daily), `auto`, or '' for none. */
  groupStatsPeriod?: '' | '24h' | '14d' | 'auto';
  /** ISO-8601 bounds of the window. */
  start?: string;
  end?: string;
  sort?: IssueSort;
  /** Project ids; `-1` means all projects the token can see. */
  project?: ReadonlyArray<string | number>;
  environment?: readonly string[];
  /** Page size. */
  limit?: number;
}

export interface ReleaseListParams {
  project?: ReadonlyArray<string | number>;
  /** Filters by version prefix. */
  query?: string;
}

export async function getOrganization(client: SentryReader, organizationSlug: string): Promise<Organization> {
  const path = `${organizationPath(organizationSlug)}/`;
  return parseItem(client, path, organizationSchema, (await client.get<unknown>(path)).data);
}

export function paginateProjects(
  client: SentryReader,
  organizationSlug: string,
  startCursor?: string | null,
): Pages<Project> {
  return paginateParsed(client, `${organizationPath(organizationSlug)}/projects/`, {}, projectSchema, startCursor);
}

export function paginateTeams(
  client: SentryReader,
  organizationSlug: string,
  startCursor?: string | null,
): Pages<Team> {
  return paginateParsed(client, `${organizationPath(organizationSlug)}/teams/`, {}, teamSchema, startCursor);
}

export function paginateMembers(
  client: SentryReader,
  organizationSlug: string,
  startCursor?: string | null,
): Pages<Member> {
  return paginateParsed(client, `${organizationPath(organizationSlug)}/members/`, {}, memberSchema, startCursor);
}

export function paginateEnvironments(
  client: SentryReader,
  organizationSlug: string,
  startCursor?: string | null,
): Pages<Environment> {
  return paginateParsed(
    client,
    `${organizationPath(organizationSlug)}/environments/`,
    {},
    environmentSchema,
    startCursor,
  );
}

export function paginateIssues(
  client: SentryReader,
  organizationSlug: string,
  params: IssueListParams,
  startCursor?: string | null,
): Pages<Issue> {
  const query: Query = {
    query: params.query,
    statsPeriod: params.statsPeriod,
    groupStatsPeriod: params.groupStatsPeriod,
    start: params.start,
    end: params.end,
    sort: params.sort,
    project: params.project,
    environment: params.environment,
    limit: params.limit,
  };
  return paginateParsed(client, `${organizationPath(organizationSlug)}/issues/`, query, issueSchema, startCursor);
}

/** `recommended` is the event Sentry shows first in its UI; `latest` the newest. */
export async function getIssueEvent(
  client: SentryReader,
  organizationSlug: string,
  issueId: string,
  which: 'latest' | 'recommended',
): Promise<IssueEvent> {
  const path = `${issuePath(organizationSlug, issueId)}/events/${which}/`;
  return parseItem(client, path, eventSchema, (await client.get<unknown>(path)).data);
}

/** Not paginated by Sentry: the full activity log comes in one `{ activity: [...] }` object. */
export async function getIssueActivities(
  client: SentryReader,
  organizationSlug: string,
  issueId: string,
): Promise<Activity[]> {
  const path = `${issuePath(organizationSlug, issueId)}/activities/`;
  return parseItem(client, path, activityListSchema, (await client.get<unknown>(path)).data).activity;
}

/** Every tag key of an issue with its top values (not paginated by Sentry). */
export async function getIssueTags(
  client: SentryReader,
  organizationSlug: string,
  issueId: string,
): Promise<IssueTag[]> {
  const path = `${issuePath(organizationSlug, issueId)}/tags/`;
  const data = (await client.get<unknown>(path)).data;
  return (Array.isArray(data) ? data : [data]).map((item) => parseItem(client, path, issueTagSchema, item));
}

/** The first page of one key's values for an issue, most frequent first: what `topValues` cut off. */
export async function getIssueTagValues(
  client: SentryReader,
  organizationSlug: string,
  issueId: string,
  key: string,
  limit: number,
): Promise<IssueTagValue[]> {
  const path = `${issuePath(organizationSlug, issueId)}/tags/${encodeURIComponent(key)}/values/`;
  const data = (await client.get<unknown>(path, { sort: '-count', per_page: limit })).data;
  return (Array.isArray(data) ? data : []).map((item) => parseItem(client, path, issueTagValueSchema, item));
}

export function paginateReleases(
  client: SentryReader,
  organizationSlug: string,
  params: ReleaseListParams = {},
  startCursor?: string | null,
): Pages<Release> {
  const query: Query = { project: params.project, query: params.query };
  return paginateParsed(client, `${organizationPath(organizationSlug)}/releases/`, query, releaseSchema, startCursor);
}

export function paginateReleaseDeploys(
  client: SentryReader,
  organizationSlug: string,
  version: string,
  startCursor?: string | null,
): Pages<Deploy> {
  return paginateParsed(client, `${releasePath(organizationSlug, version)}/deploys/`, {}, deploySchema, startCursor);
}

export function paginateReleaseCommits(
  client: SentryReader,
  organizationSlug: string,
  version: string,
  startCursor?: string | null,
): Pages<Commit> {
  return paginateParsed(client, `${releasePath(organizationSlug, version)}/commits/`, {}, commitSchema, startCursor);
}

export function paginateReleaseCommitFiles(
  client: SentryReader,
  organizationSlug: string,
  version: string,
  startCursor?: string | null,
): Pages<CommitFile> {
  return paginateParsed(
    client,
    `${releasePath(organizationSlug, version)}/commitfiles/`,
    {},
    commitFileSchema,
    startCursor,
  );
}

function organizationPath(organizationSlug: string): string {
  return `/api/0/organizations/${encodeURIComponent(organizationSlug)}`;
}

function issuePath(organizationSlug: string, issueId: string): string {
  return `${organizationPath(organizationSlug)}/issues/${encodeURIComponent(issueId)}`;
}

/** Release versions are free text (`my-app@1.2.3+build/7`), so they must be escaped. */
function releasePath(organizationSlug: string, version: string): string {
  return `${organizationPath(organizationSlug)}/releases/${encodeURIComponent(version)}`;
}

async function* paginateParsed<S extends z.ZodType>(
  client: SentryReader,
  path: string,
  query: Query,
  schema: S,
  startCursor: string | null | undefined,
): Pages<z.output<S>> {
  for await (const page of client.paginate<unknown>(path, query, startCursor)) {
    yield {
      items: page.items.map((item) => parseItem(client, path, schema, item)),
      nextCursor: page.nextCursor,
    };
  }
}

function parseItem<S extends z.ZodType>(client: SentryReader, path: string, schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new SentryApiError({
    kind: 'invalid_response',
    status: 200,
    url: client.baseUrl + path,
    detail: issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unexpected response shape',
  });
}
