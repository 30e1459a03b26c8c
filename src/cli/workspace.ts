import { Command } from 'commander';
import { listWorkspaces } from '../memory/workspaces.js';
import { HELD_WORKSPACE } from '../queue/routing.js';
import { dbOption, jsonOption, printJson, withStore } from './options.js';

/** `workspace list`: the tenants of this memory, what they were created for and how much each holds. */
export function workspaceCommand(): Command {
  const command = new Command('workspace').description(
    'workspaces (tenants): one per installation with `serve --workspace-per-installation`',
  );
  command
    .command('list')
    .description('every workspace with its installations, creation time, issues and deliveries')
    .addOption(dbOption())
    .addOption(jsonOption())
    .action((flags) =>
      withStore(flags, async (store) => {
        const workspaces = await listWorkspaces(store.db);
        if (flags.json) return printJson(workspaces);
        for (const w of workspaces) {
          const installations = w.installations.map((i) => `${i.source} installation ${i.externalId}`).join(', ');
          const what =
            w.id === HELD_WORKSPACE ? 'deliveries of installations not known yet' : w.name === w.id ? '' : w.name;
          console.log(
            [
              w.id,
              what,
              installations,
              w.createdAt ? `created ${w.createdAt}` : '',
              `${w.issues} issues`,
              `${w.deliveries} deliveries`,
            ]
              .filter(Boolean)
              .join('  '),
          );
        }
      }),
    );
  return command;
}
