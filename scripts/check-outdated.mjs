#!/usr/bin/env node
// Fails when a production dependency is a major version behind its latest release (for 0.x, a minor
// one) unless the README's "Dependencies" section names it (`name`) with the reason. Needs the npm
// registry; run by .ci/run, not by `npm test`, which must pass offline.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let report;
try {
  report = execFileSync('npm', ['outdated', '--omit=dev', '--json'], { encoding: 'utf8' });
} catch (error) {
  // `npm outdated` exits 1 whenever anything is outdated; its JSON is still on stdout.
  if (typeof error.stdout !== 'string' || error.stdout.trim() === '') throw error;
  report = error.stdout;
}
const outdated = JSON.parse(report || '{}');
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const section = /^## Dependencies\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1] ?? '';

/** The part of a version that signals breaking changes: the major, or for 0.x the minor. */
const breaking = (version) => {
  const [major, minor] = String(version).split('.').map(Number);
  return major === 0 ? `0.${minor}` : String(major);
};

const behind = Object.entries(outdated).filter(([, v]) => v.current && breaking(v.current) !== breaking(v.latest));
const unexplained = behind.filter(([name]) => !section.includes(`\`${name}\``));
for (const [name, v] of behind)
  console.log(
    `${name}: ${v.current} installed, ${v.latest} latest${unexplained.some(([n]) => n === name) ? ' — no reason in README' : ' — reason in README'}`,
  );
if (unexplained.length) process.exit(1);
console.log(`production dependencies: none a major version behind without a reason (${behind.length} explained)`);
