import { randomUUID } from 'node:crypto';
import type { BenchContext } from './context.js';
import { intakeLeads, measurementStart, roundSummary, routedCount } from './intake.js';
import { quietPolicy } from './policies.js';
import { durablePingUpdate, durableUpdatableWorkflow, localDurablePingUpdate, localDurableUpdatableWorkflow, localNothingPingUpdate, pingUpdate, updatableWorkflow } from './raw-workflows.js';
import { leadWorkflowId } from '../temporal.config.js';
import { logContactAttemptUpdate } from '../workflows/lead-definitions.js';
import { now, pollUntil, progress, ratio, rawFirstIn, runPool, spread, summarize, terminateAll, throttledProgress, waitForIdle, type Spread, type Summary } from './support.js';

/**
 * 2. Step round-trip latency: POST /leads/{id}/contact-attempts (an Update with a validator; the handler
 * stages an audit event and waits for its commit, a local activity in the same workflow task, before
 * answering) through the API in process, next to three raw baselines: a bare executeUpdate whose handler
 * returns its argument, and two whose handler first commits one audit row in Postgres, the durable write a
 * step promises: once as an ordinary activity (awaited), once as a local activity, the way the step makes it;
 * and the floor of any step that commits before it answers: an update whose handler awaits a local activity
 * that does nothing. The same step is also sent straight from the service's client, as the API sends it, to
 * tell the API's share from the workflow task's. One request at a time, the six interleaved per sample so all
 * see the same background, in rounds that alternate who goes first.
 */

const PERCENTILES = ['p50', 'p95', 'p99'] as const;
type Percentiles = Record<(typeof PERCENTILES)[number], Spread>;

export interface LatencyResult {
  how: string;
  /** Samples per side and round. */
  samples: number;
  rounds: number;
  workflows: number;
  /** Every round's samples together. */
  serviceMs: Summary;
  /** The same step as an update from the service's client: no HTTP API in the way. */
  serviceDirectMs: Summary;
  rawMs: Summary;
  rawDurableMs: Summary;
  rawLocalDurableMs: Summary;
  rawLocalNothingMs: Summary;
  /** Each percentile per round, as median (min–max) over the rounds. */
  perRound: { service: Percentiles; serviceDirect: Percentiles; raw: Percentiles; rawDurable: Percentiles; rawLocalDurable: Percentiles; rawLocalNothing: Percentiles };
  /** service ÷ baseline per percentile and round. */
  ratio: Percentiles;
  ratioDurable: Percentiles;
  ratioLocalDurable: Percentiles;
  /** The step through the API ÷ the same update from the client: the API's share. */
  ratioApi: Percentiles;
  /** The update from the client ÷ the raw update making the same write by a local activity: the workflow task's share. */
  directToLocalDurable: Percentiles;
  /** The floor's own ratio to the bare update: what a local activity costs before the step does anything. */
  localNothingToBare: Percentiles;
}

const WARM_UP = 5;

type Sampler = (i: number) => Promise<void>;

export async function measureLatency(ctx: BenchContext): Promise<LatencyResult> {
  const { latencySamples: samples, rounds } = ctx.options;
  const workflows = Math.max(5, Math.ceil(samples / 20));
  const client = ctx.rawClient;
  await ctx.usePolicy(quietPolicy(`bench-quiet-${ctx.runId}`));

  progress(`latency: preparing ${workflows} leads in SAL and ${workflows} × 3 raw updatable workflows`);
  const prefix = `latency-${ctx.runId}-`;
  const leadIds = Array.from({ length: workflows }, (_, i) => `${prefix}${i}`);
  const since = measurementStart();
  await intakeLeads(ctx, leadIds, ctx.options.concurrency);
  await pollUntil(() => routedCount(ctx, prefix, since), (routed) => routed >= workflows, { timeoutMs: 60_000 });
  // A step is its owner's to take: each lead's owner is read once, outside the measured loop.
  const owners = new Map<string, string>();
  await runPool(workflows, ctx.options.concurrency, async (i) => {
    const lead = await ctx.api('GET', `/leads/${leadIds[i]}`, undefined, 'ops');
    owners.set(leadIds[i]!, lead.body.ownerId);
    const accepted = await ctx.api('POST', `/leads/${leadIds[i]}/accept`, {}, 'sales', lead.body.ownerId);
    if (accepted.status !== 200) throw new Error(`accept answered ${accepted.status}: ${JSON.stringify(accepted.body)}`);
  });
  const start = (workflow: typeof updatableWorkflow, name: string) =>
    Promise.all(Array.from({ length: workflows }, (_, i) => client.workflow.start(workflow, { taskQueue: ctx.rawTaskQueue, workflowId: `${name}-${ctx.runId}-${i}` })));
  const raws = await start(updatableWorkflow, 'raw-upd');
  const durables = await start(durableUpdatableWorkflow, 'raw-upd-durable');
  const localDurables = await start(localDurableUpdatableWorkflow, 'raw-upd-local-durable');
  await waitForIdle([ctx.service.worker, ctx.rawWorker], { timeoutMs: 60_000 });

  const channels = ['phone', 'email', 'linkedin'] as const;
  const service: Sampler = async (i) => {
    const lead = leadIds[i % workflows]!;
    const step = await ctx.api('POST', `/leads/${lead}/contact-attempts`, { channel: channels[i % 3], outcome: 'no-answer' }, 'sales', owners.get(lead));
    if (step.status !== 200) throw new Error(`contact-attempts answered ${step.status}: ${JSON.stringify(step.body)}`);
  };
  const serviceDirect: Sampler = async (i) => {
    const lead = leadIds[i % workflows]!;
    const actor = owners.get(lead)!;
    // What the API's step runner sends: the caller, its role, and a request key that is also the update's ID.
    const requestKey = `${actor}:${randomUUID()}`;
    const args = { channel: channels[i % 3]!, outcome: 'no-answer' as const, actor, role: 'sales' as const, requestKey, fingerprint: requestKey };
    await ctx.service.temporal.client.workflow.getHandle(leadWorkflowId(lead)).executeUpdate(logContactAttemptUpdate, { args: [args], updateId: requestKey });
  };
  const raw: Sampler = async (i) => void (await raws[i % workflows]!.executeUpdate(pingUpdate, { args: [i] }));
  const durable: Sampler = async (i) => void (await durables[i % workflows]!.executeUpdate(durablePingUpdate, { args: [i] }));
  const localDurable: Sampler = async (i) => void (await localDurables[i % workflows]!.executeUpdate(localDurablePingUpdate, { args: [i] }));
  const localNothing: Sampler = async (i) => void (await localDurables[i % workflows]!.executeUpdate(localNothingPingUpdate, { args: [i] }));

  const all = { service: [] as number[], serviceDirect: [] as number[], raw: [] as number[], rawDurable: [] as number[], rawLocalDurable: [] as number[], rawLocalNothing: [] as number[] };
  const byRound = { service: [] as Summary[], serviceDirect: [] as Summary[], raw: [] as Summary[], rawDurable: [] as Summary[], rawLocalDurable: [] as Summary[], rawLocalNothing: [] as Summary[] };
  // Every sample needs a fresh sequence number: the durable baseline's audit key is workflow ID + sequence.
  let sequence = 0;
  for (let round = 0; round < rounds; round += 1) {
    const order: Array<[keyof typeof all, Sampler]> = [
      ['service', service],
      ['serviceDirect', serviceDirect],
      ['raw', raw],
      ['rawDurable', durable],
      ['rawLocalDurable', localDurable],
      ['rawLocalNothing', localNothing],
    ];
    if (rawFirstIn(round)) order.reverse();
    const samplesOf = { service: [] as number[], serviceDirect: [] as number[], raw: [] as number[], rawDurable: [] as number[], rawLocalDurable: [] as number[], rawLocalNothing: [] as number[] };
    const report = throttledProgress(`latency round ${round + 1}/${rounds}: samples`, samples);
    for (let i = 0; i < samples + WARM_UP; i += 1) {
      sequence += 1;
      for (const [name, sample] of order) {
        const t0 = now();
        await sample(sequence);
        if (i >= WARM_UP) samplesOf[name].push(now() - t0);
      }
      if (i >= WARM_UP) report(i + 1 - WARM_UP);
    }
    for (const name of Object.keys(all) as Array<keyof typeof all>) {
      all[name].push(...samplesOf[name]);
      byRound[name].push(summarize(samplesOf[name]));
    }
  }

  await terminateAll(client, [...leadIds.map(leadWorkflowId), ...[...raws, ...durables, ...localDurables].map((handle) => handle.workflowId)]);
  const percentiles = (summaries: Summary[]): Percentiles =>
    Object.fromEntries(PERCENTILES.map((p) => [p, spread(summaries.map((summary) => summary[p]))])) as Percentiles;
  const ratios = (baseline: Summary[], of = byRound.service): Percentiles =>
    Object.fromEntries(PERCENTILES.map((p) => [p, spread(of.map((summary, i) => ratio(summary[p], baseline[i]![p])))])) as Percentiles;
  return {
    how: 'sequential, in-process Hono app.request() for POST /leads/{id}/contact-attempts vs WorkflowHandle.executeUpdate on a raw workflow that answers at once, on two that first commit one audit row (one transaction) in the same Postgres, by an activity and by a local activity, and on one that first runs a local activity doing nothing; the step also as the same update straight from the service client',
    samples,
    rounds,
    workflows,
    serviceMs: roundSummary(summarize(all.service)),
    serviceDirectMs: roundSummary(summarize(all.serviceDirect)),
    rawMs: roundSummary(summarize(all.raw)),
    rawDurableMs: roundSummary(summarize(all.rawDurable)),
    rawLocalDurableMs: roundSummary(summarize(all.rawLocalDurable)),
    rawLocalNothingMs: roundSummary(summarize(all.rawLocalNothing)),
    perRound: {
      service: percentiles(byRound.service),
      serviceDirect: percentiles(byRound.serviceDirect),
      raw: percentiles(byRound.raw),
      rawDurable: percentiles(byRound.rawDurable),
      rawLocalDurable: percentiles(byRound.rawLocalDurable),
      rawLocalNothing: percentiles(byRound.rawLocalNothing),
    },
    ratio: ratios(byRound.raw),
    ratioDurable: ratios(byRound.rawDurable),
    ratioLocalDurable: ratios(byRound.rawLocalDurable),
    ratioApi: ratios(byRound.serviceDirect),
    directToLocalDurable: ratios(byRound.rawLocalDurable, byRound.serviceDirect),
    localNothingToBare: ratios(byRound.raw, byRound.rawLocalNothing),
  };
}
