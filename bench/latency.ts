import type { BenchContext } from './context.js';
import { intakeLeads, measurementStart, roundSummary, routedCount } from './intake.js';
import { quietPolicy } from './policies.js';
import { pingUpdate, updatableWorkflow } from './raw-workflows.js';
import { leadWorkflowId } from '../temporal.config.js';
import { now, pollUntil, progress, ratio, round, runPool, summarize, terminateAll, throttledProgress, waitForIdle, type Summary } from './support.js';

/**
 * 2. Step round-trip latency: POST /leads/{id}/contact-attempts (an Update with a validator; the handler
 * stages an audit event and waits for the recordLeadEvents activity before answering) through the API in
 * process, vs a raw executeUpdate on a workflow whose handler returns its argument (also with a validator).
 * One request at a time, service and raw interleaved so both see the same background.
 */

export interface LatencyResult {
  how: string;
  samples: number;
  workflows: number;
  serviceMs: Summary;
  rawMs: Summary;
  /** service ÷ raw per percentile. */
  ratio: { p50: number; p95: number; p99: number };
}

const WARM_UP = 5;

export async function measureLatency(ctx: BenchContext): Promise<LatencyResult> {
  const samples = ctx.options.latencySamples;
  const workflows = Math.max(5, Math.ceil(samples / 20));
  const { client } = ctx.service.temporal;
  await ctx.usePolicy(quietPolicy(`bench-quiet-${ctx.runId}`));

  progress(`latency: preparing ${workflows} leads in SAL and ${workflows} raw updatable workflows`);
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
  const raws = await Promise.all(
    Array.from({ length: workflows }, (_, i) =>
      client.workflow.start(updatableWorkflow, { taskQueue: ctx.rawTaskQueue, workflowId: `raw-upd-${ctx.runId}-${i}` }),
    ),
  );
  await waitForIdle([ctx.service.worker, ctx.rawWorker], { timeoutMs: 60_000 });

  const serviceSamples: number[] = [];
  const rawSamples: number[] = [];
  const report = throttledProgress('latency: samples', samples);
  const channels = ['phone', 'email', 'linkedin'] as const;
  for (let i = 0; i < samples + WARM_UP; i += 1) {
    const lead = leadIds[i % workflows]!;
    let t0 = now();
    const step = await ctx.api('POST', `/leads/${lead}/contact-attempts`, { channel: channels[i % 3], outcome: 'no-answer' }, 'sales', owners.get(lead));
    const serviceMs = now() - t0;
    if (step.status !== 200) throw new Error(`contact-attempts answered ${step.status}: ${JSON.stringify(step.body)}`);

    t0 = now();
    await raws[i % workflows]!.executeUpdate(pingUpdate, { args: [i] });
    const rawMs = now() - t0;

    if (i >= WARM_UP) {
      serviceSamples.push(serviceMs);
      rawSamples.push(rawMs);
      report(i + 1 - WARM_UP);
    }
  }

  await terminateAll(client, [...leadIds.map(leadWorkflowId), ...raws.map((handle) => handle.workflowId)]);
  const serviceMs = roundSummary(summarize(serviceSamples));
  const rawMs = roundSummary(summarize(rawSamples));
  return {
    how: 'sequential, in-process Hono app.request() for POST /leads/{id}/contact-attempts vs WorkflowHandle.executeUpdate on the raw workflow',
    samples,
    workflows,
    serviceMs,
    rawMs,
    ratio: {
      p50: round(ratio(serviceMs.p50, rawMs.p50), 2),
      p95: round(ratio(serviceMs.p95, rawMs.p95), 2),
      p99: round(ratio(serviceMs.p99, rawMs.p99), 2),
    },
  };
}
