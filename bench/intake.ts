import { sql } from 'drizzle-orm';
import type { BenchContext } from './context.js';
import { quietPolicy } from './policies.js';
import { minimalWorkflow } from './raw-workflows.js';
import { leadWorkflowId } from '../temporal.config.js';
import { now, pollUntil, progress, ratio, round, runPool, summarize, terminateAll, throttledProgress, waitForIdle, type Summary } from './support.js';

/**
 * 1. Intake throughput: POST /leads through the API in process (Hono `app.request()`, no HTTP socket) vs
 * raw `client.workflow.start` of a workflow that only starts, at the same concurrency, same client, same server.
 * "Accepted" is the caller's view (request answered); "processed" runs until the work the start caused is
 * done (the lead routed and its audit written / the raw workflow completed).
 */

export interface IntakeSide {
  count: number;
  acceptedPerSecond: number;
  latencyMs: Summary;
  /** From the first request until every started workflow has done its initial work. */
  processedPerSecond: number;
  drainedWithinTimeout: boolean;
}

export interface IntakeResult {
  how: string;
  concurrency: number;
  service: IntakeSide;
  raw: IntakeSide;
  /** service ÷ raw (below 1: the service is slower). */
  acceptedRatio: number;
  processedRatio: number;
}

export function leadIntakeBody(leadId: string, index: number) {
  return {
    leadId,
    email: `${leadId.toLowerCase()}@example.com`,
    company: `Company ${leadId}`,
    icpTier: ((index % 3) + 1) as 1 | 2 | 3,
    source: 'bench',
    // 45 points: above the MQL threshold (40), below hot (70): every lead is routed, the path that costs most.
    score: { fit: 30, behavior: 10, intent: 5 },
  };
}

/** Starts leads through POST /leads; returns per-request durations and wall time. */
export async function intakeLeads(ctx: BenchContext, ids: string[], concurrency: number, label?: string) {
  const report = label ? throttledProgress(label, ids.length) : undefined;
  return runPool(
    ids.length,
    concurrency,
    async (index) => {
      const response = await ctx.api('POST', '/leads', leadIntakeBody(ids[index]!, index));
      if (response.status !== 201) throw new Error(`POST /leads answered ${response.status}: ${JSON.stringify(response.body)}`);
    },
    report,
  );
}

/** How many of the leads whose IDs start with `prefix` have a `routed` audit event. */
/**
 * Leads of `prefix` routed at or after `since`. The time bound keeps this poll on the (type, at) index when the
 * report measurement has seeded a million older events; a LIKE on lead_id alone would scan them several times a second.
 */
export function routedCount(ctx: BenchContext, prefix: string, since: Date): Promise<number> {
  return ctx.scalar(sql`select count(*) from lead_events where type = 'routed' and at >= ${since.toISOString()}::timestamptz and lead_id like ${`${prefix}%`}`);
}

/** A lower bound for the `at` of events a measurement is about to cause (workflow time lags the clock by little). */
export const measurementStart = (): Date => new Date(Date.now() - 60_000);

export async function measureIntake(ctx: BenchContext): Promise<IntakeResult> {
  const { intake: count, concurrency } = ctx.options;
  const { client } = ctx.service.temporal;
  await ctx.usePolicy(quietPolicy(`bench-quiet-${ctx.runId}`));
  const drainTimeoutMs = Math.max(60_000, count * 200);

  progress(`intake: warming up (10 leads, 10 raw starts)`);
  const warmIds = Array.from({ length: 10 }, (_, i) => `warm-${ctx.runId}-${i}`);
  await intakeLeads(ctx, warmIds, concurrency);
  await runPool(10, concurrency, (i) => client.workflow.start(minimalWorkflow, { taskQueue: ctx.rawTaskQueue, workflowId: `raw-warm-${ctx.runId}-${i}` }));
  await waitForIdle([ctx.service.worker, ctx.rawWorker], { timeoutMs: 30_000 });

  // Raw first: nothing it leaves behind keeps running.
  progress(`intake: raw client.workflow.start × ${count} at concurrency ${concurrency}`);
  const rawStarted = now();
  const rawRun = await runPool(
    count,
    concurrency,
    (i) => client.workflow.start(minimalWorkflow, { taskQueue: ctx.rawTaskQueue, workflowId: `raw-min-${ctx.runId}-${i}` }),
    throttledProgress('intake (raw): started', count),
  );
  const rawDrained = await pollUntil(
    () => client.workflow.count(`WorkflowType = "minimalWorkflow" AND ExecutionStatus = "Running"`),
    (running) => running.count === 0,
    { timeoutMs: drainTimeoutMs, intervalMs: 100 },
  );
  const rawProcessedMs = now() - rawStarted;
  await waitForIdle([ctx.rawWorker], { timeoutMs: 30_000 });

  progress(`intake: POST /leads × ${count} at concurrency ${concurrency}`);
  const prefix = `intake-${ctx.runId}-`;
  const ids = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  const since = measurementStart();
  const serviceStarted = now();
  const serviceRun = await intakeLeads(ctx, ids, concurrency, 'intake (service): accepted');
  const routedProgress = throttledProgress('intake (service): routed', count);
  const serviceDrained = await pollUntil(() => routedCount(ctx, prefix, since), (routed) => routed >= count, {
    timeoutMs: drainTimeoutMs,
    intervalMs: 100,
    onValue: routedProgress,
  });
  const serviceProcessedMs = now() - serviceStarted;
  // Assignment notifications and the audit flush still run after `routed` is written; let them finish.
  await waitForIdle([ctx.service.worker], { timeoutMs: 60_000 });
  await terminateAll(client, [...warmIds, ...ids].map(leadWorkflowId));

  const side = (run: { durationsMs: number[]; wallMs: number }, processedMs: number, drained: boolean): IntakeSide => ({
    count,
    acceptedPerSecond: round(count / (run.wallMs / 1000), 1),
    latencyMs: roundSummary(summarize(run.durationsMs)),
    processedPerSecond: round(count / (processedMs / 1000), 1),
    drainedWithinTimeout: drained,
  });
  const service = side(serviceRun, serviceProcessedMs, serviceDrained.ok);
  const raw = side(rawRun, rawProcessedMs, rawDrained.ok);
  return {
    how: 'in-process Hono app.request() (no HTTP socket) vs client.workflow.start on the same Client; both on one dev server',
    concurrency,
    service,
    raw,
    acceptedRatio: round(ratio(service.acceptedPerSecond, raw.acceptedPerSecond), 3),
    processedRatio: round(ratio(service.processedPerSecond, raw.processedPerSecond), 3),
  };
}

export function roundSummary(summary: Summary): Summary {
  return Object.fromEntries(Object.entries(summary).map(([key, value]) => [key, key === 'n' ? value : round(value, 1)])) as unknown as Summary;
}
