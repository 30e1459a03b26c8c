/**
 * Footprint of `sentry-memory serve` (the built CLI, as users start it) holding the agent bench's memory:
 * how soon it answers after start, its resident memory after a warm-up of HTTP queries, and the bytes
 * on disk per observation.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createApiKey } from '../src/memory/api-keys.js';
import { MemoryStore } from '../src/memory/store.js';
import { stop } from './ingest.js';

const root = resolve(import.meta.dirname, '..');

function residentMB(pid: number): number {
  const kib = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Math.round(Number(kib) / 1024);
}

export async function runFootprintBench(
  log: (line: string) => void,
  database: { path: string; workspaceId: string; issueIds: string[]; releases: string[] },
) {
  const store = await MemoryStore.open(database.path);
  const { key } = await createApiKey(store.db, database.workspaceId, 'bench footprint');
  const observations = Number(
    (await store.db.get(store.db.qb.selectFrom('observations').select((eb) => eb.fn.countAll<number>().as('n'))))?.n,
  );
  await store.close();
  const bytes = ['', '-wal'].reduce(
    (sum, suffix) => sum + (statSync(`${database.path}${suffix}`, { throwIfNoEntry: false })?.size ?? 0),
    0,
  );

  log('footprint: serve (built CLI) on the generated memory…');
  const started = performance.now();
  const child = spawn(
    process.execPath,
    ['bin/sentry-memory.js', 'serve', '--port', '0', '--db', database.path, '--sync-interval', 'off'],
    {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  try {
    const url = await new Promise<string>((resolveUrl, reject) => {
      let output = '';
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening at (http:\/\/127\.0\.0\.1:\d+)/i.exec(output);
        if (match) resolveUrl(match[1]);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${output}`)));
    });
    const readyMs = Math.round(performance.now() - started);
    const get = async (path: string) => {
      const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } });
      if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
      await response.arrayBuffer();
    };
    const words = ['TypeError', 'timeout', 'ECONNREFUSED', 'deadlock detected', 'request failed', 'undefined'];
    for (let i = 0; i < 60; i++) {
      await get(`/api/v1/search?query=${encodeURIComponent(words[i % words.length])}`);
      await get(`/api/v1/issues/${database.issueIds[i % database.issueIds.length]}`);
      await get(`/api/v1/releases/${encodeURIComponent(database.releases[i % database.releases.length])}`);
      if (i % 10 === 0) await get(`/api/v1/timeline?since=7d`);
    }
    return { readyMs, rssMB: residentMB(child.pid!), bytesPerObservation: Math.round(bytes / observations) };
  } finally {
    await stop(child);
  }
}
