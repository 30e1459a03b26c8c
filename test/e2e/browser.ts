import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { build } from 'vite';
import { repoRoot } from '../helpers/cli.js';

/** Debian's chromium (.ci/run installs it where missing), headless and quiet: no network of its own. */
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Where the tests leave their screenshots (ignored by git). */
export const SCREENSHOTS = join(repoRoot, 'test-results', 'screenshots');

/** The front-end built now from web/ into a temp folder, so a stale dist/web cannot pass for it. */
export async function buildFrontEnd(): Promise<{ root: string; remove(): Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'sm-web-build-'));
  await build({
    configFile: join(repoRoot, 'web', 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir: root, emptyOutDir: true },
  });
  return { root, remove: () => rm(root, { recursive: true, force: true }) };
}

/** A fresh browser profile (no cookies from another run), a laptop-sized window. */
export async function openBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'sm-chromium-'));
  await mkdir(SCREENSHOTS, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ARGS,
    headless: true,
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
