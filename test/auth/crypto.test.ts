import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SecretDecryptionError, decryptSecret, encryptSecret, loadEncryptionKey } from '../../src/sentry/auth/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentry-memory-crypto-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('encryptSecret / decryptSecret', () => {
  const key = randomBytes(32);

  it('round-trips any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (plaintext) => {
        expect(decryptSecret(encryptSecret(plaintext, key), key)).toBe(plaintext);
      }),
    );
  });

  it('produces versioned, randomized blobs that do not contain the plaintext', () => {
    const a = encryptSecret('sntrys_secret_token', key);
    const b = encryptSecret('sntrys_secret_token', key);
    expect(a).toMatch(/^v1:[A-Za-z0-9+/]+=*$/);
    expect(a).not.toBe(b);
    expect(Buffer.from(a.slice(3), 'base64').toString('latin1')).not.toContain('sntrys_secret_token');
  });

  it('detects tampering anywhere in the blob', () => {
    const blob = encryptSecret('refresh-token-value', key);
    const raw = Buffer.from(blob.slice(3), 'base64');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: raw.length - 1 }), fc.integer({ min: 1, max: 255 }), (index, flip) => {
        const tampered = Buffer.from(raw);
        tampered[index] = tampered[index]! ^ flip;
        expect(() => decryptSecret(`v1:${tampered.toString('base64')}`, key)).toThrow(SecretDecryptionError);
      }),
    );
  });

  it('rejects the wrong key, truncation and unknown versions', () => {
    const blob = encryptSecret('x', key);
    expect(() => decryptSecret(blob, randomBytes(32))).toThrow(SecretDecryptionError);
    expect(() => decryptSecret('v1:AAAA', key)).toThrow(SecretDecryptionError);
    expect(() => decryptSecret(blob.replace('v1:', 'v9:'), key)).toThrow(SecretDecryptionError);
  });
});

describe('loadEncryptionKey', () => {
  it('generates the key file once with mode 0600 and reuses it', async () => {
    const keyFile = join(dir, 'nested', 'secret.key');
    const first = await loadEncryptionKey({ keyFile });
    expect(first).toHaveLength(32);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const second = await loadEncryptionKey({ keyFile });
    expect(second.equals(first)).toBe(true);
  });

  it('agrees on one key when several callers create it at once', async () => {
    const keyFile = join(dir, 'race.key');
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadEncryptionKey({ keyFile })));
    expect(keys.every((k) => k.equals(keys[0]!))).toBe(true);
  });

  it('prefers the env value, as hex or base64', async () => {
    const key = randomBytes(32);
    const keyFile = join(dir, 'unused.key');
    expect((await loadEncryptionKey({ envValue: key.toString('hex'), keyFile })).equals(key)).toBe(true);
    expect((await loadEncryptionKey({ envValue: key.toString('base64'), keyFile })).equals(key)).toBe(true);
    await expect(stat(keyFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('rejects a malformed env key without echoing it', async () => {
    const error = await loadEncryptionKey({ envValue: 'too-short-secret-value', keyFile: join(dir, 'k') }).catch(
      (e: unknown) => e,
    );
    expect(String(error)).not.toContain('too-short-secret-value');
  });

  it('refuses a key file that other users can read', async () => {
    const keyFile = join(dir, 'open.key');
    await writeFile(keyFile, randomBytes(32).toString('base64'));
    await chmod(keyFile, 0o644);
    await expect(loadEncryptionKey({ keyFile })).rejects.toThrow(/chmod 600/);
  });
});
