import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { createNotifier } from '../activities/notifier.js';
import { openDatabase, type DatabaseHandle } from '../db/client.js';

/**
 * A worker in a process of its own, so its memory is not mixed with the benchmark's: started by
 * bench/memory.ts with `node --import tsx --expose-gc`, configured through BENCH_MEMORY_WORKER (JSON), and
 * driven over IPC ('status', 'measure', 'stop').
 *
 * It runs with debugMode, which puts the workflow sandbox (the same reusable V8 context the default worker
 * thread would hold) on the main thread, so heapUsed includes the cached workflows' state; rss covers
 * everything either way.
 */

export interface MemoryWorkerConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  kind: 'lead' | 'raw';
  bundlePath: string;
  databaseUrl?: string;
  maxCachedWorkflows: number;
}

export type MemoryWorkerRequest = { type: 'status' } | { type: 'measure' } | { type: 'stop' };
export interface MemoryWorkerStatus {
  type: 'status';
  cached: number;
  inFlight: number;
}
export interface MemoryWorkerUsage {
  type: 'memory';
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  cached: number;
}
export type MemoryWorkerMessage = { type: 'ready' } | { type: 'stopped' } | { type: 'error'; message: string } | MemoryWorkerStatus | MemoryWorkerUsage;

const send = (message: MemoryWorkerMessage) => process.send?.(message);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_MEMORY_WORKER ?? 'null') as MemoryWorkerConfig | null;
  if (!config || !process.send) throw new Error('bench/memory-worker.ts is started by bench/memory.ts (IPC + BENCH_MEMORY_WORKER)');
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  // The notifier logs each notification it records; thousands of lines would only cost time here.
  const log = console.log;
  console.log = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('[notify]')) return;
    log(...args);
  };

  let database: DatabaseHandle | undefined;
  let activities: object;
  if (config.kind === 'lead') {
    database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: '/nonexistent' });
    activities = createActivities({ db: database.db, notifier: createNotifier(database.db, {}) });
  } else {
    activities = { touch: async () => {} };
  }
  const connection = await NativeConnection.connect({ address: config.address });
  const worker = await Worker.create({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    workflowBundle: { codePath: config.bundlePath },
    activities,
    maxCachedWorkflows: config.maxCachedWorkflows,
    debugMode: true,
  });
  const running = worker.run();

  process.on('message', (message: MemoryWorkerRequest) => {
    void (async () => {
      const status = worker.getStatus();
      switch (message.type) {
        case 'status':
          send({ type: 'status', cached: status.numCachedWorkflows, inFlight: status.numInFlightWorkflowActivations + status.numInFlightActivities });
          return;
        case 'measure': {
          const gc = (globalThis as { gc?: () => void }).gc;
          for (let i = 0; i < 3; i += 1) {
            gc?.();
            await pause(200);
          }
          const usage = process.memoryUsage();
          send({ type: 'memory', ...usage, cached: worker.getStatus().numCachedWorkflows });
          return;
        }
        case 'stop':
          worker.shutdown();
          await running;
          await connection.close();
          await database?.close();
          send({ type: 'stopped' });
          process.disconnect();
          return;
      }
    })().catch((error: unknown) => send({ type: 'error', message: String((error as Error).stack ?? error) }));
  });
  send({ type: 'ready' });
  await running;
}

main().catch((error: unknown) => {
  send({ type: 'error', message: String((error as Error).stack ?? error) });
  process.exitCode = 1;
});
