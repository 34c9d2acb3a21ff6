import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { timestampMs } from '../../api/health.js';
import { DEFAULT_STICKY_QUEUE_TIMEOUT_MS, leadWorkflowId } from '../../temporal.config.js';
import { tokenFor } from '../support/service.js';
import { uniqueId } from '../support/temporal.js';
import { RetryingClient, startFaultEnvironment, takeInLead, type FaultEnvironment } from './harness.js';

/**
 * TEMPORAL_STICKY_TIMEOUT_MS reaches the worker that `npm run worker` runs (worker/main.ts → runWorkerUntilStopped →
 * createWorker), as Temporal records it: a step sent to a worker that was just SIGKILLed waits on that worker's
 * sticky queue for the set time, then times out there and goes to the next worker. The history says how long the
 * task waited, so the test reads the server's own timestamps rather than timing anything itself.
 */

const STICKY_TIMEOUT_MS = 2_000;
const { EventType, TaskQueueKind, TimeoutType } = proto.temporal.api.enums.v1;

let environment: FaultEnvironment;

before(async () => {
  environment = await startFaultEnvironment({ env: { TEMPORAL_STICKY_TIMEOUT_MS: String(STICKY_TIMEOUT_MS) } });
});

after(async () => {
  await environment?.teardown();
});

test(`a step sent just after the worker was killed leaves its sticky queue after TEMPORAL_STICKY_TIMEOUT_MS (${STICKY_TIMEOUT_MS} ms), not the SDK's ${DEFAULT_STICKY_QUEUE_TIMEOUT_MS}`, async () => {
  const client = new RetryingClient(environment.apiUrl);
  const leadId = uniqueId('sticky');
  const ownerId = await takeInLead(client, leadId);
  const accepted = await client.send('POST', `/leads/${leadId}/accept`, { token: tokenFor('sales', ownerId), body: {}, key: `${leadId}-accept` });
  assert.equal(accepted.status, 200, JSON.stringify(accepted.body));

  // The lead's workflow is cached on this worker, and the server keeps sending its tasks to this worker's sticky queue.
  const replaced = environment.killWorker(0);
  await sleep(200);
  const attempt = await client.send('POST', `/leads/${leadId}/contact-attempts`, {
    token: tokenFor('sales', ownerId),
    body: { channel: 'phone', outcome: 'no-answer' },
    key: `${leadId}-attempt`,
  });
  await replaced;
  assert.equal(attempt.status, 200, JSON.stringify(attempt.body));

  const connection = await Connection.connect({ address: environment.temporal.address });
  try {
    const history = await new Client({ connection, namespace: 'default' }).workflow.getHandle(leadWorkflowId(leadId)).fetchHistory();
    const events = history.events ?? [];
    const eventById = new Map(events.map((event) => [Number(event.eventId), event]));
    const stickyWaits = events
      .filter((event) => event.workflowTaskTimedOutEventAttributes?.timeoutType === TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START)
      .map((timedOut) => {
        const scheduled = eventById.get(Number(timedOut.workflowTaskTimedOutEventAttributes!.scheduledEventId));
        assert.equal(scheduled?.eventType, EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
        assert.equal(scheduled.workflowTaskScheduledEventAttributes?.taskQueue?.kind, TaskQueueKind.TASK_QUEUE_KIND_STICKY);
        return timestampMs(timedOut.eventTime) - timestampMs(scheduled.eventTime);
      });
    console.log(`STICKY SUMMARY TEMPORAL_STICKY_TIMEOUT_MS=${STICKY_TIMEOUT_MS}: the step's workflow task waited ${stickyWaits.join(', ')} ms on the killed worker's sticky queue`);
    assert.equal(stickyWaits.length, 1, `one workflow task timed out on the dead worker's sticky queue; waits: ${JSON.stringify(stickyWaits)}`);
    // The server fires the timeout on its own timer: at the set time, give or take its scheduling.
    assert.ok(stickyWaits[0]! >= STICKY_TIMEOUT_MS && stickyWaits[0]! < STICKY_TIMEOUT_MS + 3_000, `the task waited ${stickyWaits[0]} ms on the sticky queue`);
  } finally {
    await connection.close();
  }
});
