import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { uniqueId } from '../support/temporal.js';
import { assertSurvived, startFaultEnvironment, startStream, verify, type FaultEnvironment } from './harness.js';

/**
 * Issues 10 and 17: Postgres taken away from the worker and the API (separate processes) five times for
 * 20 s each while leads and steps stream in: every connection dropped, new ones refused, by the proxy the
 * test owns. Before the driver guard (patches/postgres+3.4.9.patch) a cut like this killed the worker in
 * some runs; now neither process may exit, nor the worker inside stop, no step may be lost or applied
 * twice, and both logs must say that the database went away and came back.
 */

const CUTS = 5;
const CUT_MS = 20_000;

let environment: FaultEnvironment;

/**
 * Holds every audit write open until the returned release: the test's own connection (not through the
 * proxy) locks lead_events against inserts, and once the worker's audit transactions are seen waiting on
 * that lock, the cut lands on transactions in flight, as it does on a busy machine. That is the moment
 * the unpatched driver fails in: the transaction's ROLLBACK goes to the connection that just closed.
 */
async function holdAuditWrites(): Promise<{ blocked: number; release: () => Promise<void> }> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const transaction = environment.database.db.transaction(async (tx) => {
    await tx.execute(sql`lock table lead_events in exclusive mode`);
    locked();
    await released;
  });
  await Promise.race([isLocked, transaction]);
  let blocked = 0;
  for (const deadline = Date.now() + 15_000; blocked === 0 && Date.now() < deadline; await sleep(100)) {
    const rows = (await environment.database.db.execute(
      sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
    )) as unknown as { n: number }[];
    blocked = rows[0]!.n;
  }
  return {
    blocked,
    release: async () => {
      release();
      await transaction;
    },
  };
}

before(async () => {
  // The outage starts before the processes do: they wait for the database at start-up too.
  environment = await startFaultEnvironment({ databaseDownAtStart: true });
});

after(async () => {
  await environment?.teardown();
});

test(`Postgres cut ${CUTS} times for ${CUT_MS / 1000} s mid-stream`, async () => {
  // Six clients: enough that some are taking in a lead (whose first audit write is not in a retry
  // back-off) when the database comes back, so the stream moves again soon after each cut.
  const stream = startStream(environment.apiUrl, uniqueId('pgcut'), 6);
  await stream.answered(6);
  for (let cut = 1; cut <= CUTS; cut += 1) {
    const workerLog = environment.worker.mark();
    const apiLog = environment.api.mark();
    const held = await holdAuditWrites();
    assert.ok(held.blocked > 0, `cut ${cut}: no audit write was in flight to cut`);
    // Alternate how connections die: an orderly close (FIN) one time, a reset (RST) the next.
    await environment.proxy.cut(cut % 2 === 1 ? 'close' : 'reset');
    await held.release();
    await sleep(CUT_MS);
    await environment.proxy.restore();
    const restoredAt = Date.now();
    await Promise.all([
      environment.worker.waitFor(/\[dependencies\] database unavailable/, { fromOffset: workerLog, timeoutMs: 5_000 }),
      environment.api.waitFor(/\[dependencies\] database unavailable/, { fromOffset: apiLog, timeoutMs: 5_000 }),
      environment.worker.waitFor(/\[dependencies\] database available again/, { fromOffset: workerLog, timeoutMs: 30_000 }),
      environment.api.waitFor(/\[dependencies\] database available again/, { fromOffset: apiLog, timeoutMs: 30_000 }),
    ]);
    // Steps flow again before the next cut, so every cut lands on a stream in motion.
    await stream.answered(1);
    assert.deepEqual(environment.unexpectedExits(), [], `after cut ${cut}`);
    // Nor may the SDK's worker inside the process stop: it did when a payload codec it called failed on the
    // database (the process restarted it after a back-off, and steps waited 8-30 s after the database was back).
    const workerFailures = environment.worker.output().slice(workerLog).split('\n').filter((line) => /"Worker failed"|\[worker\] stopped/.test(line));
    assert.deepEqual(workerFailures.map((line) => line.slice(0, 600)), [], `cut ${cut}: the worker stopped`);
    console.log(`cut ${cut}: ${held.blocked} audit writes in flight; stream moving again ${((Date.now() - restoredAt) / 1000).toFixed(1)} s after the database came back`);
  }
  await stream.stop();
  assertSurvived(await verify(environment, stream, `postgres-cut-${CUTS}x${CUT_MS / 1000}s`), `proxy-connections=${environment.proxy.accepted}`);
});
