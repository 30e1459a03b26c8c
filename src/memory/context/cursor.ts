import { QueryError } from './errors.js';

/** Opaque page cursors: base64url JSON, so agents pass them back verbatim and never build them. */
export function encodeCursor(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T extends object>(cursor: string, isValid: (value: unknown) => value is T): T {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (isValid(value)) return value;
  } catch {
    // fall through to the error below
  }
  throw new QueryError(
    'cursor is not one this tool returned: pass the cursor from the previous answer unchanged, or omit it',
  );
}
