import type { Runtime, SourceFile } from './catalog.js';
import type { FrameRecord } from './model.js';
import type { Prng } from './prng.js';

/** Where a runtime's files live at execution time; `filename` stays repository-relative. */
function absPathFor(runtime: Runtime, repository: string, path: string): string {
  switch (runtime) {
    case 'node':
      return `/app/${path}`;
    case 'browser':
      return `app:///${path}`;
    case 'python':
      return `/srv/app/${path}`;
    case 'go':
      return `/go/src/github.com/${repository}/${path}`;
  }
}

function moduleFor(runtime: Runtime, path: string): string | null {
  if (runtime === 'python') return path.replace(/\.py$/, '').replaceAll('/', '.');
  if (runtime === 'go') return path.slice(0, path.lastIndexOf('/'));
  return null;
}

/** Framework frames below the app code: they make `inApp` meaningful. */
const LIBRARY_FRAMES: Record<Runtime, Omit<FrameRecord, 'lineNo' | 'colNo' | 'contextLine'>[]> = {
  node: [
    {
      filename: 'node:internal/process/task_queues',
      absPath: 'node:internal/process/task_queues',
      module: null,
      function: 'process.processTicksAndRejections',
      inApp: false,
    },
    {
      filename: 'node_modules/express/lib/router/layer.js',
      absPath: '/app/node_modules/express/lib/router/layer.js',
      module: null,
      function: 'Layer.handle [as handle_request]',
      inApp: false,
    },
  ],
  browser: [
    {
      filename: 'node_modules/react-dom/cjs/react-dom.production.min.js',
      absPath: 'app:///node_modules/react-dom/cjs/react-dom.production.min.js',
      module: null,
      function: 'commitRootImpl',
      inApp: false,
    },
    {
      filename: 'node_modules/react-dom/cjs/react-dom.production.min.js',
      absPath: 'app:///node_modules/react-dom/cjs/react-dom.production.min.js',
      module: null,
      function: 'invokeGuardedCallback',
      inApp: false,
    },
  ],
  python: [
    {
      filename: 'celery/app/trace.py',
      absPath: '/usr/local/lib/python3.12/site-packages/celery/app/trace.py',
      module: 'celery.app.trace',
      function: 'trace_task',
      inApp: false,
    },
    {
      filename: 'celery/app/trace.py',
      absPath: '/usr/local/lib/python3.12/site-packages/celery/app/trace.py',
      module: 'celery.app.trace',
      function: '__protected_call__',
      inApp: false,
    },
  ],
  go: [
    {
      filename: 'net/http/server.go',
      absPath: '/usr/local/go/src/net/http/server.go',
      module: 'net/http',
      function: '(*conn).serve',
      inApp: false,
    },
    {
      filename: 'net/http/server.go',
      absPath: '/usr/local/go/src/net/http/server.go',
      module: 'net/http',
      function: 'HandlerFunc.ServeHTTP',
      inApp: false,
    },
  ],
};

export interface Stack {
  /** Oldest call first, crashing frame last — Sentry's frame order. */
  frames: FrameRecord[];
  crashFile: string;
  crashFunction: string;
}

/** A plausible stack: framework frames, then 2–4 in-app frames from the project's source tree. */
export function buildStack(rng: Prng, runtime: Runtime, repository: string, files: readonly SourceFile[]): Stack {
  const frames: FrameRecord[] = LIBRARY_FRAMES[runtime].map((f) => ({
    ...f,
    lineNo: rng.int(20, 900),
    colNo: runtime === 'python' || runtime === 'go' ? null : rng.int(1, 60),
    contextLine: null,
  }));
  const depth = rng.int(2, Math.min(4, files.length));
  let last: { path: string; fn: string } = { path: files[0].path, fn: files[0].functions[0] };
  for (let i = 0; i < depth; i++) {
    const file = rng.pick(files);
    const fn = rng.pick(file.functions);
    last = { path: file.path, fn };
    frames.push({
      filename: file.path,
      absPath: absPathFor(runtime, repository, file.path),
      module: moduleFor(runtime, file.path),
      function: fn,
      lineNo: rng.int(5, 400),
      colNo: runtime === 'python' || runtime === 'go' ? null : rng.int(1, 80),
      inApp: true,
      contextLine: null,
    });
  }
  return { frames, crashFile: last.path, crashFunction: last.fn };
}

/** Sentry's culprit is "where it happened", formatted the way each SDK family reports it. */
export function culpritFor(runtime: Runtime, file: string, fn: string): string {
  switch (runtime) {
    case 'python':
      return `${file.replace(/\.py$/, '').replaceAll('/', '.')} in ${fn}`;
    case 'go':
      return `${file} in ${fn}`;
    default:
      return `${fn}(${file.replace(/\.[jt]sx?$/, '')})`;
  }
}
