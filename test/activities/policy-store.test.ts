import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { createPolicyStore, InvalidPolicyError, NoPolicyPublishedError, PolicyVersionConflictError, type PolicyStore } from '../../db/policy-store.js';
import { policies } from '../../db/schema.js';
import { PolicyValidationError } from '../../domain/policy.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { defaultPolicyDocument } from '../support/policies.js';
import { uniqueId } from '../support/temporal.js';

/** The shipped default policy (Polish calendar with public holidays) under a version of its own. */
function document(version = uniqueId('policy'), changes: (doc: any) => void = () => {}): any {
  const doc = { ...defaultPolicyDocument(), version } as any;
  changes(doc);
  return doc;
}

describe('policy store against real Postgres', () => {
  let database: TestDatabase;
  let directory: string;
  before(async () => {
    database = await createTestDatabase();
    directory = mkdtempSync(join(tmpdir(), 'policy-store-'));
  });
  after(async () => {
    await database?.drop();
    rmSync(directory, { recursive: true, force: true });
  });

  /** Each test gets an empty policies table, since current() and list() read all of it. */
  async function freshStore(options?: Parameters<typeof createPolicyStore>[1]): Promise<PolicyStore> {
    await database.db.delete(policies);
    return createPolicyStore(database.db, options);
  }

  test('publish stores the document as given; list is newest first; get returns one version', async () => {
    const store = await freshStore();
    const first = document();
    const second = document();
    const published = await store.publish({ document: first, author: 'ops-ana', note: 'initial rules' });
    assert.equal(published.version, first.version);
    assert.equal(published.author, 'ops-ana');
    assert.equal(published.note, 'initial rules');
    assert.ok(published.createdAt instanceof Date);
    await store.publish({ document: second, author: 'ops-bo', note: 'faster tier 1' });

    const list = await store.list();
    assert.deepEqual(
      list.map((row) => [row.version, row.author, row.note]),
      [
        [second.version, 'ops-bo', 'faster tier 1'],
        [first.version, 'ops-ana', 'initial rules'],
      ],
    );
    assert.ok(list[0]!.createdAt.getTime() >= list[1]!.createdAt.getTime());
    assert.ok(!('document' in list[0]!), 'the list carries no documents');

    const got = await store.get(first.version);
    assert.ok(got);
    assert.deepEqual(got.document, first, 'stored as given: holidays are not resolved into it');
    assert.equal(got.document && (got.document as any).calendars['pl-sales'].holidays, undefined);
    assert.equal(await store.get('no-such-version'), undefined);
  });

  test('a version that already exists is refused and the stored one stays', async () => {
    const store = await freshStore();
    const original = document();
    await store.publish({ document: original, author: 'ops-ana', note: 'first' });
    const changed = document(original.version, (doc) => (doc.scoring.mqlThreshold = 50));
    await assert.rejects(store.publish({ document: changed, author: 'ops-bo', note: 'sneaky' }), (error: unknown) => {
      assert.ok(error instanceof PolicyVersionConflictError);
      assert.match(error.message, new RegExp(original.version));
      return true;
    });
    const rows = await database.db.select().from(policies).where(eq(policies.version, original.version));
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.author, 'ops-ana');
    assert.equal((rows[0]!.document as any).scoring.mqlThreshold, 40);
  });

  test('an invalid document is refused with every problem and its path, and nothing is stored', async () => {
    const store = await freshStore();
    const bad = document(undefined, (doc) => {
      doc.scoring.hotThreshold = 10;
      doc.defaultCalendarId = 'nowhere';
      doc.speedToLead.tier1 = { amount: -1, unit: 'minutes' };
    });
    await assert.rejects(store.publish({ document: bad, author: 'ops-ana', note: 'broken' }), (error: unknown) => {
      assert.ok(error instanceof PolicyValidationError);
      assert.ok(error instanceof InvalidPolicyError);
      const paths = error.details.map((issue) => issue.path);
      assert.ok(paths.includes('scoring.hotThreshold'), paths.join(', '));
      assert.ok(paths.includes('defaultCalendarId'), paths.join(', '));
      assert.ok(paths.includes('speedToLead.tier1.amount'), paths.join(', '));
      assert.match(error.issues.join('\n'), /scoring\.hotThreshold: must be at or above mqlThreshold/);
      return true;
    });
    const unknownCountry = document(undefined, (doc) => (doc.calendars['pl-sales'].publicHolidays = { country: 'XX' }));
    await assert.rejects(store.publish({ document: unknownCountry, author: 'ops-ana', note: 'broken' }), (error: unknown) => {
      assert.ok(error instanceof InvalidPolicyError);
      assert.deepEqual(
        error.details.map((issue) => issue.path),
        ['calendars.pl-sales.publicHolidays'],
      );
      return true;
    });
    assert.deepEqual(await store.list(), []);
  });

  test('current() is the newest version, resolved with its public holidays', async () => {
    const store = await freshStore();
    await assert.rejects(store.current(), NoPolicyPublishedError);
    const older = document();
    const newer = document(undefined, (doc) => (doc.scoring.mqlThreshold = 45));
    await store.publish({ document: older, author: 'ops-ana', note: 'older' });
    assert.equal((await store.current()).version, older.version);
    await store.publish({ document: newer, author: 'ops-ana', note: 'newer' });
    const current = await store.current();
    assert.equal(current.version, newer.version);
    assert.equal(current.scoring.mqlThreshold, 45);
    const year = new Date().getUTCFullYear();
    assert.ok(current.calendars['pl-sales']!.holidays.includes(`${year}-11-11`), 'Polish Independence Day is resolved');

    const resolved = await store.resolve(older.version);
    assert.equal(resolved?.version, older.version);
    assert.equal(await store.resolve('no-such-version'), undefined);
  });

  test('the resolved policy is cached per version and UTC year, and callers cannot change the cached copy', async () => {
    let now = new Date('2026-06-01T00:00:00Z');
    const store = await freshStore({ now: () => now });
    const doc = document();
    await store.publish({ document: doc, author: 'ops-ana', note: 'cached' });

    const first = await store.current();
    assert.ok(first.calendars['pl-sales']!.holidays.includes('2029-11-11'));
    assert.ok(!first.calendars['pl-sales']!.holidays.includes('2030-11-11'));
    // The cached snapshot is frozen and shared: a caller cannot change it.
    assert.throws(() => {
      first.calendars['pl-sales']!.holidays.length = 0;
    }, TypeError);
    assert.throws(() => {
      first.scoring.mqlThreshold = -1;
    }, TypeError);

    // A change behind the store's back shows whether current() re-resolved the document or used its cache.
    await database.db
      .update(policies)
      .set({ document: { ...doc, scoring: { ...doc.scoring, mqlThreshold: 41 } } })
      .where(eq(policies.version, doc.version));
    const again = await store.current();
    assert.equal(again.scoring.mqlThreshold, 40, 'same version and year: the cached resolution');
    assert.ok(again.calendars['pl-sales']!.holidays.includes('2026-11-11'), 'nothing a caller tried changed the cache');

    now = new Date('2027-01-02T00:00:00Z');
    const nextYear = await store.current();
    assert.equal(nextYear.scoring.mqlThreshold, 41, 'a new UTC year resolves again');
    assert.ok(nextYear.calendars['pl-sales']!.holidays.includes('2030-11-11'), 'holidays reach further with the new year');
  });

  test('seedFromFile publishes once, is idempotent, and never overwrites a stored version', async () => {
    const warnings: string[] = [];
    const store = await freshStore({ logger: { warn: (message: string) => warnings.push(message) } });
    const doc = document();
    const file = join(directory, 'rules.json');
    writeFileSync(file, JSON.stringify(doc, null, 2));

    assert.deepEqual(await store.seedFromFile(file), { version: doc.version, outcome: 'published' });
    assert.deepEqual(await store.seedFromFile(file), { version: doc.version, outcome: 'unchanged' });
    let rows = await database.db.select().from(policies);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.author, 'system');
    assert.equal(rows[0]!.note, 'loaded from rules.json');
    assert.deepEqual(warnings, []);

    // Ops published a newer version meanwhile: a restart with the same file leaves it current.
    const newer = document();
    await store.publish({ document: newer, author: 'ops-ana', note: 'newer' });
    assert.equal((await store.seedFromFile(file)).outcome, 'unchanged');
    assert.equal((await store.current()).version, newer.version);

    // The file changed but kept its version: the stored version wins, with a warning.
    writeFileSync(file, JSON.stringify(document(doc.version, (d) => (d.scoring.mqlThreshold = 55))));
    assert.deepEqual(await store.seedFromFile(file), { version: doc.version, outcome: 'kept-stored' });
    rows = await database.db.select().from(policies).where(eq(policies.version, doc.version));
    assert.equal(rows.length, 1);
    assert.equal((rows[0]!.document as any).scoring.mqlThreshold, 40);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, new RegExp(`${doc.version}.*keeping the stored one`));

    writeFileSync(file, '{ not json');
    await assert.rejects(store.seedFromFile(file), PolicyValidationError);
  });
});
