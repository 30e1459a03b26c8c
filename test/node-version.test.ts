import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/cli.js';

/** Runs the published bin as if on another Node.js version (process.version/versions overridden before it loads). */
function binOn(version: string) {
  const pretend = `Object.defineProperty(process,'version',{value:'v${version}'});Object.defineProperty(process,'versions',{value:{...process.versions,node:'${version}'}});`;
  return spawnSync(
    process.execPath,
    [
      '--import',
      `data:text/javascript,${encodeURIComponent(pretend)}`,
      resolve(repoRoot, 'bin/sentry-memory.js'),
      '--help',
    ],
    { encoding: 'utf8' },
  );
}

describe('supported Node.js versions', () => {
  it.each(['20.20.2', '22.11.0', '18.20.8'])('refuses Node %s with a message, not a crash', (version) => {
    const result = binOn(version);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`needs Node.js 22.12 or later (this is v${version})`);
  });

  // Needs dist/ (built by `npm install`), which the bin loads once the version passes.
  it.each(['22.12.0', '24.0.0'])('starts on Node %s', (version) => {
    const result = binOn(version);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: sentry-memory');
  });
});
