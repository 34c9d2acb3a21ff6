import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Worker } from '@temporalio/worker';
import { asc, eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { createApp } from '../../api/app.js';
import { createPolicyStore } from '../../db/policy-store.js';
import type { Database } from '../../db/client.js';
import * as schema from '../../db/schema.js';
import { leadEvents } from '../../db/schema.js';
import { DEFAULT_STICKY_QUEUE_TIMEOUT_MS, temporalSettings } from '../../temporal.config.js';
import { createWorker } from '../../worker/create-worker.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { alwaysOpenPolicy } from '../support/policies.js';
import { eventually } from '../support/scenarios.js';
import { testTokens, tokenFor } from '../support/service.js';
import { createDevServerEnvironment, quietWorkerLogs, uniqueId, workflowBundle, type DevServerEnvironment } from '../support/temporal.js';

/**
 * With no worker polling, a step cannot be applied in time: the API answers 503 with Retry-After and the key
 * it used, instead of hanging; once a worker is back, retrying with that key applies the step once.
 */
describe('an unavailable worker or database answers 503 with Retry-After; a step is safe to retry with its key', () => {
  const STEP_TIMEOUT_MS = 1_500;
  let temporal: DevServerEnvironment;
  let database: TestDatabase;
  let app: ReturnType<typeof createApp>;
  let worker: { instance: Worker; run: Promise<void> } | null = null;

  async function startWorker(): Promise<void> {
    const instance = await createWorker({ connection: temporal.workerConnection, namespace: temporal.namespace, db: database.db, workflowBundle: await workflowBundle() });
    worker = { instance, run: instance.run() };
  }
  async function stopWorker(): Promise<void> {
    worker?.instance.shutdown();
    await worker?.run;
    worker = null;
  }

  before(async () => {
    quietWorkerLogs();
    [temporal, database] = await Promise.all([createDevServerEnvironment(), createTestDatabase()]);
    const policyStore = createPolicyStore(database.db);
    await policyStore.publish({ document: alwaysOpenPolicy(uniqueId('timeout')), author: 'test', note: 'step timeout' });
    app = createApp({ client: temporal.client, db: database.db, apiKeys: testTokens, currentPolicy: () => policyStore.current(), policyStore, stepTimeoutMs: STEP_TIMEOUT_MS });
    await startWorker();
    for (const request of [
      ['/reps', { repId: 'rep-anna', name: 'Anna', seniority: 'senior', managerId: 'mgr-ola' }],
      ['/queues', { queueId: 'inbound', name: 'Inbound', strategy: 'round-robin', managerId: 'mgr-ola', members: ['rep-anna'] }],
    ] as const) {
      const response = await call('POST', request[0], request[1], tokenFor('ops'));
      assert.equal(response.status, 201, JSON.stringify(response.body));
    }
  });
  after(async () => {
    await stopWorker();
    await Promise.all([temporal?.teardown(), database?.drop()]);
  });

  async function call(method: string, path: string, body: unknown, token: string, headers: Record<string, string> = {}) {
    const response = await app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
  }

  test('no worker: 503 with Retry-After and the key (reads too); worker back: the retried keys apply the step once', async () => {
    const leadId = uniqueId('L');
    const intake = await call('POST', '/leads', { leadId, email: 'ceo@acme.example', company: 'Acme', icpTier: 2, score: { fit: 30, behavior: 10, intent: 5 } }, tokenFor('sales'));
    assert.equal(intake.status, 201, JSON.stringify(intake.body));
    const events = () => database.db.select({ type: leadEvents.type }).from(leadEvents).where(eq(leadEvents.leadId, leadId)).orderBy(asc(leadEvents.seq));
    await eventually(events, (rows) => rows.some((row) => row.type === 'routed'), 'routing');
    await stopWorker();

    const owner = tokenFor('sales', 'rep-anna');
    const withKey = await call('POST', `/leads/${leadId}/accept`, {}, owner, { 'idempotency-key': `accept-${leadId}` });
    assert.equal(withKey.status, 503, JSON.stringify(withKey.body));
    assert.equal(withKey.body.error, 'unavailable');
    assert.ok(Number(withKey.headers.get('retry-after')) > 0, 'Retry-After says when to try again');
    assert.equal(withKey.headers.get('idempotency-key'), `accept-${leadId}`);

    const withoutKey = await call('POST', `/leads/${leadId}/accept`, {}, owner);
    assert.equal(withoutKey.status, 503);
    const generated = withoutKey.headers.get('idempotency-key');
    assert.ok(generated, 'a request without a key learns the key it was given, to retry with');

    const read = await app.request(`/leads/${leadId}`, { headers: { authorization: `Bearer ${owner}` } });
    assert.equal(read.status, 503, 'reading the live state needs a worker too, and answers rather than hangs');

    await startWorker();
    // As a client would: on 503, wait Retry-After and send the same request with the same key. A new worker may
    // take a few seconds to receive the lead's pending task (Temporal first waits out the old worker's sticky queue).
    const untilAnswered = async (key: string) => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const response = await call('POST', `/leads/${leadId}/accept`, {}, owner, { 'idempotency-key': key });
        if (response.status !== 503 || Date.now() > deadline) return response;
        await new Promise((resolve) => setTimeout(resolve, Number(response.headers.get('retry-after')) * 1000));
      }
    };
    const retried = await untilAnswered(`accept-${leadId}`);
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.equal(retried.body.stage, 'SAL');
    // The keyless attempt reached the workflow too and was applied or refused in its turn; retrying it answers the same.
    const retriedGenerated = await untilAnswered(generated!);
    assert.ok([200, 409].includes(retriedGenerated.status), JSON.stringify(retriedGenerated.body));
    assert.equal((await events()).filter((row) => row.type === 'accepted').length, 1, 'the step applied once');
  });

  test("a worker made with TEMPORAL_STICKY_TIMEOUT_MS hands the SDK that timeout; without it the SDK's own", async () => {
    const sticky = temporalSettings({ TEMPORAL_STICKY_TIMEOUT_MS: '30000' }).stickyQueueTimeoutMs;
    const bundle = await workflowBundle();
    const made = await Promise.all([sticky, undefined].map((stickyQueueTimeoutMs) =>
      createWorker({ connection: temporal.workerConnection, namespace: temporal.namespace, db: database.db, workflowBundle: bundle, taskQueue: uniqueId('sticky'), stickyQueueTimeoutMs }),
    ));
    // A made worker holds the process open until it has run and shut down, whatever the assertion says.
    await Promise.all(made.map((instance) => Promise.all([instance.run(), instance.shutdown()])));
    assert.deepEqual(made.map((instance) => instance.options.stickyQueueScheduleToStartTimeoutMs), [30_000, DEFAULT_STICKY_QUEUE_TIMEOUT_MS]);
  });

  test('the database unreachable: reads from it answer 503 with Retry-After, not 500', async () => {
    const unreachable = postgres('postgres://postgres@127.0.0.1:1/none', { max: 1, connect_timeout: 2, onnotice: () => {} });
    const policyStore = createPolicyStore(database.db);
    const cut = createApp({ client: temporal.client, db: drizzle(unreachable, { schema }) as unknown as Database, apiKeys: testTokens, currentPolicy: () => policyStore.current(), policyStore });
    try {
      for (const path of ['/leads/L-1/timeline', '/deals/D-1/timeline', '/reps', '/reports/lead-sla']) {
        const response = await cut.request(path, { headers: { authorization: `Bearer ${tokenFor('ops')}` } });
        assert.equal(response.status, 503, `${path}: ${await response.text()}`);
        assert.ok(Number(response.headers.get('retry-after')) > 0);
      }
    } finally {
      await unreachable.end({ timeout: 1 });
    }
  });
});
