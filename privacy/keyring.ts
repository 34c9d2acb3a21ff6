import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The master keys (key-encryption keys) that protect every payload this service hands to Temporal. The first
 * key is the active one: it wraps new record keys and encrypts payloads that belong to no record. The others
 * stay only to read what they protected before a rotation.
 */
export interface Keyring {
  activeKeyId: string;
  keys: ReadonlyMap<string, Buffer>;
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export class KeyringError extends Error {
  override name = 'KeyringError';
}

/** `PAYLOAD_KEYS="id:base64-of-32-bytes,…"`, the active key first. */
export function parseKeyring(value: string): Keyring {
  const keys = new Map<string, Buffer>();
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const separator = entry.indexOf(':');
    const id = separator > 0 ? entry.slice(0, separator) : '';
    // Never echo the key material: name the entry by its position and ID only.
    if (!KEY_ID.test(id)) throw new KeyringError(`PAYLOAD_KEYS entry ${keys.size + 1} must be id:base64, with an id of 1–64 letters, digits, '.', '_' or '-'`);
    const key = Buffer.from(entry.slice(separator + 1), 'base64');
    if (key.length !== 32) throw new KeyringError(`PAYLOAD_KEYS key ${id} must be 32 bytes in base64 (AES-256); it is ${key.length}`);
    if (keys.has(id)) throw new KeyringError(`PAYLOAD_KEYS names key ${id} twice`);
    keys.set(id, key);
  }
  const activeKeyId = entries.length > 0 ? [...keys.keys()][0]! : undefined;
  if (!activeKeyId) throw new KeyringError('PAYLOAD_KEYS names no key');
  return { activeKeyId, keys };
}

export function generateKeyEntry(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/**
 * Without PAYLOAD_KEYS, `npm start` never runs unencrypted: it makes a development key, keeps it in DATA_DIR
 * so histories stay readable after a restart, and says so.
 */
export function developmentKeyring(dataDir: string): { keyring: Keyring; file: string; created: boolean } {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'dev-payload-keys');
  const created = !existsSync(file);
  if (created) writeFileSync(file, generateKeyEntry('dev-1'), { mode: 0o600 });
  return { keyring: parseKeyring(readFileSync(file, 'utf8')), file, created };
}
