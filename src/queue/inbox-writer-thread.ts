/**
 * The inbox's writer thread: deliveries posted here are group-committed by `Inbox` on this thread's
 * own connection, so the fsync of each commit never blocks the thread that serves HTTP.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteDatabase } from '../memory/sqlite.js';
import { Inbox, type Delivery } from './inbox.js';
import { WritePriority } from './write-priority.js';

const { dbPath, priority: shared } = workerData as { dbPath: string; priority: SharedArrayBuffer };
const db = new SqliteDatabase(dbPath);
const inbox = new Inbox(db);
const priority = new WritePriority(shared);
let waiting = 0;

function settled(): void {
  if (--waiting === 0) priority.lower();
}

parentPort!.on('message', (message: { id: number; delivery: Delivery } | 'close') => {
  if (message === 'close') {
    db.close();
    parentPort!.close();
    return;
  }
  waiting += 1;
  priority.raise();
  inbox.enqueue(message.delivery).then(
    (result) => {
      settled();
      parentPort!.postMessage({ id: message.id, result });
    },
    (error: unknown) => {
      settled();
      parentPort!.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) });
    },
  );
});
