import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINE_ENV } from './database.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const entry = resolve(repoRoot, 'src/cli/main.ts');
const tsxArgs = ['--import', 'tsx', entry];

/** Runs the CLI from source, as `sentry-memory <args>`. */
export function runCli(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [...tsxArgs, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...ENGINE_ENV, ...env },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Like runCli, without blocking the event loop (for tests that serve HTTP from the test process, e.g. the emulator). */
export function runCliAsync(
  args: string[],
  env: Record<string, string> = {},
  /** Called with stderr so far until it returns true: for commands that wait on an interaction. */
  interact?: (stderr: string) => Promise<boolean>,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [...tsxArgs, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...ENGINE_ENV, ...env },
    });
    let stdout = '';
    let stderr = '';
    let interacted = !interact;
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', async (c: Buffer) => {
      stderr += c.toString();
      if (!interacted && interact) interacted = await interact(stderr);
    });
    child.once('exit', (status) => resolvePromise({ status, stdout, stderr }));
  });
}

/** Starts `sentry-memory serve` on a free port and resolves once it listens. */
export async function startServe(
  args: string[],
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const started = await startUntil(
    ['serve', '--port', '0', ...args],
    env,
    /Server listening at (http:\/\/127\.0\.0\.1:\d+)/,
  );
  return { child: started.child, url: started.match[1], output: started.output };
}

/** Starts `sentry-memory serve --role worker` (no HTTP) and resolves once it processes. */
export async function startWorker(
  args: string[],
  env: Record<string, string>,
): Promise<{ child: ChildProcess; output: () => string }> {
  const started = await startUntil(['serve', '--role', 'worker', ...args], env, /sentry-memory is processing/);
  return { child: started.child, output: started.output };
}

function startUntil(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpExecArray; output: () => string }> {
  const child = spawn(process.execPath, [...tsxArgs, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...ENGINE_ENV, LOG_LEVEL: 'info', ...env },
  });
  let output = '';
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]} did not start:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolvePromise({ child, match, output: () => output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}:\n${output}`)));
  });
}

export function waitForExit(child: ChildProcess): Promise<void> {
  return new Promise((resolvePromise) =>
    child.exitCode !== null || child.signalCode !== null
      ? resolvePromise()
      : child.once('exit', () => resolvePromise()),
  );
}

/** Polls `check` until it returns a value (not undefined) or `timeoutMs` passes; the last error says what it waited for. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
