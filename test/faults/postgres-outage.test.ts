import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { uniqueId } from '../support/temporal.js';
import { assertSurvived, startFaultEnvironment, startStream, verify, type FaultEnvironment } from './harness.js';

/**
 * Issues 10 and 17: Postgres taken away from the worker and the API (separate processes) five times for
 * 20 s each while leads and steps stream in: every connection dropped, new ones refused, by the proxy the
 * test owns. Before the driver guard (patches/postgres+3.4.9.patch) a cut like this killed the worker in
 * some runs; now neither process may exit, no step may be lost or applied twice, and both logs must say
 * that the database went away and came back.
 */

const CUTS = 5;
const CUT_MS = 20_000;

let environment: FaultEnvironment;

before(async () => {
  environment = await startFaultEnvironment();
});

after(async () => {
  await environment?.teardown();
});

test(`Postgres cut ${CUTS} times for ${CUT_MS / 1000} s mid-stream`, async () => {
  const stream = startStream(environment.apiUrl, uniqueId('pgcut'));
  await stream.answered(6);
  for (let cut = 1; cut <= CUTS; cut += 1) {
    const workerLog = environment.worker.mark();
    const apiLog = environment.api.mark();
    // Alternate how connections die: an orderly close (FIN) one time, a reset (RST) the next.
    await environment.proxy.cut(cut % 2 === 1 ? 'close' : 'reset');
    await sleep(CUT_MS);
    await environment.proxy.restore();
    await Promise.all([
      environment.worker.waitFor(/\[dependencies\] database unavailable/, { fromOffset: workerLog, timeoutMs: 5_000 }),
      environment.api.waitFor(/\[dependencies\] database unavailable/, { fromOffset: apiLog, timeoutMs: 5_000 }),
      environment.worker.waitFor(/\[dependencies\] database available again/, { fromOffset: workerLog, timeoutMs: 30_000 }),
      environment.api.waitFor(/\[dependencies\] database available again/, { fromOffset: apiLog, timeoutMs: 30_000 }),
    ]);
    // Steps flow again before the next cut, so every cut lands on a stream in motion.
    await stream.answered(3);
    assert.deepEqual(environment.unexpectedExits(), [], `after cut ${cut}`);
  }
  await stream.stop();
  assertSurvived(await verify(environment, stream, `postgres-cut-${CUTS}x${CUT_MS / 1000}s`), `proxy-connections=${environment.proxy.accepted}`);
});
