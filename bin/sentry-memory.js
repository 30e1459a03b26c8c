#!/usr/bin/env node
// Checked before anything is imported: on an older Node the imports themselves would fail (or the
// SQLite binding would crash) with a message that says nothing about the cause.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(
    `sentry-memory needs Node.js 22.12 or later (this is ${process.version}). Node 20 reached its end of life in April 2026.\n`,
  );
  process.exit(1);
}
await import('../dist/cli/main.js');
