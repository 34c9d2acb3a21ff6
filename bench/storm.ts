import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { sql } from 'drizzle-orm';
import { timestampMs } from '../api/health.js';
import type { BenchContext } from './context.js';
import { cpuPerItem, readCpuTimes, type CpuTimes } from './cpu.js';
import { intakeLeads, measurementStart, roundSummary, routedCount } from './intake.js';
import { durationToMs } from '../domain/business-time.js';
import { STORM_DUE_SOON, stormPolicy } from './policies.js';
import { sleepThenActivityWorkflow } from './raw-workflows.js';
import { leadWorkflowId } from '../temporal.config.js';
import { slaStateClause } from '../workflows/lead-search-attributes.js';
import { ceilToMinute, pollUntil, progress, round, runPool, sleep, summarize, terminateAll, throttledProgress, waitForIdle, type Summary } from './support.js';

/**
 * 4. Timer storm: N leads whose speed-to-lead deadlines fall due at the same instant (bench/policies.ts
 * stormPolicy: a business calendar that opens on a whole minute, one business second of allowance, and the
 * default policy's other timers and its due-soon mark, which since patch 'lean-clocks' is shown by DueSoonAt and
 * wakes nothing), timed from that instant until every lead's first `escalated` audit event is in Postgres
 * (recorded_at). Baseline: N raw workflows that sleep on one timer until the same instant, as a lead does, and
 * then run one trivial activity, timed until every activity has run.
 */

const dueSoonMs = durationToMs(STORM_DUE_SOON);

export interface StormSide {
  n: number;
  /** Workflows whose timer was set before the instant (leads: routed in time; raw: reported by the timerSet sink). */
  readyBeforeDeadline: number;
  startSeconds: number;
  /** From the shared deadline until the last one was done. */
  seconds: number;
  completed: number;
  perSecond: number;
  /** Per workflow: done minus deadline. */
  lagMs: Summary;
  /** Workflows in the worker's sticky cache at the deadline: the others are replayed from history when their timer fires. */
  cachedAtDeadline: number;
  /**
   * In a sample of the side's workflows, the workflow tasks after the instant that waited on the worker's sticky
   * queue longer than its schedule-to-start timeout (TEMPORAL_STICKY_TIMEOUT_MS, the SDK's 10 s unless set): each
   * went back to the normal queue and was handed out again with the workflow's whole history to replay.
   */
  stickyTimeouts: StickyTimeouts;
  /**
   * CPU ms per workflow from the instant until the last was done, by part (bench/cpu.ts): what one escalation, or
   * one raw timer and activity, costs the server, this process (the API and both workers) and Postgres.
   */
  cpuPerWorkflowMs: CpuTimes & { totalMs: number };
}

export interface StickyTimeouts {
  sampled: number;
  workflowsWithTimeout: number;
  timeouts: number;
}

export interface StormResult {
  how: string;
  service: StormSide & {
    deadline: string;
    dueChecked: string;
    /** Leads visibility showed due soon just before the deadline (SlaState on-track, DueSoonAt passed). */
    dueSoonMarked: number;
  };
  raw: StormSide & { deadline: string };
  /** Both workers' sticky queue timeout (TEMPORAL_STICKY_TIMEOUT_MS). */
  stickyQueueTimeoutMs: number;
  /** service ÷ raw of the storm duration (above 1: the service takes longer). */
  durationRatio: number;
}

/** How fast each side got through its first workflow tasks at intake: what sizes each side's wait for its instant. */
export interface StormHints {
  rawProcessedPerSecond?: number;
  leadsProcessedPerSecond?: number;
}

export async function measureStorm(ctx: BenchContext, hints: StormHints): Promise<StormResult> {
  const raw = await rawStorm(ctx, hints.rawProcessedPerSecond ?? 50);
  await waitForIdle([ctx.rawWorker], { timeoutMs: 60_000 });
  const service = await serviceStorm(ctx, hints.leadsProcessedPerSecond ?? 15);
  return {
    how:
      'leads started through POST /leads (in process) under a calendar that opens at a whole minute: all fall due at the same instant; ' +
      'done = first `escalated` audit row committed (lead_events.recorded_at). Raw: sleep(until instant) then one trivial activity; done = activity ran.',
    service,
    raw,
    stickyQueueTimeoutMs: ctx.stickyQueueTimeoutMs,
    durationRatio: round(service.seconds / raw.seconds, 2),
  };
}

const STICKY_SAMPLE = 100;
const scheduleToStart = proto.temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START;

/** Reads the histories of up to STICKY_SAMPLE workflows, spread evenly over the side, and counts sticky timeouts after `since`. */
async function stickyTimeoutsAfter(client: Client, workflowIds: string[], since: number): Promise<StickyTimeouts> {
  const step = Math.max(1, workflowIds.length / STICKY_SAMPLE);
  const sample = Array.from({ length: Math.min(STICKY_SAMPLE, workflowIds.length) }, (_, i) => workflowIds[Math.floor(i * step)]!);
  let workflowsWithTimeout = 0;
  let timeouts = 0;
  await runPool(sample.length, 10, async (i) => {
    const history = await client.workflow.getHandle(sample[i]!).fetchHistory();
    const found = (history.events ?? []).filter(
      (event) => event.workflowTaskTimedOutEventAttributes?.timeoutType === scheduleToStart && timestampMs(event.eventTime) >= since,
    ).length;
    if (found > 0) workflowsWithTimeout += 1;
    timeouts += found;
  });
  return { sampled: sample.length, workflowsWithTimeout, timeouts };
}

interface StormRun {
  ready: number;
  startMs: number;
  deadline: number;
  doneAt: number[];
  cachedAtDeadline: number;
  stickyTimeouts: StickyTimeouts;
  cpu: { before: CpuTimes; after: CpuTimes };
}

function storm(n: number, { ready, startMs, deadline, doneAt, cachedAtDeadline, stickyTimeouts, cpu }: StormRun): StormSide {
  const lag = doneAt.map((at) => at - deadline);
  const seconds = lag.length ? Math.max(...lag) / 1000 : Number.NaN;
  return {
    n,
    readyBeforeDeadline: ready,
    startSeconds: round(startMs / 1000, 1),
    seconds: round(seconds, 2),
    completed: doneAt.length,
    perSecond: round(doneAt.length / seconds, 1),
    lagMs: roundSummary(summarize(lag)),
    cachedAtDeadline,
    stickyTimeouts,
    cpuPerWorkflowMs: cpuPerItem(cpu.before, cpu.after, n),
  };
}

async function rawStorm(ctx: BenchContext, processedPerSecond: number): Promise<StormResult['raw']> {
  const n = ctx.options.leads;
  const client = ctx.rawClient;
  // Every start and first workflow task (which sets the timer) must be done before the instant: 70% of the rate
  // at which intake's raw workflows got through their first task, plus 20 s, as the service side is budgeted.
  // Budgeted on the start rate instead, a fast day's starts outran the first tasks queued behind them, and 258
  // timers were set after the instant; a start phase that overruns the instant mixes backlog into the storm.
  const budgetMs = (n / (processedPerSecond * 0.7)) * 1000 + 20_000;
  const deadline = Math.ceil((Date.now() + budgetMs) / 1000) * 1000;
  ctx.rawTouches.clear();
  ctx.rawTimersSet.clear();

  progress(`timer storm (raw): starting ${n} workflows that sleep until ${new Date(deadline).toISOString()}`);
  const started = Date.now();
  await runPool(
    n,
    ctx.options.concurrency,
    (i) =>
      client.workflow.start(sleepThenActivityWorkflow, {
        taskQueue: ctx.rawTaskQueue,
        workflowId: `raw-storm-${ctx.runId}-${i}`,
        args: [deadline, i],
      }),
    throttledProgress('timer storm (raw): started', n),
  );
  const startMs = Date.now() - started;
  // An idle worker is not proof: first tasks still queued on the server leave it idle between polls.
  const set = await pollUntil(async () => ctx.rawTimersSet.size, (count) => count >= n, { timeoutMs: Math.max(1_000, deadline - Date.now()), intervalMs: 200 });
  if (!set.ok) ctx.notes.push(`timer storm (raw): only ${set.value}/${n} timers were set before the shared instant; the raw storm figure includes start backlog`);

  progress(`timer storm (raw): all started; waiting ${((deadline - Date.now()) / 1000).toFixed(0)} s for the instant`);
  await sleep(deadline - Date.now());
  const cpuBefore = readCpuTimes(ctx.service.temporal.server.pid);
  const cached = ctx.rawWorker.getStatus().numCachedWorkflows;
  const ready = ctx.rawTimersSet.size;
  const report = throttledProgress('timer storm (raw)', n, 1_000);
  await pollUntil(async () => ctx.rawTouches.size, (done) => done >= n, {
    timeoutMs: Math.max(120_000, n * 60),
    intervalMs: 100,
    onValue: (done) => report(done, 'activities ran'),
  });
  const cpu = { before: cpuBefore, after: readCpuTimes(ctx.service.temporal.server.pid) };
  const rawIds = Array.from({ length: n }, (_, i) => `raw-storm-${ctx.runId}-${i}`);
  const stickyTimeouts = await stickyTimeoutsAfter(client, rawIds, deadline);
  const doneAt = [...ctx.rawTouches.values()];
  return { ...storm(n, { ready, startMs, deadline, doneAt, cachedAtDeadline: cached, stickyTimeouts, cpu }), deadline: new Date(deadline).toISOString() };
}

async function serviceStorm(ctx: BenchContext, leadsPerSecond: number): Promise<StormResult['service']> {
  const n = ctx.options.leads;
  // Routing all N must finish before the calendar opens (at 70% of the intake phase's end-to-end rate, plus
  // 20 s); the opening is then rounded up to a whole minute. Leads routed late are reported, not hidden.
  // The due-soon mark falls before the opening, so it is added to the budget: a lead routed after it arms none.
  const budgetMs = (n / (leadsPerSecond * 0.7)) * 1000 + 20_000 + dueSoonMs;
  const opensAt = ceilToMinute(new Date(Date.now() + budgetMs));
  const { policy, deadline } = stormPolicy(`bench-storm-${ctx.runId}`, opensAt);
  await ctx.usePolicy(policy);
  const prefix = `storm-${ctx.runId}-`;
  const ids = Array.from({ length: n }, (_, i) => `${prefix}${i}`);

  progress(`timer storm: starting ${n} leads through POST /leads; all fall due at ${deadline.toISOString()}`);
  const since = measurementStart();
  const started = Date.now();
  await intakeLeads(ctx, ids, ctx.options.concurrency, 'timer storm: started');
  const startMs = Date.now() - started;
  const routedReport = throttledProgress('timer storm: routed', n);
  const routed = await pollUntil(() => routedCount(ctx, prefix, since), (count) => count >= n, {
    timeoutMs: Math.max(1_000, deadline.getTime() - dueSoonMs - Date.now()),
    intervalMs: 250,
    onValue: routedReport,
  });
  if (!routed.ok) {
    ctx.notes.push(`timer storm: only ${routed.value}/${n} leads were routed before the due-soon mark; those routed after the deadline count as late`);
  }

  // The deadline the workflows computed, read back from two of them.
  const dueOf = async (leadId: string) => ((await ctx.api('GET', `/leads/${leadId}`)).body?.speedToLead?.due?.at as string | undefined) ?? 'unknown';
  const dues = [await dueOf(ids[0]!), await dueOf(ids[n - 1]!)];
  const dueChecked = dues.every((due) => due === deadline.toISOString()) ? 'first and last lead due at the shared instant' : `due at ${dues.join(', ')}`;
  if (!dues.every((due) => due === deadline.toISOString())) ctx.notes.push(`timer storm: ${dueChecked}, expected ${deadline.toISOString()}`);

  progress(`timer storm: all started; waiting ${((deadline.getTime() - Date.now()) / 1000).toFixed(0)} s for the deadline`);
  // Read just before the deadline, when every lead is due soon and none has breached yet.
  await sleep(deadline.getTime() - Date.now() - 2_000);
  const dueSoonQuery = `${slaStateClause('due-soon', new Date())} AND WorkflowId STARTS_WITH "${leadWorkflowId(prefix)}"`;
  const dueSoonMarked = (await ctx.service.temporal.client.workflow.count(dueSoonQuery)).count;
  if (dueSoonMarked < n) ctx.notes.push(`timer storm: ${dueSoonMarked}/${n} leads showed due soon 2 s before the deadline (visibility may lag)`);
  await sleep(deadline.getTime() - Date.now());
  const cpuBefore = readCpuTimes(ctx.service.temporal.server.pid);
  const cached = ctx.service.worker.getStatus().numCachedWorkflows;
  const report = throttledProgress('timer storm', n, 1_000);
  const firstEscalations = sql`
    select lead_id, min(recorded_at) as recorded_at from lead_events
    where type = 'escalated' and at >= ${since.toISOString()}::timestamptz and lead_id like ${`${prefix}%`} group by lead_id`;
  await pollUntil(() => ctx.scalar(sql`select count(*) from (${firstEscalations}) as escalated`), (done) => done >= n, {
    timeoutMs: Math.max(180_000, n * 60),
    intervalMs: 1_000,
    onValue: (done) => report(done, 'escalated'),
  });
  const cpu = { before: cpuBefore, after: readCpuTimes(ctx.service.temporal.server.pid) };
  const rows = (await ctx.service.database.db.execute(
    sql`select extract(epoch from recorded_at) * 1000 as at from (${firstEscalations}) as escalated`,
  )) as unknown as Array<{ at: string }>;
  const stickyTimeouts = await stickyTimeoutsAfter(ctx.service.temporal.client, ids.map(leadWorkflowId), deadline.getTime());
  await terminateAll(ctx.service.temporal.client, ids.map(leadWorkflowId));
  return {
    ...storm(n, { ready: routed.value, startMs, deadline: deadline.getTime(), doneAt: rows.map((row) => Number(row.at)), cachedAtDeadline: cached, stickyTimeouts, cpu }),
    deadline: deadline.toISOString(),
    dueChecked,
    dueSoonMarked,
  };
}
