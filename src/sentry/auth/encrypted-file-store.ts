import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isCredentials, type CredentialStore, type Credentials } from './credentials.js';
import { decryptSecret, encryptSecret } from './crypto.js';

/**
 * Credentials as one AES-GCM-encrypted file (mode 0600). Saves are atomic
 * (write temp, rename), so a crash mid-save leaves the previous pair intact.
 */
export class EncryptedFileCredentialStore implements CredentialStore {
  constructor(
    private readonly file: string,
    private readonly key: Buffer,
  ) {}

  async load(): Promise<Credentials | null> {
    let blob: string;
    try {
      blob = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    const value: unknown = JSON.parse(decryptSecret(blob.trim(), this.key));
    if (!isCredentials(value)) throw new Error(`credential file ${this.file} does not hold credentials`);
    return value;
  }

  async save(credentials: Credentials): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temp, encryptSecret(JSON.stringify(credentials), this.key), { mode: 0o600 });
    await rename(temp, this.file);
  }
}
