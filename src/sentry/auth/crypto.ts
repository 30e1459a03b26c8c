import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

const VERSION_PREFIX = 'v1:';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Decryption failed: wrong key, or the blob was altered or truncated. Carries no secret material. */
export class SecretDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretDecryptionError';
  }
}

/**
 * AES-256-GCM. Output: `v1:` + base64(iv ‖ tag ‖ ciphertext). The version
 * prefix lets a later format (another cipher, a key id) coexist with this one.
 */
export function encryptSecret(plaintext: string, key: Buffer): string {
  assertKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return VERSION_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64');
}

export function decryptSecret(blob: string, key: Buffer): string {
  assertKey(key);
  if (!blob.startsWith(VERSION_PREFIX)) throw new SecretDecryptionError('unknown encrypted-secret format');
  const raw = Buffer.from(blob.slice(VERSION_PREFIX.length), 'base64');
  if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretDecryptionError('encrypted secret is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretDecryptionError('encrypted secret failed authentication (wrong key or tampered data)');
  }
}

/**
 * The key for secrets at rest: from `envValue` (64 hex chars or base64 of 32
 * bytes) when given, otherwise from `keyFile`, which is created once with a
 * fresh random key, readable by the owner only (0600), and reused afterwards.
 */
export async function loadEncryptionKey(args: { envValue?: string; keyFile: string | null }): Promise<Buffer> {
  if (args.envValue !== undefined && args.envValue.trim() !== '') {
    return decodeKey(args.envValue.trim(), 'the encryption key from the environment');
  }
  if (args.keyFile === null) {
    throw new Error(
      'set SENTRY_MEMORY_ENCRYPTION_KEY (32 bytes, hex or base64): with PostgreSQL every process must decrypt the same stored tokens, so the key cannot be a file beside the database',
    );
  }
  return (await readKeyFile(args.keyFile)) ?? createKeyFile(args.keyFile);
}

function assertKey(key: Buffer): void {
  if (key.length !== KEY_BYTES) throw new Error('encryption key must be 32 bytes');
}

function decodeKey(text: string, source: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  // Never echo the value: it is the key.
  if (key.length !== KEY_BYTES) throw new Error(`${source} must be 32 bytes, hex- or base64-encoded`);
  return key;
}

async function readKeyFile(keyFile: string): Promise<Buffer | null> {
  let info;
  try {
    info = await stat(keyFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
    throw new Error(`key file ${keyFile} is accessible by other users; run chmod 600 on it`);
  }
  return decodeKey((await readFile(keyFile, 'utf8')).trim(), `key file ${keyFile}`);
}

async function createKeyFile(keyFile: string): Promise<Buffer> {
  await mkdir(dirname(keyFile), { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  // Write a complete temp file, then link it into place: link() fails if the
  // key file appeared meanwhile, so two processes starting together agree on one key.
  const temp = `${keyFile}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await chmod(temp, 0o600);
    await link(temp, keyFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const existing = await readKeyFile(keyFile);
    if (!existing) throw error;
    return existing;
  } finally {
    await unlink(temp).catch(() => {});
  }
  return key;
}
