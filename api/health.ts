import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import proto from '@temporalio/proto';
import type { Client } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { TASK_QUEUE } from '../temporal.config.js';
import { jsonResponse } from './openapi.js';

const { TaskQueueKind, TaskQueueType } = proto.temporal.api.enums.v1;

/**
 * Liveness and readiness. `/health` says the process answers; `/ready` says it can do its work: Temporal
 * answers, the database answers, and a worker polls the task queue (without one, every step would wait
 * until it times out). A load balancer routes by `/ready`; a supervisor restarts by `/health`.
 */

export interface ReadinessOptions {
  /** The longest one check may take; a dependency that hangs counts as down after this. */
  checkTimeoutMs: number;
  /**
   * How recently a worker must have polled. A live but idle worker renews its long poll about once a
   * minute (the server's long-poll expiry), so a shorter window would call an idle worker gone.
   */
  pollerMaxAgeMs: number;
  taskQueue: string;
}

export const defaultReadinessOptions: ReadinessOptions = { checkTimeoutMs: 2_000, pollerMaxAgeMs: 75_000, taskQueue: TASK_QUEUE };

export interface HealthDependencies {
  client: Client;
  db: Database;
  readiness?: Partial<ReadinessOptions>;
}

const checkSchema = z.object({
  state: z.enum(['up', 'down']),
  detail: z.string(),
  ms: z.number().openapi({ description: 'How long the check took' }),
});

const readinessSchema = z
  .object({
    status: z.enum(['ready', 'not-ready']),
    checks: z.object({ temporal: checkSchema, database: checkSchema, worker: checkSchema }),
  })
  .openapi('Readiness');

const healthRoute = createRoute({
  method: 'get',
  path: '/health',
  tags: ['operations'],
  summary: 'Liveness: the process is up and answers (it checks no dependency)',
  security: [],
  responses: { 200: jsonResponse(z.object({ status: z.literal('ok') }).openapi('Health'), 'The process is up') },
});

const readyRoute = createRoute({
  method: 'get',
  path: '/ready',
  tags: ['operations'],
  summary: 'Readiness: Temporal answers, the database answers (select 1) and a worker polls the task queue; each check is bounded in time',
  security: [],
  responses: {
    200: jsonResponse(readinessSchema, 'Every check is up'),
    503: {
      ...jsonResponse(readinessSchema, 'At least one check is down; the body names each check and its state'),
      headers: { 'Retry-After': { description: 'Seconds to wait before asking again', schema: { type: 'integer' } } },
    },
  },
});

class CheckTimeout extends Error {}

/** Settles within `ms`: a hung dependency becomes a failed check, never a hung request. */
function withinTime<T>(ms: number, run: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckTimeout(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([run(), timeout]).finally(() => clearTimeout(timer));
}

type CheckResult = z.infer<typeof checkSchema>;

async function timed(ms: number, run: () => Promise<string>): Promise<CheckResult> {
  const started = performance.now();
  try {
    const detail = await withinTime(ms, run);
    return { state: 'up', detail, ms: Math.round(performance.now() - started) };
  } catch (error) {
    const detail = error instanceof CheckTimeout ? error.message : `failed: ${(error as Error).message ?? String(error)}`;
    return { state: 'down', detail, ms: Math.round(performance.now() - started) };
  }
}

/** Concurrent callers share one run of a check, so probes against a hung dependency do not pile up. */
function singleFlight<T>(run: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => {
    inFlight ??= run().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}

/** A protobuf Timestamp (seconds may be a Long) as epoch milliseconds; 0 when absent. */
export const timestampMs = (time: { seconds?: { toString(): string } | null; nanos?: number | null } | null | undefined) =>
  time ? Number(time.seconds?.toString() ?? 0) * 1000 + Math.floor((time.nanos ?? 0) / 1e6) : 0;

export function healthRoutes({ client, db, readiness = {} }: HealthDependencies) {
  const options = { ...defaultReadinessOptions, ...readiness };
  // The gRPC deadline only cleans up a call the timer below has already given up on, so it comes a little later.
  const deadline = () => Date.now() + options.checkTimeoutMs + 500;
  const app = new OpenAPIHono();

  const temporalCheck = singleFlight(() =>
    timed(options.checkTimeoutMs, async () => {
      const info = await client.connection.withDeadline(deadline(), () => client.workflowService.getSystemInfo({}));
      return `server ${info.serverVersion || 'answered'}`;
    }),
  );

  const databaseCheck = singleFlight(() =>
    timed(options.checkTimeoutMs, async () => {
      await db.execute(sql`select 1`);
      return 'select 1 answered';
    }),
  );

  // Workflow and activity tasks are polled separately; a worker of this service polls both.
  const workerCheck = singleFlight(() =>
    timed(options.checkTimeoutMs, async () => {
      const kinds = [
        ['workflow', TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW],
        ['activity', TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY],
      ] as const;
      const now = Date.now();
      const seen = await Promise.all(
        kinds.map(async ([name, taskQueueType]) => {
          const answer = await client.connection.withDeadline(deadline(), () =>
            client.workflowService.describeTaskQueue({
              namespace: client.options.namespace,
              taskQueue: { name: options.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
              taskQueueType,
            }),
          );
          const newest = Math.max(0, ...answer.pollers.map((poller) => timestampMs(poller.lastAccessTime)));
          return { name, ageMs: newest === 0 ? undefined : Math.max(0, now - newest) };
        }),
      );
      const describe = ({ name, ageMs }: (typeof seen)[number]) =>
        ageMs === undefined ? `no ${name} poller` : `${name} poller seen ${Math.round(ageMs / 1000)} s ago`;
      const stale = seen.filter(({ ageMs }) => ageMs === undefined || ageMs > options.pollerMaxAgeMs);
      if (stale.length > 0) {
        throw new Error(`no worker polls task queue ${options.taskQueue} (within ${options.pollerMaxAgeMs / 1000} s): ${seen.map(describe).join(', ')}`);
      }
      return `task queue ${options.taskQueue}: ${seen.map(describe).join(', ')}`;
    }),
  );

  app.openapi(healthRoute, (c) => c.json({ status: 'ok' as const }, 200));

  app.openapi(readyRoute, async (c) => {
    const [temporal, database, worker] = await Promise.all([temporalCheck(), databaseCheck(), workerCheck()]);
    const checks = { temporal, database, worker };
    const ready = Object.values(checks).every((check) => check.state === 'up');
    c.header('cache-control', 'no-store');
    if (ready) return c.json({ status: 'ready' as const, checks }, 200);
    c.header('retry-after', '5');
    return c.json({ status: 'not-ready' as const, checks }, 503);
  });

  return app;
}
