import { sql } from 'kysely';
import type { MemoryDatabase } from '../memory/database.js';
import { assignInstallation, createWorkspace, workspaceOfInstallation } from '../memory/workspaces.js';
import type { Delivery, DeliveryRouter, Route } from './delivery.js';

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
export async function routeByInstallation(db: MemoryDatabase): Promise<DeliveryRouter> {
  await adoptKnownInstallations(db);
  return async (tx, deliveries) => {
    const routes: Route[] = [];
    let locked = false;
    for (const delivery of deliveries) {
      if (!delivery.externalId) {
        routes.push({ workspaceId: delivery.workspaceId, state: 'pending' });
        continue;
      }
      const known = await workspaceOfInstallation(tx, delivery.source, delivery.externalId);
      if (known) {
        routes.push({ workspaceId: known, state: 'pending' });
        continue;
      }
      // Unknown installations are rare (a new install, a delivery that overtook it): one lock for all
      // of them, taken before this transaction writes anything, so that web processes creating or
      // holding for the same installation take turns, and lock order can never form a cycle.
      if (!locked) {
        await tx.lock('installations');
        locked = true;
      }
      const route = await routeUnknown(tx, delivery, delivery.externalId);
      if (delivery.newInstallation && route.state === 'pending') {
        // Its deliveries earlier in this batch were routed as held but are not inserted yet, so
        // releaseHeld could not see them: they go to the new workspace too.
        routes.forEach((earlier, i) => {
          const other = deliveries[i];
          if (earlier.state === 'held' && other.source === delivery.source && other.externalId === delivery.externalId)
            routes[i] = route;
        });
      }
      routes.push(route);
    }
    return routes;
  };
}

async function routeUnknown(tx: MemoryDatabase, delivery: Delivery, externalId: string): Promise<Route> {
  const created = await workspaceOfInstallation(tx, delivery.source, externalId);
  if (created) return { workspaceId: created, state: 'pending' };
  if (!delivery.newInstallation) return { workspaceId: HELD_WORKSPACE, state: 'held' };
  const workspaceId = await createWorkspace(tx, delivery.newInstallation.name);
  await assignInstallation(tx, delivery.source, externalId, workspaceId);
  await releaseHeld(tx, delivery.source, externalId, workspaceId);
  return { workspaceId, state: 'pending' };
}

/** Moves an installation's held deliveries, bodies first, into its new workspace, due now (they keep their order: seq). */
async function releaseHeld(db: MemoryDatabase, source: string, externalId: string, workspaceId: string): Promise<void> {
  const held = db.qb
    .selectFrom('inbox')
    .select('seq')
    .where('workspace_id', '=', HELD_WORKSPACE)
    .where('source', '=', source)
    .where('external_id', '=', externalId)
    .where('state', '=', 'held');
  await db.run(
    db.qb
      .updateTable('inbox_bodies')
      .set({ workspace_id: workspaceId })
      .where('workspace_id', '=', HELD_WORKSPACE)
      .where('seq', 'in', held),
  );
  await db.run(
    db.qb
      .updateTable('inbox')
      .set({ workspace_id: workspaceId, state: 'pending', next_attempt_at: new Date().toISOString() })
      .where('workspace_id', '=', HELD_WORKSPACE)
      .where('seq', 'in', held),
  );
}

/**
 * Installations this database already knows from before the mode was on (deliveries stored, or a
 * connection made, under some workspace) keep that workspace: otherwise everything they send from
 * now on would be held, waiting for an installation.created that was sent long ago. Idempotent.
 */
async function adoptKnownInstallations(db: MemoryDatabase): Promise<void> {
  const now = new Date().toISOString();
  await db.transaction((tx) =>
    tx.run(
      tx.qb
        .insertInto('installation_workspaces')
        .columns(['source', 'external_id', 'workspace_id', 'created_at'])
        .expression((eb) =>
          eb
            .selectFrom(
              eb
                .selectFrom('connections')
                .select(['source', 'external_id', 'workspace_id'])
                .where('external_id', 'is not', null)
                .unionAll(
                  eb
                    .selectFrom('inbox')
                    .select(['source', 'external_id', 'workspace_id'])
                    .where('external_id', 'is not', null)
                    .where('state', '<>', 'held'),
                )
                .as('known'),
            )
            .select([
              'known.source',
              'known.external_id',
              (e) => e.fn.min('known.workspace_id').as('workspace_id'),
              sql.lit(now).as('created_at'),
            ])
            .groupBy(['known.source', 'known.external_id']),
        )
        .onConflict((oc) => oc.doNothing()),
    ),
  );
}
