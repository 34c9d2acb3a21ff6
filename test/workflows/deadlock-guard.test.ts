import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { createDevServerEnvironment, quietWorkerLogs, uniqueId, type DevServerEnvironment } from '../support/temporal.js';
import { answeringWorkflow, spinningWorkflow, spinSignal } from '../support/workflows/spinning.js';

const TIMEOUT_MS = 1000;

/**
 * The sandbox ends workflow code that does not yield (an endless loop) after the isolate execution timeout and
 * fails that workflow task, and the worker goes on with other workflows. patches/@temporalio+worker+*.patch
 * guards an activation's calls into the context with one watchdog instead of one per call; this holds it to the
 * same outcome. A loop in code resumed after an await is not tested: there the SDK, with or without the patch,
 * ends the worker thread's process ("async hook stack has become corrupted", temporalio/sdk-typescript#939).
 */
describe('the deadlock guard of the workflow sandbox', () => {
  let env: DevServerEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = uniqueId('deadlock-guard');

  before(async () => {
    quietWorkerLogs();
    env = await createDevServerEnvironment();
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: new URL('../support/workflows/spinning.ts', import.meta.url).pathname, logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } });
    worker = await Worker.create({
      connection: env.workerConnection,
      namespace: env.namespace,
      taskQueue,
      workflowBundle,
      // Not in WorkerOptions' type ("not exposed at the moment"), read all the same: 1 s keeps the test short.
      ...({ isolateExecutionTimeout: TIMEOUT_MS } as object),
    });
    running = worker.run();
  });
  after(async () => {
    worker?.shutdown();
    await running?.catch(() => {});
    await env?.teardown();
  });

  async function firstTaskFailure(workflowId: string): Promise<string> {
    const handle = env.client.workflow.getHandle(workflowId);
    for (let attempt = 0; attempt < 150; attempt += 1) {
      const history = await handle.fetchHistory();
      const failed = history.events?.find((event) => event.workflowTaskFailedEventAttributes);
      if (failed) return failed.workflowTaskFailedEventAttributes?.failure?.message ?? '';
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${workflowId}: no workflow task failed within 15 s`);
  }

  test('a loop in a signal handler fails its workflow task with the timeout, and the worker answers the next workflow', async () => {
    const workflowId = uniqueId('spin');
    const handle = await env.client.workflow.start(spinningWorkflow, { taskQueue, workflowId });
    await handle.signal(spinSignal);

    const message = await firstTaskFailure(workflowId);
    assert.match(message, new RegExp(`Script execution timed out after ${TIMEOUT_MS}ms`), message);

    const answer = await env.client.workflow.execute(answeringWorkflow, { taskQueue, workflowId: uniqueId('answer'), args: [41] });
    assert.equal(answer, 42);
    await handle.terminate('test over');
  });
});
