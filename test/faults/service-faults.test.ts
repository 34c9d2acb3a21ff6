import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { uniqueId } from '../support/temporal.js';
import { assertSurvived, startFaultEnvironment, startStream, verify, type FaultEnvironment } from './harness.js';

/**
 * Issue 10's fault tests: the worker and the API as separate processes (worker/main.ts, api/main.ts), each
 * fault injected while leads and steps stream in from clients that retry with an Idempotency-Key. Each
 * scenario gets its own leads, so its accounting (and its FAULT SUMMARY line) is its own; they share one
 * environment to keep the folder's run time down. The Postgres outage has its own file.
 */

let environment: FaultEnvironment;

before(async () => {
  environment = await startFaultEnvironment();
});

after(async () => {
  await environment?.teardown();
});

describe('faults while leads and steps stream in', () => {
  test('worker SIGKILL mid-stream, then a new worker', async () => {
    const stream = startStream(environment.apiUrl, uniqueId('kill'));
    await stream.answered(10);
    // Down long enough that steps in flight outlive the API's step timeout and are retried.
    await environment.killWorker(2_000);
    await stream.answered(12);
    await stream.stop();
    assertSurvived(await verify(environment, stream, 'worker-sigkill'));
  });

  test('Temporal dev server restarted on the same port and database file mid-stream', async () => {
    const stream = startStream(environment.apiUrl, uniqueId('temporal'));
    await stream.answered(10);
    const workerLog = environment.worker.mark();
    const apiLog = environment.api.mark();
    // Down longer than a dependency probe's interval plus its timeout (2 s + 3 s, worker/resilience.ts), so both
    // processes notice whatever the probe's phase; in flight, requests fail over to retries.
    await environment.restartTemporal(8_000);
    await stream.answered(12);
    await stream.stop();
    for (const [child, from] of [[environment.worker, workerLog], [environment.api, apiLog]] as const) {
      await child.waitFor(/\[dependencies\] Temporal unavailable/, { fromOffset: from, timeoutMs: 1_000 });
      await child.waitFor(/\[dependencies\] Temporal available again/, { fromOffset: from, timeoutMs: 10_000 });
    }
    assertSurvived(await verify(environment, stream, 'temporal-restart'));
  });

  test('webhook receiver answers 500 for a while, then recovers', async () => {
    const stream = startStream(environment.apiUrl, uniqueId('webhook'));
    await stream.answered(4);
    const workerLog = environment.worker.mark();
    environment.webhook.fail();
    const refusedBefore = environment.webhook.refused;
    await sleep(8_000);
    environment.webhook.recover();
    await stream.answered(6);
    await stream.stop();
    await environment.worker.waitFor(/\[dependencies\] notification webhook unavailable/, { fromOffset: workerLog, timeoutMs: 1_000 });
    await environment.worker.waitFor(/\[dependencies\] notification webhook available again/, { fromOffset: workerLog, timeoutMs: 60_000 });
    const report = await verify(environment, stream, 'webhook-500');
    assertSurvived(report, `receiver-500s=${environment.webhook.refused - refusedBefore}`);
  });
});
