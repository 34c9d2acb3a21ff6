import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { openDatabase, resultRows, type Database } from '../../db/client.js';
import { leads } from '../../db/schema.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(() => database.drop());

/** The statements prepared on the connection of the transaction this runs in, whose text mentions `marker`. */
async function preparedOnThisConnection(db: Database, marker: string, run: (tx: Parameters<Parameters<Database['transaction']>[0]>[0]) => Promise<unknown>): Promise<string[]> {
  return db.transaction(async (tx) => {
    await run(tx);
    await run(tx);
    const rows = resultRows<{ statement: string }>(await tx.execute(sql`select statement from pg_prepared_statements where statement like ${`%${marker}%`} and statement not like '%pg_prepared_statements%'`));
    return rows.map((row) => row.statement);
  });
}

test('a statement with parameters is prepared once on its connection and run again by name', async () => {
  const raw = await preparedOnThisConnection(database.db, 'named_statement_marker', (tx) => tx.execute(sql`select ${41}::int + 1 as named_statement_marker`));
  assert.equal(raw.length, 1, 'the raw statement run twice is one prepared statement');
  const built = await preparedOnThisConnection(database.db, 'lead_id', (tx) => tx.select({ leadId: leads.leadId }).from(leads).where(eq(leads.leadId, 'nobody')));
  assert.equal(built.length, 1, 'so is a query built with drizzle');
});

test("?prepare=false in the database URL (for PgBouncer in transaction mode) leaves every statement unnamed", async () => {
  const url = new URL(database.url);
  url.searchParams.set('prepare', 'false');
  const unnamed = await openDatabase({ databaseUrl: url.toString(), dataDir: '/nonexistent' });
  try {
    const prepared = await preparedOnThisConnection(unnamed.db, 'named_statement_marker', (tx) => tx.execute(sql`select ${41}::int + 1 as named_statement_marker`));
    assert.deepEqual(prepared, []);
    const answer = resultRows<{ named_statement_marker: number }>(await unnamed.db.execute(sql`select ${41}::int + 1 as named_statement_marker`));
    assert.equal(answer[0]?.named_statement_marker, 42, 'and they still answer');
  } finally {
    await unnamed.close();
  }
});
