import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure, defaultPayloadConverter, type Payload, type SerializationContext } from '@temporalio/common';
import { eq, sql } from 'drizzle-orm';
import { isDatabaseUnavailable, openDatabase } from '../../db/client.js';
import { recordKeys } from '../../db/schema.js';
import { EncryptionCodec, encryptedWith, PAYLOAD_ERASED } from '../../privacy/encryption-codec.js';
import { generateKeyEntry, parseKeyring, type Keyring } from '../../privacy/keyring.js';
import { createRecordKeys, followingDestructions } from '../../privacy/record-keys.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { uniqueId } from '../support/temporal.js';

const lead = { leadId: 'L-1', email: 'jan.kowalski@acme.pl', company: 'Acme Sp. z o.o.' };
const toPayload = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const fromPayload = (payload: Payload): unknown => defaultPayloadConverter.fromPayload(payload);
const context = (workflowId: string): SerializationContext => ({ type: 'workflow', namespace: 'default', workflowId });
const bytesOf = (payloads: Payload[]) => Buffer.concat(payloads.flatMap((p) => [Buffer.from(p.data ?? []), ...Object.values(p.metadata ?? {}).map((v) => Buffer.from(v))]));

describe('payload encryption codec against real Postgres', () => {
  let database: TestDatabase;
  const k1 = generateKeyEntry('k1');
  const k2 = generateKeyEntry('k2');
  const codecWith = (keyring: Keyring, fresh = false) => new EncryptionCodec(keyring, createRecordKeys(database.db, keyring), { freshRecordKeys: fresh });

  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database?.drop();
  });

  test("a lead's payload is encrypted with that lead's own key, and decodes to the same value", async () => {
    const codec = codecWith(parseKeyring(k1));
    const workflowId = `lead-${uniqueId('L')}`;
    const encoded = await codec.encode([toPayload(lead)], context(workflowId));
    assert.equal(encryptedWith(encoded[0]!), `record:${workflowId}`);
    assert.ok(!bytesOf(encoded).includes(lead.email), 'the e-mail is not readable in the encoded payload');
    assert.ok(!bytesOf(encoded).includes('Acme'), 'nor the company');
    assert.deepEqual(fromPayload((await codec.decode(encoded))[0]!), lead);
    const [row] = await database.db.select().from(recordKeys).where(eq(recordKeys.subject, workflowId));
    assert.equal(row?.wrappingKeyId, 'k1');
  });

  test('payloads that belong to no record use the active master key; unencrypted payloads pass through', async () => {
    const codec = codecWith(parseKeyring(k1));
    const [encoded] = await codec.encode([toPayload({ report: 1 })], undefined);
    assert.equal(encryptedWith(encoded!), 'master:k1');
    const plain = toPayload({ written: 'before encryption' });
    const [decodedPlain, decodedEncrypted] = await codec.decode([plain, encoded!]);
    assert.deepEqual(decodedPlain, plain);
    assert.deepEqual(fromPayload(decodedEncrypted!), { report: 1 });
  });

  test('two processes making the same record key at once end with one key that both read', async () => {
    const keyring = parseKeyring(k1);
    const workflowId = `deal-${uniqueId('D')}`;
    const [a, b] = [codecWith(keyring), codecWith(keyring)];
    const [fromA, fromB] = await Promise.all([a.encode([toPayload('a')], context(workflowId)), b.encode([toPayload('b')], context(workflowId))]);
    const reader = codecWith(keyring, true);
    assert.deepEqual((await reader.decode([...fromA, ...fromB])).map(fromPayload), ['a', 'b']);
  });

  test('a rotated master key keeps old payloads readable; after re-wrapping, record payloads need only the new key', async () => {
    const workflowId = `lead-${uniqueId('L')}`;
    const before = codecWith(parseKeyring(k1));
    const recordPayload = await before.encode([toPayload(lead)], context(workflowId));
    const masterPayload = await before.encode([toPayload('no record')], undefined);

    const rotated = parseKeyring(`${k2},${k1}`);
    const during = codecWith(rotated);
    assert.deepEqual((await during.decode([...recordPayload, ...masterPayload])).map(fromPayload), [lead, 'no record']);
    assert.equal(encryptedWith((await during.encode([toPayload('new')], undefined))[0]!), 'master:k2');

    const rewrapped = await createRecordKeys(database.db, rotated).rewrapAll();
    assert.ok(rewrapped >= 1);
    const [row] = await database.db.select().from(recordKeys).where(eq(recordKeys.subject, workflowId));
    assert.equal(row?.wrappingKeyId, 'k2');

    const after = codecWith(parseKeyring(k2));
    assert.deepEqual(fromPayload((await after.decode(recordPayload))[0]!), lead);
    await assert.rejects(after.decode(masterPayload), /master key k1 is not in PAYLOAD_KEYS/);
  });

  test('a destroyed record key makes every payload of that record unreadable, and refuses new ones', async () => {
    const keyring = parseKeyring(k1);
    const workflowId = `lead-${uniqueId('L')}`;
    const worker = codecWith(keyring);
    const encoded = await worker.encode([toPayload(lead)], context(workflowId));
    const keys = createRecordKeys(database.db, keyring);
    await keys.destroy(workflowId, new Date());
    await keys.destroy(workflowId, new Date()); // idempotent

    const codecServer = codecWith(keyring, true);
    await assert.rejects(codecServer.decode(encoded), (error: unknown) => error instanceof ApplicationFailure && error.type === PAYLOAD_ERASED);
    await assert.rejects(codecWith(keyring).encode([toPayload('more')], context(workflowId)), /was erased/);
    const [row] = await database.db.select().from(recordKeys).where(eq(recordKeys.subject, workflowId));
    assert.equal(row?.wrappedKey, null);
    assert.ok(row?.destroyedAt);
  });

  test('a process following destroyed keys drops a cached key the moment another process destroys it, or on a reconnect', async () => {
    const keyring = parseKeyring(k1);
    let listening!: () => void;
    const listened = new Promise<void>((resolve) => (listening = resolve));
    const worker = createRecordKeys(database.db, keyring, {
      destructions: async (onDestroyed) => {
        await followingDestructions(database).destructions!(onDestroyed);
        listening();
      },
    });
    await listened;
    await new Promise((resolve) => setImmediate(resolve));
    const api = createRecordKeys(database.db, keyring); // another process, the one that erases
    const erasedSoon = async (subject: string) => {
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        if ((await worker.existingKey(subject)) === 'erased') return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.fail(`the worker still holds the key of ${subject}`);
    };

    const announced = `lead-${uniqueId('L')}`;
    const key = await worker.keyFor(announced);
    await api.destroy(announced, new Date());
    await erasedSoon(announced);
    await assert.rejects(worker.keyFor(announced), /was erased/);

    // Destroyed without a notice, the worker keeps serving its cached key (no read per use)...
    const unannounced = `lead-${uniqueId('L')}`;
    const cached = await worker.keyFor(unannounced);
    await database.db.execute(sql`alter table record_keys disable trigger record_keys_destroyed`);
    try {
      await api.destroy(unannounced, new Date());
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(await worker.existingKey(unannounced), cached);
      // ...until its listening connection is cut: notices may have been missed, so it forgets every key.
      await database.db.execute(sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query ilike 'listen%'`);
      await erasedSoon(unannounced);
    } finally {
      await database.db.execute(sql`alter table record_keys enable trigger record_keys_destroyed`);
    }
    assert.equal(key.length, 32);
  });

  test("a worker's codec waits out a database outage for a key it has not cached; a client's fails at once", async () => {
    const keyring = parseKeyring(k1);
    const target = new URL(database.url);
    const proxy = await startTcpProxy({ targetHost: target.hostname, targetPort: Number(target.port || 5432) });
    const proxied = await openDatabase({ databaseUrl: proxy.url(database.url), dataDir: '/nonexistent' });
    try {
      const workerCodec = (until?: AbortSignal) => new EncryptionCodec(keyring, createRecordKeys(proxied.db, keyring), { waitForDatabase: { until } });
      const clientCodec = new EncryptionCodec(keyring, createRecordKeys(proxied.db, keyring));
      // A payload of a record whose key exists, written by another process: the worker has never read its key.
      const existing = `lead-${uniqueId('L')}`;
      const written = await codecWith(keyring).encode([toPayload(lead)], context(existing));
      const newRecord = `lead-${uniqueId('L')}`;

      await proxy.cut('reset');
      await assert.rejects(clientCodec.encode([toPayload('x')], context(newRecord)), (error: unknown) => isDatabaseUnavailable(error));
      const worker = workerCodec();
      const settled: string[] = [];
      const decoding = worker.decode(written).finally(() => settled.push('decode'));
      const encoding = worker.encode([toPayload('made during the outage')], context(newRecord)).finally(() => settled.push('encode'));
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.deepEqual(settled, [], 'nothing settles while the database is away');

      await proxy.restore();
      assert.deepEqual(fromPayload((await decoding)[0]!), lead);
      const reader = codecWith(keyring, true);
      assert.deepEqual(fromPayload((await reader.decode(await encoding))[0]!), 'made during the outage');

      // Shutdown ends the wait with the database's error.
      await proxy.cut('close');
      const shutdown = new AbortController();
      const abandoned = workerCodec(shutdown.signal).encode([toPayload('y')], context(`lead-${uniqueId('L')}`));
      await new Promise((resolve) => setTimeout(resolve, 300));
      shutdown.abort();
      await assert.rejects(abandoned, (error: unknown) => isDatabaseUnavailable(error));
      await proxy.restore();
    } finally {
      await proxied.close();
      await proxy.close();
    }
  });

  test('a payload relabelled with another record key does not open', async () => {
    const codec = codecWith(parseKeyring(k1));
    const [mine] = await codec.encode([toPayload(lead)], context(`lead-${uniqueId('L')}`));
    const other = `lead-${uniqueId('L')}`;
    await codec.encode([toPayload('x')], context(other));
    const relabelled = { ...mine!, metadata: { ...mine!.metadata, 'encryption-key-id': new TextEncoder().encode(`record:${other}`) } };
    await assert.rejects(codec.decode([relabelled]), /unable to authenticate|Unsupported state/);
  });

  test('PAYLOAD_KEYS is checked without ever echoing key material', () => {
    assert.throws(() => parseKeyring(''), /names no key/);
    assert.throws(() => parseKeyring('k1:c2hvcnQ='), /must be 32 bytes/);
    assert.throws(() => parseKeyring(`${k1},${k1}`), /names key k1 twice/);
    assert.throws(() => parseKeyring(`bad id:${k1.split(':')[1]}`), (error: Error) => !error.message.includes(k1.split(':')[1]!));
  });
});
