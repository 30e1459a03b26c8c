import { z } from 'zod';
import { getReleaseContext, type ReleaseContext } from '../../memory/context/release-context.js';
import { clip } from '../../text.js';
import type { Section } from '../budget.js';
import { askForMoreTokens, at, count, defineTool, fitAnswer, maxTokensInput, truncationOutput } from '../tool.js';

const impacted = z.array(
  z.object({
    id: z.string(),
    shortId: z.string().nullable(),
    title: z.string().nullable(),
    perHourBefore: z.number(),
    perHourAfter: z.number(),
  }),
);

const transition = z.object({
  occurredAt: z.string(),
  issueId: z.string().nullable(),
  shortId: z.string().nullable(),
  summary: z.string(),
});

export const releaseContextTool = defineTool({
  name: 'get_release_context',
  title: 'Release context',
  description: [
    'One release by version: where and when it was deployed, the issues first seen in it (biggest first), regressions after its',
    'deploys (until the next release of its projects), issues resolved in it, and its commits. Per deploy, the issues',
    'that got worse, appeared, got better or went quiet in the 24 h after it.',
    'Use it for "what did release X break" or "which release introduced this".',
  ].join(' '),
  inputSchema: {
    version: z
      .string()
      .min(1)
      .describe('Release version, e.g. checkout-api@2.14.0 (a short version like 2.14.0 works when unambiguous)'),
    maxTokens: maxTokensInput,
  },
  outputSchema: {
    version: z.string(),
    shortVersion: z.string().nullable(),
    projects: z.array(z.string()),
    createdAt: z.string().nullable(),
    releasedAt: z.string().nullable(),
    commitCount: z.number().nullable(),
    deploys: z.array(
      z.object({
        id: z.string(),
        environment: z.string(),
        startedAt: z.string().nullable(),
        finishedAt: z.string().nullable(),
        url: z.string().nullable(),
        effects: z
          .object({ worse: impacted, appeared: impacted, better: impacted, gone: impacted })
          .nullable()
          .describe('Issues of its projects by how their events per hour changed in the 24 h after it'),
      }),
    ),
    nextRelease: z.object({ version: z.string(), createdAt: z.string().nullable() }).nullable(),
    newIssues: z.object({
      total: z.number(),
      top: z.array(
        z.object({
          id: z.string(),
          shortId: z.string().nullable(),
          title: z.string().nullable(),
          project: z.string().nullable(),
          status: z.string().nullable(),
          count: z.number().nullable(),
          userCount: z.number().nullable(),
          firstSeen: z.string().nullable(),
        }),
      ),
    }),
    regressions: z.array(transition),
    resolved: z.array(transition),
    commits: z.array(
      z.object({
        id: z.string(),
        message: z.string().nullable(),
        author: z.string().nullable(),
        files: z.array(z.string()),
      }),
    ),
    truncated: truncationOutput,
  },
  async run(ctx, input) {
    const release = await getReleaseContext(ctx.db, ctx.workspaceId, input.version, ctx.now());
    const { markdown, keep, truncated } = fitAnswer(
      releaseHead(release),
      releaseSections(release),
      input.maxTokens,
      askForMoreTokens,
    );
    return {
      markdown,
      structured: {
        ...release,
        deploys: keep('deploys', release.deploys),
        newIssues: { total: release.newIssues.total, top: keep('new issues', release.newIssues.top) },
        regressions: keep('regressions', release.regressions),
        resolved: keep('resolved', release.resolved),
        commits: keep('commits', release.commits),
        truncated,
      },
    };
  },
});

function releaseHead(r: ReleaseContext): string[] {
  return [
    `## Release ${r.version}`,
    `- **Projects:** ${r.projects.join(', ') || '?'} · created ${at(r.createdAt)} · released ${at(r.releasedAt)} · ${count(r.commitCount)} commits`,
    `- **New issues:** ${count(r.newIssues.total)} · **regressions after deploy:** ${r.regressions.length} · **resolved in it:** ${r.resolved.length}`,
    `- **Next release:** ${r.nextRelease ? `${r.nextRelease.version} (${at(r.nextRelease.createdAt)})` : 'none yet'}`,
  ];
}

function releaseSections(r: ReleaseContext): Section[] {
  const event = (t: ReleaseContext['regressions'][number]) =>
    `- ${at(t.occurredAt)} ${t.summary}${t.issueId ? ` — id ${t.issueId}` : ''}`;
  return [
    {
      key: 'deploys',
      heading: 'Deploys',
      priority: 1,
      lines: r.deploys.map((d) => `- ${d.environment}: finished ${at(d.finishedAt)}${d.url ? ` (${d.url})` : ''}`),
    },
    {
      key: 'after each deploy',
      heading: 'After each deploy (events per hour, 24 h before → after)',
      priority: 2,
      whole: true,
      lines: r.deploys.flatMap((d) => impactLines(d)),
    },
    {
      key: 'new issues',
      heading: `New issues first seen in it (${count(r.newIssues.total)}, biggest first)`,
      priority: 3,
      lines: r.newIssues.top.map(
        (i) =>
          `- **${i.shortId ?? i.id}** ${clip(i.title ?? '', 120)} — ${i.status ?? '?'}, ${count(i.count)} events, ${count(i.userCount)} users — id ${i.id}`,
      ),
    },
    { key: 'regressions', heading: 'Regressions after its deploys', priority: 4, lines: r.regressions.map(event) },
    { key: 'resolved', heading: 'Resolved in it', priority: 5, lines: r.resolved.map(event) },
    {
      key: 'commits',
      heading: 'Commits',
      priority: 6,
      lines: r.commits.map(
        (c) =>
          `- ${c.id.slice(0, 12)} "${clip(c.message ?? '', 100)}" by ${c.author ?? '?'}${c.files.length ? ` (${c.files.join(', ')})` : ''}`,
      ),
    },
  ];
}

const IMPACT_WORDS = { worse: 'worse', appeared: 'appeared', better: 'better', gone: 'went quiet' } as const;
/** Issues named per kind of change in the answer's text; the structured answer has up to ten. */
const SHOWN_PER_KIND = 3;

function impactLines(d: ReleaseContext['deploys'][number]): string[] {
  if (!d.effects) return [];
  const kinds = (Object.keys(IMPACT_WORDS) as (keyof typeof IMPACT_WORDS)[]).filter((k) => d.effects![k].length);
  if (!kinds.length) return [`- ${d.environment}: no issue changed`];
  return kinds.map((kind) => {
    const list = d.effects![kind];
    const named = list
      .slice(0, SHOWN_PER_KIND)
      .map((i) => `${i.shortId ?? i.id} (${i.perHourBefore}/h → ${i.perHourAfter}/h)`)
      .join(', ');
    return `- ${d.environment}, ${IMPACT_WORDS[kind]}: ${named}${list.length > SHOWN_PER_KIND ? ` and ${list.length - SHOWN_PER_KIND} more` : ''}`;
  });
}
