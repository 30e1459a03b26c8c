import { Command } from 'commander';
import { createApiKey, listApiKeys, revokeApiKey } from '../memory/api-keys.js';
import { NotInMemoryError } from '../memory/context/errors.js';
import { dbOption, jsonOption, printJson, withStore } from './options.js';

const workspaceOption = [
  '--workspace <id>',
  'workspace the key grants (env SENTRY_MEMORY_WORKSPACE, default "default")',
] as const;

/** `apikey create|list|revoke`: bearer keys for `/mcp` and `/api/v1`. Each key sees one workspace only. */
export function apikeyCommand(): Command {
  const command = new Command('apikey').description('API keys for the HTTP query API and MCP over HTTP');
  command
    .command('create')
    .description('create a key and print it (shown once: only its hash is stored)')
    .option('--name <name>', 'what the key is for, e.g. "claude-code on laptop"', 'unnamed')
    .option(...workspaceOption)
    .addOption(dbOption())
    .addOption(jsonOption())
    .action((flags) =>
      withStore(flags, async (store, workspaceId) => {
        const { key, info } = await createApiKey(store.db, workspaceId, flags.name);
        if (flags.json) return printJson({ key, ...info });
        console.log(key);
        console.error(`created key ${info.id} for workspace "${workspaceId}"; store it now, it cannot be shown again`);
      }),
    );
  command
    .command('list')
    .description('keys of the workspace (never the keys themselves)')
    .option(...workspaceOption)
    .addOption(dbOption())
    .addOption(jsonOption())
    .action((flags) =>
      withStore(flags, async (store, workspaceId) => {
        const keys = await listApiKeys(store.db, workspaceId);
        if (flags.json) return printJson(keys);
        for (const k of keys)
          console.log(`${k.id}  ${k.name}  created ${k.createdAt}${k.revokedAt ? `  revoked ${k.revokedAt}` : ''}`);
      }),
    );
  command
    .command('revoke')
    .description('revoke a key by its id (the part after smk_)')
    .argument('<id>', 'key id')
    .option(...workspaceOption)
    .addOption(dbOption())
    .action((id: string, flags) =>
      withStore(flags, async (store, workspaceId) => {
        if (!(await revokeApiKey(store.db, workspaceId, id)))
          throw new NotInMemoryError(`no active key "${id}" in workspace "${workspaceId}"`);
        console.log(`revoked ${id}`);
      }),
    );
  return command;
}
