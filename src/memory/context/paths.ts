/** Repository-relative form of a frame or commit path: `app:///src/a.ts`, `/app/src/a.ts`, `./src/a.ts` → `src/a.ts`. */
function normalize(path: string): string {
  return path
    .replace(/^[a-z]+:\/\/\/?/i, '')
    .replace(/^\.?\//, '')
    .replace(/\\/g, '/');
}

/**
 * Whether a changed file is the file a stack frame ran: frames carry deployment paths
 * (`/app/src/routes/checkout.ts`) and commits repository paths (`src/routes/checkout.ts`),
 * so one must end with the other on a path boundary.
 */
export function samePath(framePath: string, commitPath: string): boolean {
  const a = normalize(framePath);
  const b = normalize(commitPath);
  if (!a || !b) return false;
  const [long, short] = a.length >= b.length ? [a, b] : [b, a];
  return long === short || long.endsWith(`/${short}`);
}
