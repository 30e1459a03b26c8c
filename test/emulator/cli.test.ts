import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';

describe('emulator CLI', () => {
  it('prints one JSON line with url, org, token and clientSecret, serves, and stops on SIGTERM', async () => {
    const script =
      "import { emulatorCommand } from './src/cli/emulator.ts'; await emulatorCommand().parseAsync(process.argv);";
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        script,
        'emulator',
        '--seed',
        '4',
        '--issues',
        '30',
        '--projects',
        '2',
      ],
      {
        cwd: new URL('../..', import.meta.url).pathname,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
    const info = JSON.parse(line) as { url: string; org: string; token: string; clientSecret: string };
    expect(Object.keys(info)).toEqual(['url', 'org', 'token', 'clientSecret']);
    expect(info.org).toBe('acme');
    const res = await fetch(`${info.url}/api/0/organizations/${info.org}/projects/`, {
      headers: { Authorization: `Bearer ${info.token}` },
    });
    expect(((await res.json()) as unknown[]).length).toBe(2);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
