import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signBody } from '../../src/sentry/webhooks/signature.js';
import { repoRoot, runCliAsync, startServe, waitFor, waitForExit } from '../helpers/cli.js';
import { createTestDatabase } from '../helpers/database.js';
import { webhookFixture } from '../helpers/fixtures.js';
import { SECRET, sentryHeaders } from '../helpers/runtime.js';

/**
 * The README and docs/ say only what the code does: every TypeScript snippet is an example file that
 * is type-checked and run here, every command line names real commands and options, the
 * configuration table lists exactly the environment variables the source reads, the worked example
 * gives the answers it shows, and every relative link resolves.
 */

const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');
const docFiles = [
  'README.md',
  ...readdirSync(join(repoRoot, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const docs = docFiles.map((path) => ({ path, text: read(path) }));
const readme = read('README.md');

interface CodeBlock {
  path: string;
  lang: string;
  body: string;
}

const fence = /^```([^\n]*)\n([\s\S]*?)^```$/gm;
const codeBlocks = (path: string, text: string): CodeBlock[] =>
  [...text.matchAll(fence)].map((m) => ({ path, lang: m[1].trim(), body: m[2] }));
const withoutCode = (text: string) => text.replace(fence, '');
const blocks = docs.flatMap((d) => codeBlocks(d.path, d.text));

/** A section of a markdown file, from its `## ` heading to the next one. */
function section(text: string, heading: string): string {
  const start = withoutCode(text).indexOf(`\n## ${heading}`);
  expect(start, `section "## ${heading}"`).toBeGreaterThanOrEqual(0);
  const rest = withoutCode(text).slice(start + 1);
  const next = rest.indexOf('\n## ');
  return next === -1 ? rest : rest.slice(0, next);
}

/** The regions of examples/*.ts that docs show, between `// #region readme` and `// #endregion readme`. */
const examples = readdirSync(join(repoRoot, 'examples'))
  .filter((f) => f.endsWith('.ts'))
  .flatMap((file) =>
    [...read(`examples/${file}`).matchAll(/^\/\/ #region readme\n([\s\S]*?)^\/\/ #endregion readme$/gm)].map((m) => ({
      file: `examples/${file}`,
      region: m[1],
    })),
  );

describe('TypeScript snippets are tested example files', () => {
  const snippets = blocks.filter((b) => /^(ts|typescript)$/.test(b.lang));

  it('every ```ts block is a region of an example file, byte for byte, and every region is shown', () => {
    expect(snippets.length).toBeGreaterThan(0);
    for (const snippet of snippets)
      expect(
        examples.map((e) => e.region),
        `a ts block in ${snippet.path}`,
      ).toContain(snippet.body);
    for (const example of examples)
      expect(
        snippets.map((s) => s.body),
        `${example.file}'s region`,
      ).toContain(example.region);
  });

  it('examples/library.ts: the Next.js route stores and processes a signed delivery', async () => {
    const db = await createTestDatabase('sqlite');
    const saved = { db: process.env.SENTRY_MEMORY_DB, secret: process.env.SENTRY_CLIENT_SECRET };
    process.env.SENTRY_MEMORY_DB = db.location;
    process.env.SENTRY_CLIENT_SECRET = `old-secret,${SECRET}`;
    try {
      const route = await import('../../examples/library.js');
      try {
        const fixture = webhookFixture('issue.created');
        const post = (headers: Record<string, string>) =>
          route.POST(new Request('https://app.example/api/sentry', { method: 'POST', body: fixture.raw, headers }));
        const headers = sentryHeaders('issue', fixture.raw);
        const response = await post(headers);
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({ ok: true, duplicate: false });
        expect(await (await post(headers)).json()).toEqual({ ok: true, duplicate: true });
        expect((await post(sentryHeaders('issue', fixture.raw, { secret: 'wrong' }))).status).toBe(401);
        await expect
          .poll(async () => (await route.memory.store.issue('default', 'FRONT-END-9'))?.status)
          .toBe('unresolved');
      } finally {
        await route.memory.close();
      }
    } finally {
      for (const [name, value] of [
        ['SENTRY_MEMORY_DB', saved.db],
        ['SENTRY_CLIENT_SECRET', saved.secret],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await db.cleanup();
    }
  });
});

/** Wall-clock seconds for a child process: the test process's Date may run ahead (test/helpers/shift-clock.ts). */
const systemSeconds = () => Math.floor((performance.timeOrigin + performance.now()) / 1000);

/** `sentry-memory <args>` as the docs write it: at the start, after `npx ` or an environment assignment, or as …bin/sentry-memory.js. */
function invocations(line: string): string[] {
  const text = line
    .replace(/(^|\s)#.*$/, '')
    .replace(/^\s*\$\s+/, '')
    .split(/[|;&]/)[0];
  return [...text.matchAll(/(?:^|\bnpx |\b[A-Z_]+=\S+ )sentry-memory +(.*)|\S*bin\/sentry-memory\.js +(.*)/g)].map(
    (m) => (m[1] ?? m[2]).trim(),
  );
}

/** What `--help` lists: subcommands and options. */
async function help(args: string[]): Promise<{ commands: string[]; options: string[] }> {
  const { status, stdout, stderr } = await runCliAsync([...args, '--help']);
  expect(status, `sentry-memory ${args.join(' ')} --help: ${stderr}`).toBe(0);
  const part = (heading: string) => (`${stdout}\n\n`.split(`\n${heading}\n`)[1] ?? '').split('\n\n')[0];
  const commands = part('Commands:');
  const options = part('Options:');
  return {
    commands: [...commands.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]).filter((c) => c !== 'help'),
    options: [...options.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]),
  };
}

describe('command lines in the docs name real commands and options', () => {
  it('every `sentry-memory <command> [--flags]` in a code block or code span', async () => {
    const top = await help([]);
    expect(top.commands).toContain('serve');
    const lines: { where: string; words: string[] }[] = [];
    for (const doc of docs) {
      for (const block of codeBlocks(doc.path, doc.text).filter((b) => !/^(ts|typescript|json)$/.test(b.lang))) {
        for (const line of block.body.split('\n'))
          for (const call of invocations(line))
            lines.push({ where: `${doc.path}: ${line.trim()}`, words: call.split(/\s+/) });
      }
      // Code spans in prose: `sentry-memory …`, or a command's name with arguments (`sync --watch`).
      for (const m of withoutCode(doc.text).matchAll(/`([^`\n]+)`/g)) {
        const calls = invocations(m[1]);
        if (!calls.length && / /.test(m[1]) && top.commands.includes(m[1].split(' ')[0])) calls.push(m[1]);
        for (const call of calls) lines.push({ where: `${doc.path}: \`${m[1]}\``, words: call.split(/\s+/) });
      }
    }
    const calls = lines.filter((l) => l.words[0] && !l.words[0].startsWith('-'));
    expect(calls.length).toBeGreaterThan(20);
    const helps = new Map<string, Promise<{ commands: string[]; options: string[] }>>();
    const helpOf = (args: string[]) => {
      const key = args.join(' ');
      if (!helps.has(key)) helps.set(key, help(args));
      return helps.get(key)!;
    };
    const problems: string[] = [];
    await Promise.all(
      calls.map(async ({ where, words }) => {
        const [command, sub] = words;
        if (!top.commands.includes(command)) return problems.push(`${where}: no command "${command}"`);
        let args = [command];
        const own = await helpOf(args);
        if (own.commands.length) {
          if (!sub || !own.commands.includes(sub))
            return problems.push(
              `${where}: "${command}" has no subcommand "${sub ?? ''}" (${own.commands.join(', ')})`,
            );
          args = [command, sub];
        }
        const { options } = await helpOf(args);
        for (const flag of words.join(' ').matchAll(/(?:^|[\s[])(--[a-z][\w-]*)/g)) {
          if (!options.includes(flag[1])) problems.push(`${where}: "${args.join(' ')}" has no option ${flag[1]}`);
        }
      }),
    );
    expect(problems).toEqual([]);
  }, 120_000);
});

describe('the worked example', () => {
  let stop: (() => Promise<void>) | undefined;
  afterAll(async () => stop?.());

  it('signs, sends and searches as the README shows, with the answers it shows', async () => {
    const example = section(readme, 'Worked example: sign a webhook, send it, search');
    const block = codeBlocks('README.md', readme).find(
      (b) => b.body.includes('/webhooks/sentry') && b.body.includes('body='),
    );
    expect(block, 'the worked example code block').toBeDefined();
    expect(example).toBeTruthy();
    const script = block!.body;
    const secret = /^export SENTRY_CLIENT_SECRET=(\S+)$/m.exec(script)![1];
    const body = /^body='(.*)'$/m.exec(script)![1];
    const signature = signBody(secret, body);
    const headers = Object.fromEntries(
      [...script.matchAll(/-H ['"]([^:'"]+): ([^'"]*)['"]/g)].map(([, name, value]) => [
        name,
        value.replace('$(date +%s)', String(systemSeconds())).replace('$signature', signature),
      ]),
    );
    expect(Object.keys(headers)).toEqual([
      'Content-Type',
      'Sentry-Hook-Resource',
      'Sentry-Hook-Timestamp',
      'Sentry-Hook-Signature',
      'Request-ID',
    ]);
    const [first, again] = [.../(\{"ok".*?\}).*sent again: (\{"ok".*?\})/.exec(script)!.slice(1)].map(
      (j) => JSON.parse(j) as unknown,
    );
    const searchAnswer = /search blooopy\n((?:#.*\n)+)/.exec(script)![1].replace(/^# ?/gm, '');

    const db = await createTestDatabase('sqlite');
    const served = await startServe(['--db', db.location, '--sync-interval', 'off'], { SENTRY_CLIENT_SECRET: secret });
    stop = async () => {
      served.child.kill('SIGTERM');
      await waitForExit(served.child);
      await db.cleanup();
    };
    await waitFor('"sentry-memory is serving"', () =>
      /sentry-memory is serving/.test(served.output()) ? true : undefined,
    );
    const send = async () =>
      (await fetch(`${served.url}/webhooks/sentry`, { method: 'POST', headers, body })).json() as Promise<unknown>;
    expect(await send()).toEqual(first);
    expect(await send()).toEqual(again);

    const search = await waitFor('the delivery to be processed', async () => {
      const { status, stdout } = await runCliAsync(['search', 'blooopy', '--db', db.location]);
      return status === 0 && stdout.includes('FRONT-END-9') ? stdout : undefined;
    });
    expect(search.trim()).toBe(searchAnswer.trim());
    const issue = await runCliAsync(['issue', 'FRONT-END-9', '--json', '--db', db.location]);
    expect(issue.status).toBe(0);
    expect(JSON.parse(issue.stdout)).toMatchObject({ shortId: 'FRONT-END-9', status: 'unresolved' });
    expect((await runCliAsync(['status', '--db', db.location])).status).toBe(0);
  }, 60_000);
});

/** Every file below a folder, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) =>
    statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : [join(dir, name)],
  );
}
const sources = files(join(repoRoot, 'src')).filter((f) => f.endsWith('.ts'));

describe('configuration', () => {
  it('the README lists exactly the environment variables the source reads', () => {
    const documented = new Set(
      [...section(readme, 'Configuration').matchAll(/`([A-Z][A-Z0-9_]*)(?:=[^`]*)?`/g)].map((m) => m[1]),
    );
    const readBySource = new Map<string, string>();
    for (const file of sources)
      for (const m of readFileSync(file, 'utf8').matchAll(/\benv\.([A-Z][A-Z0-9_]*)/g))
        readBySource.set(m[1], relative(repoRoot, file));
    const config = new Set([...read('src/config.ts').matchAll(/\benv\.([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]));
    expect(config.size).toBeGreaterThan(5);
    expect(
      [...readBySource.keys()]
        .filter((name) => !documented.has(name))
        .map((name) => `${name} (${readBySource.get(name)})`),
    ).toEqual([]);
    expect([...documented].filter((name) => !readBySource.has(name))).toEqual([]);
  });
});

/** GitHub's anchor for a heading. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
const anchors = (text: string) => new Set([...withoutCode(text).matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1])));

describe('the docs hang together', () => {
  it('relative links resolve to files, and anchors to headings', () => {
    const broken: string[] = [];
    for (const doc of docs) {
      for (const m of withoutCode(doc.text).matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)) {
        const target = m[1];
        if (/^[a-z]+:/i.test(target)) continue;
        const [path, anchor] = target.split('#');
        const file = path ? resolve(repoRoot, dirname(doc.path), path) : join(repoRoot, doc.path);
        if (!existsSync(file)) broken.push(`${doc.path}: ${target} (no such file)`);
        else if (anchor && file.endsWith('.md') && !anchors(readFileSync(file, 'utf8')).has(anchor))
          broken.push(`${doc.path}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('the README is for users: at most 350 lines, linking architecture and performance', () => {
    expect(readme.split('\n').length - 1).toBeLessThanOrEqual(350);
    expect(readme).toContain('](docs/architecture.md)');
    expect(readme).toContain('](docs/performance.md)');
  });

  it('scripts/check-outdated.mjs finds the README\'s "Dependencies" section', () => {
    // The same expression as the script's: the section ends at the next `## ` heading.
    expect(read('scripts/check-outdated.mjs')).toContain('/^## Dependencies\\n([\\s\\S]*?)(?=^## )/m');
    const dependencies = /^## Dependencies\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
    expect(dependencies).toMatch(/check-outdated/);
  });

  it('docs/architecture.md lists every table in "Tables and their owners"', () => {
    const architecture = read('docs/architecture.md');
    const listed = new Set(
      [...section(architecture, 'Tables and their owners').matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]),
    );
    const schema = /export interface Database \{([\s\S]*?)\n\}/.exec(read('src/memory/schema.ts'))![1];
    const tables = new Set([...schema.matchAll(/^\s+([a-z_]+):/gm)].map((m) => m[1]));
    for (const file of sources.filter((f) => relative(join(repoRoot, 'src/memory'), f).match(/^[^.].*migration/))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/CREATE (?:VIRTUAL )?TABLE (?:IF NOT EXISTS )?([a-z_]+)/g))
        tables.add(m[1]);
    }
    expect(tables.size).toBeGreaterThan(20);
    expect([...tables].filter((t) => !listed.has(t))).toEqual([]);
    expect([...listed].filter((t) => !tables.has(t))).toEqual([]);
  });
});
