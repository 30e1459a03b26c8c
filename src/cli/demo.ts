import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import pino from 'pino';
import { parseToolInput, type AgentTool } from '../agent/tool.js';
import { issueContextTool, searchTool, statusTool, timelineTool } from '../agent/tools/index.js';
import { DEFAULT_WORKSPACE } from '../config.js';
import { describeLocation } from '../memory/database.js';
import { openRuntime } from '../runtime.js';
import { clientFor, ConnectionRepository } from '../sentry/auth/connections.js';
import { startEmulator } from '../sentry/emulator/index.js';
import { SentrySync } from '../sentry/sync/sync.js';
import { buildApp } from '../server/app.js';
import { systemClock } from '../time.js';

/**
 * The whole product on one machine in a few seconds: a local Sentry (the emulator), a connection,
 * a sync, signed webhooks into a running server, then the questions an agent would ask.
 */
export function demoCommand(): Command {
  return new Command('demo')
    .description('run the emulator, connect, sync, replay signed webhooks into serve, and show example answers')
    .option('--issues <n>', 'issues in the emulated organization', '300')
    .option(
      '--db <location>',
      'database to fill: a SQLite file or a postgres:// URL (default: a new temporary SQLite file)',
    )
    .action(async (flags) => {
      const say = (line: string) => process.stdout.write(`${line}\n`);
      const dbPath = flags.db ?? join(mkdtempSync(join(tmpdir(), 'sentry-memory-demo-')), 'memory.db');
      const emulator = await startEmulator({ seed: 1, issues: Number(flags.issues), rateLimit: { perSecond: 200 } });
      say(
        `1. Emulated Sentry at ${emulator.url}: org "${emulator.orgSlug}", ${emulator.data.projects.length} projects, ${emulator.data.issues.length} issues.`,
      );

      const runtime = await openRuntime({ db: dbPath, logger: pino({ level: 'warn' }) });
      const workspaceId = DEFAULT_WORKSPACE;
      try {
        const repository = new ConnectionRepository(runtime.store.db, workspaceId, randomBytes(32));
        const connection = await repository.save({
          orgSlug: emulator.orgSlug,
          apiUrl: emulator.url,
          auth: { kind: 'internal', token: emulator.internalToken },
        });
        const client = clientFor(connection, repository, { now: systemClock });
        const summary = await new SentrySync({
          client,
          organization: connection.orgSlug,
          workspaceId,
          connectionId: connection.id,
          db: runtime.store.db,
          since: new Date(systemClock() - 90 * 86400_000).toISOString(),
          now: systemClock,
        }).run();
        say(
          `2. Synced the last 90 days: ${Object.entries(summary.streams)
            .map(([s, v]) => `${v.items} ${s}`)
            .join(
              ', ',
            )} — ${summary.requests} API requests, ${summary.rateLimited} rate-limited, ${(summary.durationMs / 1000).toFixed(1)} s.`,
        );

        const app = await buildApp({
          runtime,
          workspaceId,
          clientSecrets: [emulator.clientSecret],
          replayToleranceSeconds: 300,
          bodyLimitBytes: 5 * 1024 * 1024,
        });
        const url = await app.listen({ port: 0, host: '127.0.0.1' });
        runtime.startProcessing();
        emulator.webhookUrl = `${url}/webhooks/sentry`;
        const project = emulator.data.projects[0].slug;
        const fresh = await emulator.createIssue({ project });
        await emulator.recordEvent(fresh.id);
        await emulator.assignIssue(fresh.id, { type: 'user', id: emulator.data.members[1].userId });
        await emulator.addComment(fresh.id, 'Started after the last deploy; rolling back while we look.');
        await emulator.triggerIssueAlert(fresh.id);
        const old = emulator.data.issues.find((i) => i.status === 'resolved' && i.projectId === fresh.projectId);
        if (old) await emulator.unresolveIssue(old.id);
        while ((await runtime.inbox.countsByState(workspaceId)).pending > 0)
          await new Promise((r) => setTimeout(r, 20));
        const accepted = emulator.webhookDeliveries.filter((d) => d.status === 200).length;
        say(
          `3. serve acknowledged ${accepted} signed webhooks (issue created, error, assigned, comment, alert${old ? ', regression' : ''}) and processed them.`,
        );
        await app.close();

        const ask = async (title: string, tool: AgentTool<never, never>, input: Record<string, unknown>) => {
          const answer = await tool.run(
            { db: runtime.store.db, workspaceId, now: systemClock },
            parseToolInput(tool, input),
          );
          say(`\n$ ${title}\n${answer.markdown}`);
        };
        await ask(
          `search_memory { query: "${fresh.metadata.type}", project: "${project}", maxTokens: 400 }`,
          searchTool as never,
          { query: fresh.metadata.type, project, maxTokens: 400 },
        );
        await ask(`get_issue_context { issue: "${fresh.shortId}", maxTokens: 600 }`, issueContextTool as never, {
          issue: fresh.shortId,
          maxTokens: 600,
        });
        await ask('get_timeline { since: "1h", maxTokens: 400 }', timelineTool as never, {
          since: '1h',
          maxTokens: 400,
        });
        await ask('get_memory_status { maxTokens: 300 }', statusTool as never, { maxTokens: 300 });
        say(
          `\nMemory is in ${describeLocation(dbPath)}. Try: sentry-memory search "${fresh.metadata.type}" --db ${describeLocation(dbPath)}`,
        );
      } finally {
        await runtime.close();
        await emulator.close();
      }
    });
}
