import { Command } from 'commander';
import { describeLocation } from '../memory/database.js';
import { getOverview } from '../memory/context/overview.js';
import { Inbox } from '../queue/inbox.js';
import { dbOption, jsonOption, printJson, withStore } from './options.js';
import { systemClock } from '../time.js';

export function statusCommand(): Command {
  return new Command('status')
    .description('how fresh the memory is, connected orgs and projects, inbox counts and records by kind')
    .addOption(dbOption())
    .addOption(jsonOption())
    .action(async (flags) => {
      await withStore(flags, async (store, workspaceId, config) => {
        const inbox = new Inbox(store.db);
        const activity = await inbox.activity(workspaceId);
        const status = {
          db: describeLocation(config.db),
          inbox: activity.counts,
          lastDeliveryAt: activity.lastReceivedAt,
          records: await store.counts(workspaceId),
          problems: await inbox.problems(workspaceId, 10),
          ...(await getOverview(store.db, workspaceId, activity, systemClock())),
        };
        if (flags.json) return printJson(status);
        console.log(`database: ${status.db}`);
        console.log(
          `fresh: ${status.freshness.stale ? 'possibly STALE' : 'yes'} (last update ${status.freshness.lastUpdateAt ?? 'never'}, newest issue activity ${status.freshness.newestIssueActivity ?? 'none'})`,
        );
        for (const c of status.connections)
          console.log(`connection: ${c.source} org ${c.organization ?? '?'} ${c.state}`);
        for (const s of status.freshness.syncs) console.log(`sync: ${s.stream} ${s.updatedAt}`);
        console.log(`projects: ${status.projects.map((p) => `${p.slug ?? '?'} (${p.issues})`).join(' · ') || 'none'}`);
        console.log(
          `inbox: ${Object.entries(status.inbox)
            .map(([k, v]) => `${k} ${v}`)
            .join(' · ')} (last delivery ${status.lastDeliveryAt ?? 'never'})`,
        );
        console.log(
          `records: ${Object.entries(status.records)
            .map(([k, v]) => `${k} ${v}`)
            .join(' · ')}`,
        );
        if (status.problems.length)
          console.log('not in memory (newest first; `inbox show <seq>`, `inbox retry <seq>|--dead`):');
        for (const p of status.problems)
          console.log(`  ${p.state} #${p.seq} ${p.resource}.${p.action ?? '?'}: ${p.last_error ?? ''}`);
      });
    });
}
