import { Command } from 'commander';
import { loadConfig } from '../config.js';
import { MemoryStore } from '../memory/store.js';
import { dbOption, jsonOption, parseSince, printJson } from './options.js';

export function searchCommand(): Command {
  return new Command('search')
    .description('full-text search over issues, comments and the timeline')
    .argument('<text>', 'words to search for')
    .option('--project <slug>', 'only this project')
    .option('--status <status>', 'only issues with this status (unresolved, resolved, ignored)')
    .option('--since <when>', 'only what happened since, e.g. 7d, 12h or an ISO date')
    .option('--limit <n>', 'how many results', '20')
    .addOption(dbOption())
    .addOption(jsonOption())
    .action((text: string, flags) => {
      const config = loadConfig(flags);
      const store = new MemoryStore(config.dbPath);
      try {
        const hits = store.search(config.workspaceId, {
          text,
          project: flags.project,
          status: flags.status,
          since: flags.since ? parseSince(flags.since) : undefined,
          limit: Number(flags.limit),
        });
        if (flags.json) return printJson(hits);
        if (!hits.length) return console.log(`No results for "${text}".`);
        for (const hit of hits) {
          const where = [hit.shortId ?? hit.issueId, hit.project, hit.status].filter(Boolean).join(' · ');
          console.log(`${hit.kind.padEnd(11)} ${hit.occurredAt?.slice(0, 16) ?? '—'.padEnd(16)}  ${hit.title}${where ? `  [${where}]` : ''}`);
        }
      } finally {
        store.close();
      }
    });
}
