import { prepared, type MemoryDatabase } from '../../memory/database.js';
import { PermanentError, type DeliveryProcessor } from '../../queue/delivery.js';
import { mapWebhookEvent } from '../mapping/webhook.js';
import { SENTRY_SOURCE } from '../source.js';
import { parseWebhook } from './payloads.js';

/** Turns a stored Sentry delivery into memory records (inside the worker's transaction). */
export function createSentryProcessor(): DeliveryProcessor {
  return async (tx, row) => {
    const parsed = parseWebhook(row.resource, JSON.parse(row.body), row.sent_at, row.seq);
    if (!parsed.ok) {
      if (parsed.unsupported) return { skip: parsed.reason };
      throw new PermanentError(parsed.reason);
    }
    const event = parsed.event;
    if (event.resource !== 'installation' && event.installationUuid && (await isDeleted(tx, row.workspace_id, event.installationUuid))) {
      // An uninstalled integration's late deliveries are kept, not applied: uninstalling stops the data flow.
      return { skip: `installation ${event.installationUuid} was deleted` };
    }
    return { records: mapWebhookEvent(event) };
  };
}

async function isDeleted(db: MemoryDatabase, workspaceId: string, installationUuid: string): Promise<boolean> {
  const statement = prepared(db, 'connection state by installation', (qb) =>
    qb.selectFrom('connections').select('state').where('workspace_id', '=', '').where('source', '=', '').where('external_id', '=', ''),
  );
  const connection = await db.get(statement(workspaceId, SENTRY_SOURCE, installationUuid));
  return connection?.state === 'deleted';
}
