import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { leadWorkflowId } from '../temporal.config.js';
import { workflowBundle } from '../test/support/temporal.js';
import { leadWorkflow } from '../workflows/lead-workflow.js';
import type { BenchContext } from './context.js';
import { leadIntakeBody, measurementStart, routedCount } from './intake.js';
import type { MemoryWorkerConfig, MemoryWorkerMessage, MemoryWorkerRequest, MemoryWorkerUsage } from './memory-worker.js';
import { quietPolicy } from './policies.js';
import { updatableWorkflow } from './raw-workflows.js';
import { pollUntil, progress, round, runPool, sleep, throttledProgress } from './support.js';

/**
 * 5. Worker memory: a worker in a child process of its own (bench/memory-worker.ts) with a sticky cache
 * larger than N; resident memory and heap measured (after GC) with the worker idle, then again with N open
 * workflows cached, for N leads and for N raw workflows that wait for an update.
 */

export interface MemorySide {
  workflows: number;
  cached: number;
  baselineMiB: { rss: number; heapUsed: number };
  loadedMiB: { rss: number; heapUsed: number };
  perWorkflowKiB: { rss: number; heapUsed: number };
}

export interface MemoryResult {
  how: string;
  service: MemorySide;
  raw: MemorySide;
  /** service ÷ raw of rss per workflow. */
  rssRatio: number;
}

const workerScript = fileURLToPath(new URL('./memory-worker.ts', import.meta.url));
const MiB = 1024 * 1024;

class WorkerProcess {
  private readonly waiting: Array<{ type: string; resolve: (message: MemoryWorkerMessage) => void; reject: (error: Error) => void }> = [];
  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: MemoryWorkerMessage) => {
      if (message.type === 'error') {
        for (const waiter of this.waiting.splice(0)) waiter.reject(new Error(`memory worker: ${message.message}`));
        return;
      }
      const index = this.waiting.findIndex((waiter) => waiter.type === message.type);
      if (index >= 0) this.waiting.splice(index, 1)[0]!.resolve(message);
    });
    child.on('exit', (code) => {
      for (const waiter of this.waiting.splice(0)) waiter.reject(new Error(`memory worker exited with code ${code}`));
    });
  }

  static async start(config: MemoryWorkerConfig): Promise<WorkerProcess> {
    const child = fork(workerScript, [], {
      execArgv: ['--import', 'tsx', '--expose-gc'],
      env: { ...process.env, BENCH_MEMORY_WORKER: JSON.stringify(config) },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const worker = new WorkerProcess(child);
    await worker.next('ready');
    return worker;
  }

  next(type: string, timeoutMs = 120_000): Promise<MemoryWorkerMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`memory worker: no '${type}' within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.push({
        type,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  async ask<T extends MemoryWorkerMessage>(request: MemoryWorkerRequest, replyType: T['type']): Promise<T> {
    const reply = this.next(replyType);
    this.child.send(request);
    return (await reply) as T;
  }

  async stop(): Promise<void> {
    try {
      await this.ask({ type: 'stop' }, 'stopped');
    } finally {
      const exited = new Promise((resolve) => (this.child.exitCode !== null ? resolve(null) : this.child.once('exit', resolve)));
      await Promise.race([exited, sleep(5_000)]);
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
    }
  }
}

/** One worker process: memory idle, then with `ctx.options.memoryWorkflows` workflows from `start` cached. */
export async function measureWorkerMemory(
  ctx: BenchContext,
  kind: 'lead' | 'raw',
  bundlePath: string,
  start: (taskQueue: string, index: number) => Promise<unknown>,
  settled: () => Promise<boolean>,
): Promise<MemorySide> {
  const n = ctx.options.memoryWorkflows;
  const taskQueue = `bench-mem-${kind}-${ctx.runId}`;
  const worker = await WorkerProcess.start({
    address: ctx.service.temporal.server.address,
    namespace: ctx.service.temporal.namespace,
    taskQueue,
    kind,
    bundlePath,
    databaseUrl: ctx.service.database.url,
    maxCachedWorkflows: n + 50,
  });
  try {
    await sleep(1_000);
    const baseline = await worker.ask<MemoryWorkerUsage>({ type: 'measure' }, 'memory');
    progress(`worker memory (${kind}): idle worker rss ${(baseline.rss / MiB).toFixed(0)} MiB; starting ${n} workflows`);
    await runPool(n, ctx.options.concurrency, (i) => start(taskQueue, i), throttledProgress(`worker memory (${kind}): started`, n));
    const report = throttledProgress(`worker memory (${kind}): cached`, n);
    let quietSince: number | null = null;
    const ready = await pollUntil(
      async () => {
        const status = await worker.ask<Extract<MemoryWorkerMessage, { type: 'status' }>>({ type: 'status' }, 'status');
        report(status.cached);
        const idle = status.inFlight === 0 && status.cached >= n && (await settled());
        quietSince = idle ? (quietSince ?? Date.now()) : null;
        return quietSince !== null && Date.now() - quietSince >= 1_000;
      },
      (done) => done,
      { timeoutMs: Math.max(60_000, n * 200), intervalMs: 250 },
    );
    if (!ready.ok) ctx.notes.push(`worker memory (${kind}): the ${n} workflows had not all settled in the cache before measuring`);
    const loaded = await worker.ask<MemoryWorkerUsage>({ type: 'measure' }, 'memory');
    const mib = (bytes: number) => round(bytes / MiB, 1);
    const kib = (bytes: number) => round(bytes / 1024 / n, 1);
    return {
      workflows: n,
      cached: loaded.cached,
      baselineMiB: { rss: mib(baseline.rss), heapUsed: mib(baseline.heapUsed) },
      loadedMiB: { rss: mib(loaded.rss), heapUsed: mib(loaded.heapUsed) },
      perWorkflowKiB: { rss: kib(loaded.rss - baseline.rss), heapUsed: kib(loaded.heapUsed - baseline.heapUsed) },
    };
  } finally {
    await worker.stop();
  }
}

export async function measureMemory(ctx: BenchContext): Promise<MemoryResult> {
  const client = ctx.rawClient;
  const directory = mkdtempSync(join(tmpdir(), 'revops-bench-'));
  try {
    const leadBundle = join(directory, 'lead-workflows.js');
    const rawBundle = join(directory, 'raw-workflows.js');
    writeFileSync(leadBundle, (await workflowBundle()).code);
    writeFileSync(rawBundle, ctx.rawBundle.code);

    const policy = quietPolicy(`bench-quiet-${ctx.runId}`);
    const prefix = `mem-${ctx.runId}-`;
    const since = measurementStart();
    const service = await measureWorkerMemory(
      ctx,
      'lead',
      leadBundle,
      (taskQueue, i) => {
        const { score, ...profile } = leadIntakeBody(`${prefix}${i}`, i);
        return client.workflow.start(leadWorkflow, {
          taskQueue,
          workflowId: leadWorkflowId(profile.leadId),
          args: [{ profile, score: { ...score, negative: 0 }, policy, actor: 'bench' }],
        });
      },
      async () => (await routedCount(ctx, prefix, since)) >= ctx.options.memoryWorkflows,
    );
    const raw = await measureWorkerMemory(
      ctx,
      'raw',
      rawBundle,
      (taskQueue, i) => client.workflow.start(updatableWorkflow, { taskQueue, workflowId: `raw-mem-${ctx.runId}-${i}` }),
      async () => true,
    );
    return {
      how: 'worker in a child process (node --expose-gc, debugMode so the workflow sandbox heap is on the main thread), maxCachedWorkflows = N + 50; process.memoryUsage() after GC, idle vs N open workflows cached',
      service,
      raw,
      rssRatio: round(service.perWorkflowKiB.rss / raw.perWorkflowKiB.rss, 2),
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
