// The README's "Library API" example, type-checked and run by test/docs/readme.test.ts: the region
// between the markers is the README's code block, byte for byte.
// #region readme
// app/api/sentry/route.ts
import { createWebhookHandler, openRuntime } from 'sentry-memory';

const memory = await openRuntime({ db: process.env.SENTRY_MEMORY_DB ?? '/var/lib/sentry-memory/memory.db' });
memory.startProcessing();

export const POST = createWebhookHandler({
  secrets: (process.env.SENTRY_CLIENT_SECRET ?? '').split(','),
  toleranceSeconds: 300,
  workspaceId: 'default',
  enqueue: (delivery) => memory.enqueue(delivery),
});
// #endregion readme

/** Not in the README: lets the test look at what the route stored, and close it. */
export { memory };
