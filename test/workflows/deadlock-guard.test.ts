import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startProcess, type ServiceProcess } from '../support/processes.js';
import { createDevServerEnvironment, uniqueId, type DevServerEnvironment } from '../support/temporal.js';
import { answeringWorkflow, spinningWorkflow, spinSignal } from './children/spinning-workflows.js';

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
  let worker: ServiceProcess;
  const taskQueue = uniqueId('deadlock-guard');

  before(async () => {
    env = await createDevServerEnvironment();
    worker = startProcess('spinning-worker', 'test/workflows/children/spinning-worker.ts', { args: [env.server.address, taskQueue, String(TIMEOUT_MS)] });
    await worker.waitFor(/spinning worker running/);
  });
  after(async () => {
    await worker?.stop(3_000);
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
