import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { and, eq, isNotNull, ne, sql } from 'drizzle-orm';
import { firstRow, type Database, type DatabaseHandle } from '../db/client.js';
import { recordKeys } from '../db/schema.js';
import type { Keyring } from './keyring.js';

/**
 * One random data key per lead or deal (crypto-shredding): every payload of that record's workflow history is
 * encrypted with it, and the key itself is stored here wrapped by the active master key. Destroying the row's
 * key makes everything Temporal still holds of the record unreadable for good, history and all.
 */
export interface RecordKeys {
  /** The record's key, made on first use. Throws RecordErased for a record whose key was destroyed. */
  keyFor(subject: string): Promise<Buffer>;
  /** The record's key if it exists; `fresh` skips the cache (the codec server must never outlive an erasure). */
  existingKey(subject: string, options?: { fresh?: boolean }): Promise<Buffer | 'erased' | null>;
  /** Destroys the key; what it protected can never be read again. Idempotent. */
  destroy(subject: string, at: Date): Promise<void>;
  /** Re-wraps every live key under the active master key, so retired master keys can be dropped. */
  rewrapAll(): Promise<number>;
  forget(subject: string): void;
}

export class RecordErased extends Error {
  override name = 'RecordErased';
  constructor(readonly subject: string) {
    super(`${subject} was erased: its data key is destroyed and its payloads can no longer be read or written`);
  }
}

interface StoredKeyRow {
  made: boolean;
  wrapping_key_id: string | null;
  wrapped_key: string | null;
}

const CACHE_LIMIT = 20_000;
// Without destruction notices, a process that cached a key before an erasure keeps it at most this long.
const CACHE_TTL_MS = 60_000;

/** The channel a trigger on record_keys notifies with the subject of every destroyed key (migration 0013). */
export const RECORD_KEY_DESTROYED_CHANNEL = 'revops_record_key_destroyed';

export interface RecordKeysOptions {
  /**
   * Subscribes to destroyed keys, by any process: `DatabaseHandle.listen` on RECORD_KEY_DESTROYED_CHANNEL. The
   * callback gets the subject, or nothing when notices may have been missed (a reconnect). With it, a cached key
   * is dropped the moment it is destroyed and otherwise kept, so a lead waking after hours reads no key; without
   * it, cached keys expire after a minute.
   */
  destructions?: (onDestroyed: (subject?: string) => void) => Promise<void>;
  logger?: Pick<Console, 'warn'>;
}

/** Options that follow destroyed keys through the database's LISTEN (see RecordKeysOptions.destructions). */
export function followingDestructions(database: Pick<DatabaseHandle, 'listen'>): RecordKeysOptions {
  return { destructions: (onDestroyed) => database.listen(RECORD_KEY_DESTROYED_CHANNEL, onDestroyed) };
}

export function createRecordKeys(db: Database, keyring: Keyring, options: RecordKeysOptions = {}): RecordKeys {
  const cache = new Map<string, { key: Buffer; at: number }>();
  let following = false;
  options
    .destructions?.((subject) => {
      if (subject === undefined) cache.clear();
      else cache.delete(subject);
    })
    .then(() => {
      following = true;
    })
    .catch((error: Error) => (options.logger ?? console).warn(`Not following destroyed record keys (${error.message}); cached keys expire after a minute`));

  function remember(subject: string, key: Buffer): Buffer {
    cache.delete(subject);
    cache.set(subject, { key, at: Date.now() });
    if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    return key;
  }

  function cached(subject: string): Buffer | undefined {
    const entry = cache.get(subject);
    if (!entry) return undefined;
    if (!following && Date.now() - entry.at > CACHE_TTL_MS) {
      cache.delete(subject);
      return undefined;
    }
    return entry.key;
  }

  async function load(subject: string): Promise<Buffer | 'erased' | null> {
    const [row] = await db.select().from(recordKeys).where(eq(recordKeys.subject, subject));
    if (!row) return null;
    if (row.wrappedKey === null) return 'erased';
    return remember(subject, unwrap(keyring, row.wrappingKeyId, row.wrappedKey, subject));
  }

  return {
    async keyFor(subject) {
      const hit = cached(subject);
      if (hit) return hit;
      // One round trip whether the key is new (intake) or stored: the insert, or the row that stopped it.
      const fresh = randomBytes(32);
      const wrapped = wrap(keyring, keyring.activeKeyId, fresh, subject);
      const result = await db.execute(sql`
        with made as (
          insert into record_keys (subject, wrapping_key_id, wrapped_key) values (${subject}, ${keyring.activeKeyId}, ${wrapped})
          on conflict (subject) do nothing
          returning subject
        )
        select true as made, null as wrapping_key_id, null as wrapped_key from made
        union all
        select false, wrapping_key_id, wrapped_key from record_keys where subject = ${subject}`);
      const row = firstRow<StoredKeyRow>(result);
      if (row?.made) return remember(subject, fresh);
      if (row) {
        if (row.wrapped_key === null) throw new RecordErased(subject);
        return remember(subject, unwrap(keyring, row.wrapping_key_id!, row.wrapped_key, subject));
      }
      // Another process made the key while this statement ran: its snapshot could not see the row, a new read can.
      const stored = await load(subject);
      if (stored === 'erased') throw new RecordErased(subject);
      if (!stored) throw new Error(`the data key of ${subject} was neither created nor found`);
      return stored;
    },
    async existingKey(subject, options = {}) {
      if (!options.fresh) {
        const hit = cached(subject);
        if (hit) return hit;
      }
      return load(subject);
    },
    async destroy(subject, at) {
      cache.delete(subject);
      await db
        .insert(recordKeys)
        .values({ subject, wrappingKeyId: keyring.activeKeyId, wrappedKey: null, destroyedAt: at })
        .onConflictDoUpdate({ target: recordKeys.subject, set: { wrappedKey: null, destroyedAt: sql`coalesce(${recordKeys.destroyedAt}, ${at.toISOString()}::timestamptz)` } });
    },
    async rewrapAll() {
      const stale = await db
        .select()
        .from(recordKeys)
        .where(and(isNotNull(recordKeys.wrappedKey), ne(recordKeys.wrappingKeyId, keyring.activeKeyId)));
      let rewrapped = 0;
      for (const row of stale) {
        const key = unwrap(keyring, row.wrappingKeyId, row.wrappedKey!, row.subject);
        const moved = await db
          .update(recordKeys)
          .set({ wrappingKeyId: keyring.activeKeyId, wrappedKey: wrap(keyring, keyring.activeKeyId, key, row.subject) })
          // Only the version read: a key destroyed meanwhile stays destroyed.
          .where(and(eq(recordKeys.subject, row.subject), eq(recordKeys.wrappedKey, row.wrappedKey!)))
          .returning({ subject: recordKeys.subject });
        rewrapped += moved.length;
      }
      return rewrapped;
    },
    forget(subject) {
      cache.delete(subject);
    },
  };
}

/** AES-256-GCM under a master key, bound to its record so a wrapped key cannot be moved to another record. */
function wrap(keyring: Keyring, keyId: string, key: Buffer, subject: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', masterKey(keyring, keyId), iv);
  cipher.setAAD(Buffer.from(subject));
  const sealed = Buffer.concat([cipher.update(key), cipher.final()]);
  return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64');
}

function unwrap(keyring: Keyring, keyId: string, wrapped: string, subject: string): Buffer {
  const bytes = Buffer.from(wrapped, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', masterKey(keyring, keyId), bytes.subarray(0, 12));
  decipher.setAAD(Buffer.from(subject));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]);
}

export function masterKey(keyring: Keyring, keyId: string): Buffer {
  const key = keyring.keys.get(keyId);
  if (!key) throw new Error(`master key ${keyId} is not in PAYLOAD_KEYS; keep a retired key configured until nothing it protected is needed`);
  return key;
}
