/**
 * Tag distributions at the agent bench's scale: gives every issue of the bench memory tag counts
 * shaped like Sentry's (a few browsers, OSes, environments and releases; many URLs and users, cut to
 * the kept values plus `other`), then reports what they cost on disk per event counted.
 */
import { sql, type RawBuilder } from 'kysely';
import type { MemoryDatabase } from '../src/memory/database.js';
import type { IssueTagsRecord } from '../src/memory/records.js';
import type { MemoryStore } from '../src/memory/store.js';
import { Prng } from '../src/sentry/emulator/prng.js';

const KEYS: { key: string; values: (rng: Prng, n: number) => string }[] = [
  { key: 'browser', values: (_r, n) => ['Chrome 126.0', 'Safari 17.5', 'Firefox 127.0', 'Edge 126.0'][n % 4] },
  { key: 'os', values: (_r, n) => ['Windows 10', 'macOS 14.5', 'iOS 17.5', 'Android 14', 'Linux'][n % 5] },
  { key: 'environment', values: (_r, n) => ['production', 'staging'][n % 2] },
  { key: 'release', values: (_r, n) => `app@1.${n % 6}.0` },
  {
    key: 'url',
    values: (_r, n) => `https://app.acme.test/${['checkout', 'cart', 'orders', 'account'][n % 4]}/${n % 40}`,
  },
  { key: 'user', values: (_r, n) => `id:${n}` },
  { key: 'plan', values: (_r, n) => ['free', 'team', 'business'][n % 3] },
];

function tagsFor(rng: Prng, issueId: string, events: number, at: string): IssueTagsRecord {
  return {
    kind: 'issue_tags',
    issueId,
    observedAt: at,
    keys: KEYS.map(({ key, values }) => {
      // Skewed draws: the first values of each key take most events, as in real distributions.
      const counts = new Map<string, number>();
      const draws = Math.min(events, 200);
      for (let i = 0; i < draws; i++) {
        const value = values(rng, Math.floor(Math.pow(rng.next(), 3) * 1000));
        counts.set(value, (counts.get(value) ?? 0) + 1);
      }
      const scale = events / draws;
      const list = [...counts].map(([value, count]) => ({ value, count: Math.max(1, Math.round(count * scale)) }));
      return { key, name: null, total: list.reduce((sum, v) => sum + v.count, 0), values: list };
    }),
  };
}

/** Gives every issue tag counts, once per bench database (kept with it). */
export async function ensureIssueTags(
  store: MemoryStore,
  workspaceId: string,
  log: (line: string) => void,
): Promise<void> {
  const { db } = store;
  if (await db.get(db.qb.selectFrom('issue_tag_keys').select('issue_id').limit(1))) return;
  const issues = await db.all(
    db.qb.selectFrom('issues').select(['id', 'count', 'snapshot_at']).where('workspace_id', '=', workspaceId),
  );
  log(`writing tag counts for ${issues.length} issues …`);
  const rng = new Prng(21);
  for (let i = 0; i < issues.length; i += 500) {
    const batch = issues
      .slice(i, i + 500)
      .map((issue) => tagsFor(rng, issue.id, Math.max(1, Number(issue.count ?? 1)), issue.snapshot_at));
    await store.apply(workspaceId, 'sentry', batch, { durable: false });
  }
}

function raw<R>(db: MemoryDatabase, query: RawBuilder<R>) {
  return db.all({ compile: () => query.compile(db.qb) });
}

/** Bytes of the tag tables and their indexes (SQLite's dbstat), per issue and per event they count. */
export async function issueTagFootprint(
  db: MemoryDatabase,
): Promise<{ bytes: number; issues: number; events: number; bytesPerIssue: number; bytesPerEvent: number }> {
  const [size] = await raw(
    db,
    sql<{
      bytes: number;
    }>`SELECT sum(pgsize) AS bytes FROM dbstat WHERE name IN (SELECT name FROM sqlite_master WHERE tbl_name IN ('issue_tag_keys', 'issue_tag_values'))`,
  );
  const [counted] = await raw(
    db,
    sql<{
      issues: number;
      events: number;
    }>`SELECT count(*) AS issues, sum(events) AS events FROM (SELECT max(total) AS events FROM issue_tag_keys GROUP BY workspace_id, issue_id)`,
  );
  const bytes = Number(size.bytes);
  return {
    bytes,
    issues: Number(counted.issues),
    events: Number(counted.events),
    bytesPerIssue: Math.round(bytes / Number(counted.issues)),
    bytesPerEvent: Math.round((bytes / Number(counted.events)) * 100) / 100,
  };
}
