import type { SqliteDatabase } from '../memory/sqlite.js';
import { assignInstallation, createWorkspace, workspaceOfInstallation } from '../memory/workspaces.js';
import type { Delivery, InboxState } from './inbox.js';

/** Where a delivery is stored: its workspace, and whether it can be processed now or waits. */
export interface Route {
  workspaceId: string;
  state: Extract<InboxState, 'pending' | 'held'>;
}

/** Runs inside the inbox's insert transaction, so whatever it creates commits with the delivery or not at all. */
export type DeliveryRouter = (delivery: Delivery) => Route;

/**
 * Deliveries of an installation that is not known yet wait here, held (never processed), until its
 * installation.created arrives. Not a slug, so no created workspace can get this id.
 */
export const HELD_WORKSPACE = '_held';

/**
 * A workspace per installation: a delivery goes to the workspace its installation was given; the
 * delivery that announces a new installation creates that workspace and the mapping, and releases
 * what was held for it. Deliveries that name no installation stay in the workspace they were sent to.
 *
 * Unknown installations are held rather than refused with a 503: the delivery is then kept whatever
 * the sender's retry policy, and a delivery that overtakes its installation.created is not lost.
 */
export function routeByInstallation(db: SqliteDatabase): DeliveryRouter {
  adoptKnownInstallations(db);
  return (delivery) => {
    if (!delivery.externalId) return { workspaceId: delivery.workspaceId, state: 'pending' };
    const known = workspaceOfInstallation(db, delivery.source, delivery.externalId);
    if (known) return { workspaceId: known, state: 'pending' };
    if (!delivery.newInstallation) return { workspaceId: HELD_WORKSPACE, state: 'held' };
    const workspaceId = createWorkspace(db, delivery.newInstallation.name);
    assignInstallation(db, delivery.source, delivery.externalId, workspaceId);
    releaseHeld(db, delivery.source, delivery.externalId, workspaceId);
    return { workspaceId, state: 'pending' };
  };
}

/** Moves an installation's held deliveries into its new workspace, due now (they keep their order: seq). */
function releaseHeld(db: SqliteDatabase, source: string, externalId: string, workspaceId: string): void {
  db.run(
    db.qb
      .updateTable('inbox')
      .set({ workspace_id: workspaceId, state: 'pending', next_attempt_at: new Date().toISOString() })
      .where('workspace_id', '=', HELD_WORKSPACE)
      .where('source', '=', source)
      .where('external_id', '=', externalId)
      .where('state', '=', 'held'),
  );
}

/**
 * Installations this database already knows from before the mode was on (deliveries stored, or a
 * connection made, under some workspace) keep that workspace: otherwise everything they send from
 * now on would be held, waiting for an installation.created that was sent long ago. Idempotent.
 */
function adoptKnownInstallations(db: SqliteDatabase): void {
  db.transaction(() => {
    db.raw
      .prepare(
        `INSERT OR IGNORE INTO installation_workspaces (source, external_id, workspace_id, created_at)
         SELECT source, external_id, min(workspace_id), ? FROM (
           SELECT source, external_id, workspace_id FROM connections WHERE external_id IS NOT NULL
           UNION ALL
           SELECT source, external_id, workspace_id FROM inbox WHERE external_id IS NOT NULL AND state <> 'held'
         ) GROUP BY source, external_id`,
      )
      .run(new Date().toISOString());
  });
}
