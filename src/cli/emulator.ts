import { Command, InvalidArgumentError } from 'commander';
import { startEmulator } from '../sentry/emulator/index.js';

function integer(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    return n;
  };
}

/**
 * `emulator`: runs the local Sentry emulator until SIGINT/SIGTERM. Prints exactly one JSON line
 * on start — `{"url","org","token","clientSecret"}` — so scripts can read how to reach it.
 */
export function emulatorCommand(): Command {
  return new Command('emulator')
    .description('Run a local Sentry API emulator seeded with a deterministic organization')
    .option('--port <port>', 'port to listen on (0 = any free port)', integer('port'), 0)
    .option('--host <host>', 'host to bind', '127.0.0.1')
    .option('--seed <seed>', 'PRNG seed for the generated organization', integer('seed'), 1)
    .option('--projects <n>', 'number of projects', integer('projects'), 3)
    .option('--issues <n>', 'total number of issues', integer('issues'), 200)
    .option('--related', 'add families of related issues and look-alikes after those (see emulator/related.ts)')
    .option('--latency <ms>', 'latency added to every request', integer('latency'), 0)
    .option('--rate-limit <perSecond>', 'requests per second per caller', integer('rate-limit'), 40)
    .option('--token-ttl <seconds>', 'lifetime of installation/OAuth access tokens', integer('token-ttl'), 8 * 3600)
    .option('--webhook-url <url>', 'send signed webhooks here when data changes')
    .action(
      async (opts: {
        port: number;
        host: string;
        seed: number;
        projects: number;
        issues: number;
        related?: boolean;
        latency: number;
        rateLimit: number;
        tokenTtl: number;
        webhookUrl?: string;
      }) => {
        const emulator = await startEmulator({
          port: opts.port,
          host: opts.host,
          seed: opts.seed,
          projects: opts.projects,
          issues: opts.issues,
          related: opts.related,
          latencyMs: opts.latency,
          rateLimit: { perSecond: opts.rateLimit },
          tokenTtlSeconds: opts.tokenTtl,
          webhookUrl: opts.webhookUrl,
        });
        process.stdout.write(
          `${JSON.stringify({ url: emulator.url, org: emulator.orgSlug, token: emulator.internalToken, clientSecret: emulator.clientSecret })}\n`,
        );
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await emulator.close();
      },
    );
}
