import { sql } from 'drizzle-orm';
import type { BenchContext } from './context.js';
import { cpuPerItem, readCpuTimes, type CpuTimes } from './cpu.js';
import { quietPolicy } from './policies.js';
import { minimalWorkflow } from './raw-workflows.js';
import { leadWorkflowId } from '../temporal.config.js';
import { now, pollUntil, progress, ratio, rawFirstIn, round, runPool, spread, summarize, terminateAll, throttledProgress, waitForIdle, type Spread, type Summary } from './support.js';

/**
 * 1. Intake throughput: POST /leads through the API in process (Hono `app.request()`, no HTTP socket) vs
 * raw `client.workflow.start` of a workflow that only starts, at the same concurrency, same client, same server.
 * "Accepted" is the caller's view (request answered); "processed" runs until the work the start caused is
 * done (the lead routed and its audit written / the raw workflow completed). Over the same span it reads the
 * CPU each part of the system spent per lead, which tells cost from waiting: with the SDK's default pollers
 * both sides' first workflow tasks wait in the task queue, and neither side keeps two cores busy.
 */

export interface IntakeSide {
  /** Requests per round. */
  count: number;
  acceptedPerSecond: Spread;
  /** Request latency of every round together. */
  latencyMs: Summary;
  /** From the first request until every started workflow has done its initial work. */
  processedPerSecond: Spread;
  drainedWithinTimeout: boolean;
  /** CPU ms per lead from the first request until processed, by part (see bench/cpu.ts). */
  cpuPerLeadMs: Record<keyof CpuTimes | 'totalMs', Spread>;
}

export interface IntakeResult {
  how: string;
  concurrency: number;
  rounds: number;
  service: IntakeSide;
  raw: IntakeSide;
  /** service ÷ raw of each round (below 1: the service is slower). */
  acceptedRatio: Spread;
  processedRatio: Spread;
  /** service ÷ raw of each round's CPU per lead, all parts together (above 1: the service costs more). */
  cpuRatio: Spread;
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

/**
 * Leads of `prefix` routed at or after `since`. The time bound keeps this poll on the (type, at) index when the
 * report measurement has seeded a million older events; a LIKE on lead_id alone would scan them several times a second.
 */
export function routedCount(ctx: BenchContext, prefix: string, since: Date): Promise<number> {
  return ctx.scalar(sql`select count(*) from lead_events where type = 'routed' and at >= ${since.toISOString()}::timestamptz and lead_id like ${`${prefix}%`}`);
}

/** A lower bound for the `at` of events a measurement is about to cause (workflow time lags the clock by little). */
export const measurementStart = (): Date => new Date(Date.now() - 60_000);

interface RoundSide {
  durationsMs: number[];
  acceptedPerSecond: number;
  processedPerSecond: number;
  drained: boolean;
  cpuPerLead: ReturnType<typeof cpuPerItem>;
}

async function rawRound(ctx: BenchContext, round: number, drainTimeoutMs: number): Promise<RoundSide> {
  const { intake: count, concurrency } = ctx.options;
  const client = ctx.rawClient;
  progress(`intake round ${round + 1}: raw client.workflow.start × ${count} at concurrency ${concurrency}`);
  const ids = Array.from({ length: count }, (_, i) => `raw-min-${ctx.runId}-${round}-${i}`);
  const cpuBefore = readCpuTimes(ctx.service.temporal.server.pid);
  const started = now();
  const run = await runPool(
    count,
    concurrency,
    (i) => client.workflow.start(minimalWorkflow, { taskQueue: ctx.rawTaskQueue, workflowId: ids[i]!, args: [leadIntakeBody(ids[i]!, i)] }),
    throttledProgress(`intake round ${round + 1} (raw): started`, count),
  );
  const drained = await pollUntil(
    () => client.workflow.count(`WorkflowType = "minimalWorkflow" AND ExecutionStatus = "Running"`),
    (running) => running.count === 0,
    { timeoutMs: drainTimeoutMs, intervalMs: 100 },
  );
  const processedMs = now() - started;
  const cpuPerLead = cpuPerItem(cpuBefore, readCpuTimes(ctx.service.temporal.server.pid), count);
  await waitForIdle([ctx.rawWorker], { timeoutMs: 30_000 });
  return { durationsMs: run.durationsMs, acceptedPerSecond: count / (run.wallMs / 1000), processedPerSecond: count / (processedMs / 1000), drained: drained.ok, cpuPerLead };
}

async function serviceRound(ctx: BenchContext, round: number, drainTimeoutMs: number): Promise<RoundSide> {
  const { intake: count, concurrency } = ctx.options;
  progress(`intake round ${round + 1}: POST /leads × ${count} at concurrency ${concurrency}`);
  const prefix = `intake-${ctx.runId}-${round}-`;
  const ids = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  const since = measurementStart();
  const cpuBefore = readCpuTimes(ctx.service.temporal.server.pid);
  const started = now();
  const run = await intakeLeads(ctx, ids, concurrency, `intake round ${round + 1} (service): accepted`);
  const drained = await pollUntil(() => routedCount(ctx, prefix, since), (routed) => routed >= count, {
    timeoutMs: drainTimeoutMs,
    intervalMs: 100,
    onValue: throttledProgress(`intake round ${round + 1} (service): routed`, count),
  });
  const processedMs = now() - started;
  const cpuPerLead = cpuPerItem(cpuBefore, readCpuTimes(ctx.service.temporal.server.pid), count);
  // Assignment notifications and the audit flush still run after `routed` is written; let them finish, and
  // close the round's leads so the next round (of either side) starts on an empty cache.
  await waitForIdle([ctx.service.worker], { timeoutMs: 60_000 });
  await terminateAll(ctx.service.temporal.client, ids.map(leadWorkflowId));
  return { durationsMs: run.durationsMs, acceptedPerSecond: count / (run.wallMs / 1000), processedPerSecond: count / (processedMs / 1000), drained: drained.ok, cpuPerLead };
}

export async function measureIntake(ctx: BenchContext): Promise<IntakeResult> {
  const { intake: count, concurrency, rounds } = ctx.options;
  const client = ctx.rawClient;
  await ctx.usePolicy(quietPolicy(`bench-quiet-${ctx.runId}`));
  const drainTimeoutMs = Math.max(60_000, count * 200);

  progress(`intake: warming up (10 leads, 10 raw starts)`);
  const warmIds = Array.from({ length: 10 }, (_, i) => `warm-${ctx.runId}-${i}`);
  await intakeLeads(ctx, warmIds, concurrency);
  await runPool(10, concurrency, (i) =>
    client.workflow.start(minimalWorkflow, { taskQueue: ctx.rawTaskQueue, workflowId: `raw-warm-${ctx.runId}-${i}`, args: [leadIntakeBody(`raw-warm-${i}`, i)] }),
  );
  await waitForIdle([ctx.service.worker, ctx.rawWorker], { timeoutMs: 30_000 });
  await terminateAll(client, warmIds.map(leadWorkflowId));

  const serviceRounds: RoundSide[] = [];
  const rawRounds: RoundSide[] = [];
  for (let index = 0; index < rounds; index += 1) {
    if (rawFirstIn(index)) {
      rawRounds.push(await rawRound(ctx, index, drainTimeoutMs));
      serviceRounds.push(await serviceRound(ctx, index, drainTimeoutMs));
    } else {
      serviceRounds.push(await serviceRound(ctx, index, drainTimeoutMs));
      rawRounds.push(await rawRound(ctx, index, drainTimeoutMs));
    }
  }

  const side = (sides: RoundSide[]): IntakeSide => ({
    count,
    acceptedPerSecond: spread(sides.map((s) => s.acceptedPerSecond)),
    latencyMs: roundSummary(summarize(sides.flatMap((s) => s.durationsMs))),
    processedPerSecond: spread(sides.map((s) => s.processedPerSecond)),
    drainedWithinTimeout: sides.every((s) => s.drained),
    cpuPerLeadMs: Object.fromEntries(
      (['temporalMs', 'processMs', 'postgresMs', 'totalMs'] as const).map((part) => [part, spread(sides.map((s) => s.cpuPerLead[part]))]),
    ) as IntakeSide['cpuPerLeadMs'],
  });
  const perRound = (pick: (side: RoundSide) => number) => spread(serviceRounds.map((s, i) => ratio(pick(s), pick(rawRounds[i]!))));
  return {
    how: 'in-process Hono app.request() (no HTTP socket) vs client.workflow.start with the same intake payload on a client of the same connection (without the service\'s payload encryption); both on one dev server; rounds alternate which side goes first',
    concurrency,
    rounds,
    service: side(serviceRounds),
    raw: side(rawRounds),
    acceptedRatio: perRound((s) => s.acceptedPerSecond),
    processedRatio: perRound((s) => s.processedPerSecond),
    cpuRatio: perRound((s) => s.cpuPerLead.totalMs),
  };
}

export function roundSummary(summary: Summary): Summary {
  return Object.fromEntries(Object.entries(summary).map(([key, value]) => [key, key === 'n' ? value : round(value, 1)])) as unknown as Summary;
}
