// Child process of deadlock-guard.test.ts: a worker for spinning-workflows.ts. A workflow thread that the guard
// fails to stop spins for good and keeps its process alive, so it runs apart from the test, which kills it.
// Usage: spinning-worker.ts <temporal address> <task queue> <isolate execution timeout ms>.
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { quietWorkerLogs } from '../../support/temporal.js';

const [address, taskQueue, timeoutMs] = process.argv.slice(2) as [string, string, string];
quietWorkerLogs();
const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const workflowBundle = await bundleWorkflowCode({ workflowsPath: new URL('spinning-workflows.ts', import.meta.url).pathname, logger: silent });
const connection = await NativeConnection.connect({ address });
const worker = await Worker.create({
  connection,
  taskQueue,
  workflowBundle,
  // Not in WorkerOptions' type ("not exposed at the moment"), read all the same: a short timeout keeps the test short.
  ...({ isolateExecutionTimeout: Number(timeoutMs) } as object),
});
process.once('SIGTERM', () => worker.shutdown());
console.log('spinning worker running');
await worker.run();
await connection.close();
