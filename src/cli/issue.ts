import { Command } from 'commander';
import { loadConfig } from '../config.js';
import type { IssueView } from '../memory/issue-view.js';
import { MemoryStore } from '../memory/store.js';
import { dbOption, jsonOption, printJson } from './options.js';

export class NotFoundError extends Error {}

function formatIssue(issue: IssueView): string {
  const lines = [
    `${issue.shortId ?? issue.id}  ${issue.title ?? '(untitled)'}`,
    `status: ${issue.status ?? 'unknown'}${issue.substatus ? ` (${issue.substatus})` : ''} · level: ${issue.level ?? '—'} · project: ${issue.project ?? '—'}`,
    `events: ${issue.count ?? '—'} · users: ${issue.userCount ?? '—'} · first seen: ${issue.firstSeen ?? '—'} · last seen: ${issue.lastSeen ?? '—'}`,
    `assignee: ${issue.assignee ? `${issue.assignee.name ?? issue.assignee.id} (${issue.assignee.type})` : 'nobody'}`,
  ];
  if (issue.culprit) lines.push(`culprit: ${issue.culprit}`);
  if (issue.topFrames.length) {
    lines.push('top frames:');
    for (const f of issue.topFrames) lines.push(`  ${f.function ?? '?'} (${f.filename ?? '?'}${f.lineNo ? `:${f.lineNo}` : ''})${f.inApp ? '' : ' [not in app]'}`);
  }
  if (issue.comments.length) {
    lines.push('comments:');
    for (const c of issue.comments) lines.push(`  ${c.createdAt?.slice(0, 16) ?? ''} ${c.author ?? 'someone'}: ${c.text}`);
  }
  if (issue.timeline.length) {
    lines.push('timeline:');
    for (const t of issue.timeline) lines.push(`  ${t.occurredAt.slice(0, 16)} ${t.summary}`);
  }
  return lines.join('\n');
}

export function issueCommand(): Command {
  return new Command('issue')
    .description('one issue with its comments and timeline')
    .argument('<id>', 'issue id or short id, e.g. FRONT-END-9')
    .addOption(dbOption())
    .addOption(jsonOption())
    .action((ref: string, flags) => {
      const config = loadConfig(flags);
      const store = new MemoryStore(config.dbPath);
      try {
        const issue = store.issue(config.workspaceId, ref);
        if (!issue) throw new NotFoundError(`no issue "${ref}" in memory`);
        if (flags.json) printJson(issue);
        else console.log(formatIssue(issue));
      } finally {
        store.close();
      }
    });
}
