import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, Worker, type InjectedSinks, type WorkflowBundle } from '@temporalio/worker';
import { sql } from 'drizzle-orm';
import { createPolicyStore } from '../db/policy-store.js';
import { leadEvents } from '../db/schema.js';
import type { Policy } from '../domain/policy.js';
import { seedInboundQueue } from '../test/support/scenarios.js';
import { startService, tokenFor, type RunningService } from '../test/support/service.js';
import { secondsScalePolicy } from '../test/support/policies.js';
import type { Role } from '../service.config.js';
import { temporalSettings } from '../temporal.config.js';
import type { RawActivities, RawSinks } from './raw-workflows.js';
import { progress } from './support.js';

export const rawWorkflowsPath = fileURLToPath(new URL('./raw-workflows.ts', import.meta.url));

export interface BenchOptions {
  quick: boolean;
  /** Timer storm size. */
  leads: number;
  /** Lead events seeded for the report queries. */
  events: number;
  intake: number;
  latencySamples: number;
  /** Rounds of intake and step latency, service and raw alternating. */
  rounds: number;
  memoryWorkflows: number;
  concurrency: number;
  only: Set<string> | null;
}

/** Everything a measurement needs: the service on real parts, and a raw-Temporal worker on the same server. */
export interface BenchContext {
  options: BenchOptions;
  runId: string;
  service: RunningService;
  rawWorker: Worker;
  /**
   * Starts the raw baselines, and the lead workflows the memory worker caches: the same connection as the
   * service's client, without its payload encryption, as a bare Temporal program would have it.
   */
  rawClient: Client;
  rawTaskQueue: string;
  rawBundle: WorkflowBundle;
  /** Both workers' sticky queue timeout (TEMPORAL_STICKY_TIMEOUT_MS). */
  stickyQueueTimeoutMs: number;
  /** Date.now() of each raw `touch` activity, by index, for the current storm. */
  rawTouches: Map<number, number>;
  /** Indexes of the raw storm workflows whose timer is set (reported by the `storm.timerSet` sink). */
  rawTimersSet: Set<number>;
  /** Publishes `policy` (under its own version) so new leads start under it. */
  usePolicy(policy: Policy): Promise<void>;
  /** The API in process (Hono app.request, no HTTP socket), as a role's token. */
  api(method: string, path: string, body?: unknown, role?: Role, as?: string): Promise<{ status: number; body: any }>;
  /** Count of rows matching a SQL fragment, on the service's database. */
  scalar(query: ReturnType<typeof sql>): Promise<number>;
  notes: string[];
  stop(): Promise<void>;
}

const quietBundleLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (message: string) => progress(`bundler: ${message}`),
  error: (message: string) => progress(`bundler: ${message}`),
};

export async function createBenchContext(options: BenchOptions, runId: string): Promise<BenchContext> {
  progress('starting the service: Temporal dev server, Postgres database, worker, API (test/support/service.ts startService)');
  // Both workers take the service's TEMPORAL_STICKY_TIMEOUT_MS, so a storm can be measured with it.
  const { stickyQueueTimeoutMs } = temporalSettings();
  const service = await startService(secondsScalePolicy(), { stickyQueueTimeoutMs });
  await seedInboundQueue(service);
  const policyStore = createPolicyStore(service.database.db);

  progress('bundling the raw baseline workflows (bench/raw-workflows.ts)');
  const rawBundle = await bundleWorkflowCode({ workflowsPath: rawWorkflowsPath, logger: quietBundleLogger });
  const rawTaskQueue = `bench-raw-${runId}`;
  const rawTouches = new Map<number, number>();
  const activities: RawActivities = {
    async touch(index) {
      if (!rawTouches.has(index)) rawTouches.set(index, Date.now());
    },
    async nothing() {},
    async recordRawStep(workflowId, seq) {
      // The same table the service audits steps in, so both sides pay for the same indexes.
      await service.database.db.transaction(async (tx) => {
        await tx
          .insert(leadEvents)
          .values({
            leadId: workflowId,
            workflowId,
            idempotencyKey: `${workflowId}:raw-step:${seq}`,
            seq,
            type: 'bench-raw-step',
            at: new Date(),
            actor: 'bench',
            payload: { seq },
          })
          .onConflictDoNothing({ target: leadEvents.idempotencyKey });
      });
    },
  };
  const rawTimersSet = new Set<number>();
  const sinks: InjectedSinks<RawSinks> = { storm: { timerSet: { fn: (_info, index) => void rawTimersSet.add(index) } } };
  const rawWorker = await Worker.create({
    connection: service.temporal.workerConnection,
    namespace: service.temporal.namespace,
    taskQueue: rawTaskQueue,
    workflowBundle: rawBundle,
    activities,
    sinks,
    stickyQueueScheduleToStartTimeout: stickyQueueTimeoutMs,
  });
  const rawRun = rawWorker.run();

  /** The version (as the benchmark named it) that new leads currently start under. */
  let current = secondsScalePolicy().version;
  let published = 0;

  return {
    options,
    runId,
    service,
    rawWorker,
    rawClient: new Client({ connection: service.temporal.client.connection, namespace: service.temporal.namespace }),
    rawTaskQueue,
    rawBundle,
    stickyQueueTimeoutMs,
    rawTouches,
    rawTimersSet,
    notes: [],
    async usePolicy(policy) {
      if (policy.version === current) return;
      const stored = await policyStore.get(policy.version);
      // Versions are immutable: going back to a version already stored republishes it under a fresh name.
      const version = stored ? `${policy.version}+bench-${runId}-${++published}` : policy.version;
      await policyStore.publish({ document: { ...policy, version }, author: 'bench', note: `bench ${runId}` });
      current = policy.version;
    },
    async api(method, path, body, role = 'sales', as) {
      const headers: Record<string, string> = { authorization: `Bearer ${tokenFor(role, as)}` };
      const text = body === undefined ? undefined : JSON.stringify(body);
      if (text !== undefined) {
        headers['content-type'] = 'application/json';
        // As every HTTP client sends it; without it the API's body limit has to count a streamed body.
        headers['content-length'] = String(Buffer.byteLength(text));
      }
      const response = await service.app.request(path, { method, headers, body: text });
      const answer = await response.text();
      return { status: response.status, body: answer ? JSON.parse(answer) : null };
    },
    async scalar(query) {
      const rows = (await service.database.db.execute(query)) as unknown as Array<Record<string, unknown>>;
      const first = rows[0];
      return first ? Number(Object.values(first)[0]) : 0;
    },
    async stop() {
      rawWorker.shutdown();
      await rawRun;
      await service.stop();
    },
  };
}
