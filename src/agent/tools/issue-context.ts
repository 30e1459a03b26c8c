import { z } from 'zod';
import { getIssueContext, type IssueContext } from '../../memory/context/issue-context.js';
import { clip } from '../../text.js';
import type { Section } from '../budget.js';
import {
  askForMoreTokens,
  at,
  count,
  defineTool,
  fitAnswer,
  maxTokensInputOf,
  timeArg,
  timeInput,
  truncationOutput,
} from '../tool.js';
import { affectedSection } from './issue-tags.js';
import { relatedIssueSchema, seenBeforeSection } from './related-issues.js';

const nullableString = z.string().nullable();
/** An issue's default answer: the head and the most telling sections, small enough to ask about several issues. */
export const ISSUE_CONTEXT_TOKENS = 1500;

export const issueContextTool = defineTool({
  name: 'get_issue_context',
  title: 'Issue context',
  description: [
    'Everything known about one Sentry issue, most important first: what it is (type, message, culprit, top in-app frames),',
    'how bad (events, users, who is affected) and whether it is getting worse (rising, falling, steady, quiet: the last 24 h vs',
    'the day before), whether each recent deploy made it worse, better or gone, since when and in which release, status',
    'history, assignee and team, comments, alerts,',
    'Seer root cause / solution / PR, suspect deploys (of its project shortly before it appeared or regressed) and suspect commits',
    '(of its first or regression release, touching files in its frames), and issues seen before (find_related_issues) with how',
    'they were resolved. Never returns full stack traces.',
    'With asOf: status, assignee, priority, counts and comments as they were at that time.',
  ].join(' '),
  inputSchema: {
    issue: z.string().min(1).describe('Issue id (6507376925), short id (CHECKOUT-API-7) or Sentry issue URL'),
    asOf: timeInput('The issue as it was at this time'),
    maxTokens: maxTokensInputOf(ISSUE_CONTEXT_TOKENS),
  },
  outputSchema: {
    id: z.string(),
    shortId: nullableString,
    title: nullableString,
    type: nullableString,
    errorType: nullableString,
    message: nullableString,
    culprit: nullableString,
    level: nullableString,
    platform: nullableString,
    priority: nullableString,
    project: nullableString,
    permalink: nullableString,
    status: nullableString,
    substatus: nullableString,
    count: z.number().nullable(),
    userCount: z.number().nullable(),
    trend: z
      .object({
        direction: z.enum(['new', 'rising', 'falling', 'steady', 'quiet']),
        last24h: z.number().nullable(),
        previous24h: z.number().nullable(),
        last7d: z.number().nullable(),
        previous7d: z.number().nullable(),
        quietSince: nullableString,
        series: z.array(z.number()).describe('Events per UTC day, oldest first, today last'),
        summary: z.string(),
      })
      .describe('Event rate: the last 24 h vs the 24 h before, the last 7 days vs the 7 before'),
    firstSeen: nullableString,
    lastSeen: nullableString,
    firstRelease: nullableString,
    lastRelease: nullableString,
    assignee: z
      .object({
        type: z.enum(['user', 'team']),
        id: z.string(),
        name: nullableString,
        email: nullableString,
        teams: z.array(z.string()),
      })
      .nullable(),
    topFrames: z.array(z.object({ function: nullableString, filename: nullableString, lineNo: z.number().nullable() })),
    latestEvent: z
      .object({ id: z.string(), occurredAt: z.string(), release: nullableString, environment: nullableString })
      .nullable(),
    environments: z.array(z.string()),
    affected: z
      .array(z.object({ key: z.string(), value: z.string(), share: z.number(), projectShare: z.number().nullable() }))
      .describe('Who is affected: tag values most events share, or far above the project’s usual mix'),
    seenBefore: z
      .array(relatedIssueSchema)
      .describe('Issues most like this one (find_related_issues), with how resolved ones were resolved'),
    statusHistory: z.array(
      z.object({ type: z.string(), occurredAt: z.string(), summary: z.string(), release: nullableString }),
    ),
    comments: z.array(
      z.object({ id: z.string(), author: nullableString, createdAt: nullableString, text: z.string() }),
    ),
    alerts: z.array(
      z.object({ id: z.string(), source: z.string(), title: z.string(), state: z.string(), startedAt: nullableString }),
    ),
    seer: z.array(
      z.object({
        stage: z.string(),
        state: z.string(),
        summary: nullableString,
        at: z.string(),
        details: z.unknown().describe('What Seer found: steps, files, pull requests'),
      }),
    ),
    suspectDeploys: z.array(
      z.object({
        id: z.string(),
        release: z.string(),
        environment: z.string(),
        finishedAt: z.string(),
        hoursBefore: z.number(),
        before: z.string(),
      }),
    ),
    suspectCommits: z.array(
      z.object({
        id: z.string(),
        release: z.string(),
        message: nullableString,
        author: nullableString,
        files: z.array(z.string()),
        reason: z.string(),
      }),
    ),
    deploys: z
      .array(
        z.object({
          release: z.string(),
          environment: z.string(),
          finishedAt: z.string(),
          perHourBefore: z.number(),
          perHourAfter: z.number(),
          verdict: z.enum(['worse', 'better', 'gone', 'unchanged']),
        }),
      )
      .describe('Its events per hour in the 24 h before vs after each recent deploy of its project, newest first'),
    asOf: z
      .object({ at: z.string(), knownFrom: nullableString.describe('Earliest time the history holds') })
      .nullable()
      .describe('Set when the answer is of a past time'),
    truncated: truncationOutput,
  },
  async run(ctx, input) {
    const now = ctx.now();
    const issue = await getIssueContext(ctx.db, ctx.workspaceId, input.issue, now, {
      asOf: timeArg('asOf', input.asOf, now),
    });
    // The project id is for programs (MemoryStore.issue); agents know the project by its slug.
    const { projectId: _projectId, ...shown } = issue;
    const sections = issueSections(issue);
    const { markdown, keep, truncated } = fitAnswer(
      issueHead(issue),
      sections,
      input.maxTokens ?? ISSUE_CONTEXT_TOKENS,
      askForMoreTokens,
    );
    return {
      markdown,
      structured: {
        ...shown,
        topFrames: keep('frames', issue.topFrames),
        affected: keep('who is affected', issue.affected),
        seenBefore: keep('seen before', issue.seenBefore),
        seer: keep('seer', issue.seer),
        suspectCommits: keep('suspect commits', issue.suspectCommits),
        suspectDeploys: keep('suspect deploys', issue.suspectDeploys),
        deploys: keep('before and after deploys', issue.deploys),
        statusHistory: keep('status changes', [...issue.statusHistory].reverse()),
        alerts: keep('alerts', issue.alerts),
        comments: keep('comments', issue.comments),
        truncated,
      },
    };
  },
});

/** Sections as the budget names them in "left out" notes. */
type SectionKey =
  | 'frames'
  | 'who is affected'
  | 'seen before'
  | 'seer'
  | 'suspect commits'
  | 'suspect deploys'
  | 'before and after deploys'
  | 'status changes'
  | 'alerts'
  | 'comments';

export function issueHead(issue: IssueContext): string[] {
  const status = `${issue.status ?? 'unknown'}${issue.substatus ? ` (${issue.substatus.replaceAll('_', ' ')})` : ''}`;
  const assignee = issue.assignee
    ? `${issue.assignee.name ?? issue.assignee.email ?? issue.assignee.id} (${issue.assignee.type}${issue.assignee.teams.length ? `; teams: ${issue.assignee.teams.join(', ')}` : ''})`
    : 'nobody';
  const lines = [
    `## ${issue.shortId ?? issue.id}: ${issue.title ?? '(untitled)'}`,
    ...(issue.asOf
      ? [
          `- **As of ${at(issue.asOf.at)}**${issue.asOf.knownFrom && issue.asOf.knownFrom > issue.asOf.at ? ` (history recorded from ${at(issue.asOf.knownFrom)}: earlier status reads as an issue's start)` : ''}: status, assignee, priority, counts and comments as they were then`,
        ]
      : []),
    `- **Status:** ${status} · **level** ${issue.level ?? '?'} · **type** ${issue.type ?? '?'} · **project** ${issue.project ?? '?'} · id ${issue.id}`,
    `- **Impact:** ${count(issue.count)} events, ${count(issue.userCount)} users · trend ${trendLine(issue.trend)}`,
    `- **Seen:** first ${at(issue.firstSeen)}${issue.firstRelease ? ` in ${issue.firstRelease}` : ''} · last ${at(issue.lastSeen)}${issue.lastRelease ? ` in ${issue.lastRelease}` : ''}${issue.environments.length ? ` · envs: ${issue.environments.join(', ')}` : ''}`,
  ];
  if (issue.errorType || issue.message)
    lines.push(`- **Error:** ${[issue.errorType, clip(issue.message ?? '', 300)].filter(Boolean).join(': ')}`);
  if (issue.culprit) lines.push(`- **Culprit:** ${issue.culprit}`);
  lines.push(`- **Assignee:** ${assignee}`);
  if (issue.permalink) lines.push(`- **Link:** ${issue.permalink}`);
  return lines;
}

function trendLine(trend: IssueContext['trend']): string {
  const week =
    trend.last7d !== null && trend.direction !== 'quiet' && (trend.last7d || trend.previous7d)
      ? ` · 7 d: ${count(trend.last7d)} (${count(trend.previous7d)} the week before)`
      : '';
  return `**${trend.direction}**, ${trend.summary}${week}`;
}

const VERDICT_WORDS: Record<IssueContext['deploys'][number]['verdict'], string> = {
  worse: '**worse**',
  better: '**better**',
  gone: '**gone**',
  unchanged: 'unchanged',
};

function issueSections(issue: IssueContext): (Section & { key: SectionKey })[] {
  return [
    affectedSection(issue),
    {
      key: 'before and after deploys',
      heading: 'Before and after deploys (events per hour, newest first)',
      priority: 2,
      whole: true,
      lines: issue.deploys.map(
        (d) =>
          `- ${d.release} to ${d.environment} (${at(d.finishedAt)}): ${d.perHourBefore}/h → ${d.perHourAfter}/h, ${VERDICT_WORDS[d.verdict]}`,
      ),
    },
    {
      key: 'frames',
      heading: 'Top in-app frames',
      priority: 1,
      lines: issue.topFrames.map(
        (f) => `- \`${f.function ?? '?'}\` in ${f.filename ?? '?'}${f.lineNo ? `:${f.lineNo}` : ''}`,
      ),
    },
    seenBeforeSection(issue),
    {
      key: 'seer',
      heading: 'Seer',
      priority: 2,
      lines: issue.seer.map(
        (s) =>
          `- ${s.stage.replaceAll('_', ' ')} (${s.state}, ${at(s.at)})${s.summary ? `: ${clip(s.summary, 400)}` : ''}`,
      ),
    },
    {
      key: 'suspect commits',
      heading: 'Suspect commits',
      priority: 3,
      lines: issue.suspectCommits.map(
        (c) =>
          `- ${c.id.slice(0, 12)} "${clip(c.message ?? '', 100)}" by ${c.author ?? '?'} in ${c.release} (${c.reason}); touches ${c.files.join(', ')}`,
      ),
    },
    {
      key: 'suspect deploys',
      heading: 'Suspect deploys',
      priority: 4,
      lines: issue.suspectDeploys.map(
        (d) =>
          `- ${d.release} to ${d.environment}, finished ${at(d.finishedAt)} — ${d.hoursBefore} h before ${d.before}`,
      ),
    },
    {
      key: 'status changes',
      heading: 'Status history (newest first)',
      priority: 5,
      lines: [...issue.statusHistory].reverse().map((h) => `- ${at(h.occurredAt)} ${h.summary}`),
    },
    {
      key: 'alerts',
      heading: 'Alerts',
      priority: 6,
      lines: issue.alerts.map((a) => `- ${at(a.startedAt)} "${a.title}" (${a.source.replace('_', ' ')}, ${a.state})`),
    },
    {
      key: 'comments',
      heading: 'Comments (newest first)',
      priority: 7,
      lines: issue.comments.map((c) => `- ${at(c.createdAt)} ${c.author ?? 'someone'}: ${clip(c.text, 300)}`),
    },
  ];
}
