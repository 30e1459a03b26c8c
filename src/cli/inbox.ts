import { Command, InvalidArgumentError } from 'commander';
import { NotInMemoryError, QueryError } from '../memory/context/errors.js';
import type { InboxRow } from '../queue/delivery.js';
import { Inbox } from '../queue/inbox.js';
import { dbOption, jsonOption, printJson, withStore } from './options.js';

const seqArg = (value: string): number => {
  if (!/^\d+$/.test(value.trim()))
    throw new InvalidArgumentError(`expected a delivery number (seq) like 42, got "${value}"`);
  return Number(value);
};

/** The stored body as JSON when it parses (it did when it was accepted), else as the text it is. */
function parsedBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

function printDelivery(row: InboxRow): void {
  console.log(`delivery #${row.seq} in workspace ${row.workspace_id}`);
  console.log(`resource: ${row.resource}.${row.action ?? '?'} (source ${row.source})`);
  console.log(`delivery id: ${row.delivery_id}`);
  console.log(
    `state: ${row.state} after ${row.attempts} attempt${row.attempts === 1 ? '' : 's'}${row.state === 'pending' ? `, next at ${row.next_attempt_at}` : ''}`,
  );
  if (row.last_error) console.log(`last error: ${row.last_error}`);
  console.log(`sent: ${row.sent_at} · received: ${row.received_at} · processed: ${row.processed_at ?? 'not yet'}`);
  console.log('');
  console.log(JSON.stringify(parsedBody(row.body), null, 2));
}

/** `inbox show <seq>` and `inbox retry <seq>|--dead`: look at stored deliveries and re-queue the ones that failed. */
export function inboxCommand(): Command {
  // Subcommands inherit this, so their usage errors reach main's exit codes (2) rather than exiting 1 here.
  const command = new Command('inbox')
    .description('inspect stored webhook deliveries and re-queue failed ones')
    .exitOverride();
  command
    .command('show')
    .description('one delivery: where it is in processing, its last error and its body')
    .argument('<seq>', 'the delivery number, as `status` lists it', seqArg)
    .addOption(dbOption())
    .addOption(jsonOption())
    .action((seq: number, flags) =>
      withStore(flags, async (store, workspaceId) => {
        const row = await new Inbox(store.db).find(workspaceId, seq);
        if (!row) throw new NotInMemoryError(`no delivery #${seq} in workspace "${workspaceId}"`);
        if (flags.json) return printJson({ ...row, body: parsedBody(row.body) });
        printDelivery(row);
      }),
    );
  command
    .command('retry')
    .description('re-queue a dead or skipped delivery, or every dead one (--dead), once what made it fail is fixed')
    .argument('[seq]', 'the delivery number', seqArg)
    .option('--dead', 'every dead delivery of the workspace')
    .addOption(dbOption())
    .action((seq: number | undefined, flags) => {
      if ((seq === undefined) === !flags.dead) throw new QueryError('give either a delivery number or --dead');
      return withStore(flags, async (store, workspaceId) => {
        const inbox = new Inbox(store.db);
        if (seq !== undefined) {
          const outcome = await inbox.retry(workspaceId, seq);
          if ('missing' in outcome) throw new NotInMemoryError(outcome.missing);
          if ('conflict' in outcome) throw new QueryError(outcome.conflict);
          console.log('re-queued 1 delivery');
          return;
        }
        const count = await inbox.requeue(workspaceId);
        console.log(`re-queued ${count} deliver${count === 1 ? 'y' : 'ies'}`);
      });
    });
  return command;
}
