import { z } from 'zod';
import { getOverview } from '../../memory/context/overview.js';
import { Inbox } from '../../queue/inbox.js';
import { at, count, defineTool, fitAnswer, maxTokensInput, truncationOutput } from '../tool.js';

export const statusTool = defineTool({
  name: 'get_memory_status',
  title: 'Memory status',
  description: [
    'Which Sentry organizations and projects are in memory and how fresh the data is (last webhook, last sync per stream, inbox backlog).',
    'Check it when an answer seems to miss recent events: stale=true means the memory may be behind Sentry.',
  ].join(' '),
  inputSchema: { maxTokens: maxTokensInput },
  outputSchema: {
    connections: z.array(
      z.object({ source: z.string(), organization: z.string().nullable(), state: z.string(), updatedAt: z.string() }),
    ),
    projects: z.array(z.object({ slug: z.string().nullable(), issues: z.number(), lastSeen: z.string().nullable() })),
    freshness: z.object({
      lastWebhookAt: z.string().nullable(),
      inbox: z.object({ pending: z.number(), dead: z.number() }),
      syncs: z.array(z.object({ connection: z.string(), stream: z.string(), updatedAt: z.string() })),
      newestIssueActivity: z.string().nullable(),
      lastUpdateAt: z.string().nullable(),
      stale: z.boolean(),
    }),
    truncated: truncationOutput,
  },
  async run(ctx, input) {
    // Status is a question to both the memory and the inbox.
    const overview = await getOverview(
      ctx.db,
      ctx.workspaceId,
      await new Inbox(ctx.db).activity(ctx.workspaceId),
      ctx.now(),
    );
    const f = overview.freshness;
    const head = [
      '## Memory status',
      `- **Fresh:** ${f.stale ? 'possibly STALE' : 'yes'} · last update ${at(f.lastUpdateAt)} · last webhook ${at(f.lastWebhookAt)} · newest issue activity ${at(f.newestIssueActivity)}`,
      `- **Inbox:** ${count(f.inbox.pending)} pending, ${count(f.inbox.dead)} failed`,
    ];
    const fitted = fitAnswer(
      head,
      [
        {
          key: 'connections',
          heading: 'Connections',
          priority: 1,
          lines: overview.connections.map(
            (c) => `- ${c.source} org ${c.organization ?? '?'}: ${c.state} (${at(c.updatedAt)})`,
          ),
        },
        {
          key: 'projects',
          heading: 'Projects',
          priority: 2,
          lines: overview.projects.map(
            (p) => `- ${p.slug ?? '(unknown project)'}: ${count(p.issues)} issues, last seen ${at(p.lastSeen)}`,
          ),
        },
        {
          key: 'syncs',
          heading: 'Last sync per stream',
          priority: 3,
          lines: f.syncs.map((s) => `- ${s.stream} (${s.connection}): ${at(s.updatedAt)}`),
        },
      ],
      input.maxTokens,
      'Ask again with a larger maxTokens to see them.',
    );
    return {
      markdown: fitted.markdown,
      structured: {
        connections: fitted.keep('connections', overview.connections),
        projects: fitted.keep('projects', overview.projects),
        freshness: { ...f, syncs: fitted.keep('syncs', f.syncs) },
        truncated: fitted.truncated,
      },
    };
  },
});
