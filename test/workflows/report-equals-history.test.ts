import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { eq, max } from 'drizzle-orm';
import { startDealWorkflow } from '../../api/deals.js';
import { dealEvents, leadEvents, queueMembers, queues, reps } from '../../db/schema.js';
import { handoffReport, leadSlaReport, type HandoffDeal } from '../../db/reports.js';
import { addDuration, businessMinutesBetween } from '../../domain/business-time.js';
import { rejectionReasons } from '../../domain/lead-lifecycle.js';
import type { IcpTier } from '../../domain/policy.js';
import {
  attemptsRow,
  conversionRow,
  conversionTargetRow,
  HOUR_DECIMALS,
  mean,
  median,
  milestoneOwnerRole,
  milestoneStatus,
  percentile,
  rejectionCounts,
  rounded,
  speedToLeadRow,
  summarizeHandoffs,
  winRateRow,
  type ByTier,
  type HandoffMilestone,
  type LeadSlaReport,
} from '../../domain/report-stats.js';
import { scoreBand } from '../../domain/scoring.js';
import { dealWorkflowId } from '../../temporal.config.js';
import {
  closeOutDealUpdate,
  dealStateQuery,
  deliverDossierUpdate,
  recordKickoffUpdate,
  recordQbrUpdate,
  type DealIntake,
  type DealWorkflowInput,
} from '../../workflows/deal-definitions.js';
import type { dealWorkflow } from '../../workflows/deal-workflow.js';
import { closeLeadUpdate, qualifyLeadUpdate, rejectLeadUpdate, type LeadWorkflowInput } from '../../workflows/lead-definitions.js';
import {
  accept,
  assertInstantNear,
  DAY,
  eventually,
  HOUR,
  logAttempt,
  MINUTE,
  startLeadHarness,
  type LeadHandle,
  type LeadHarness,
  type StartedLead,
} from '../support/lead-harness.js';
import { alwaysOpenPolicy } from '../support/policies.js';
import { uniqueId } from '../support/temporal.js';
import { seededRandom } from '../support/random.js';
import { completeDossier } from '../support/scenarios.js';

/**
 * The audit agrees with what happened. A seeded batch of lead and deal lifecycles runs on the time-skipping
 * server (random tiers, sources, response times, some past their deadlines, random rejection reasons, won
 * leads handing over deals whose dossier, kickoff and QBR come on time, late or never); then both reports
 * are computed twice: from Postgres (db/reports.ts, what the API serves) and, independently, from the
 * workflows' event histories: every run's updates (with their inputs and times), timers fired (by their
 * summaries) and activity results. Same milestones, same times within a second, same breaches, same counts.
 */

const SEED = Number(process.env.REPORT_SEED ?? 20261123);
const LEADS = 12;
const CS_QUEUE = 'customer-success'; // policies/default.json deal.csQueueId
const CS_REPS = ['cs-1', 'cs-2'];
/** Planned steps keep this far from any deadline, so a timer and a step never share a workflow task. */
const MARGIN = 2 * MINUTE;
const SECOND = 1_000;
const debug = (message: string) => {
  if (process.env.REPORT_DEBUG) process.stderr.write(`[report-history ${new Date().toISOString().slice(11, 23)}] ${message}\n`);
};

type Fate = 'won' | 'lost' | 'rejected-mql' | 'rejected-sal' | 'unresponsive' | 'expired';
type MilestonePlan = 'on-time' | 'late' | 'missed';

interface DealPlan {
  dealId: string;
  closeAt: number;
  signedBefore: number;
  csOwnerId?: string;
  dossier: MilestonePlan;
  kickoff: MilestonePlan;
  qbr: MilestonePlan;
}

interface LeadPlan {
  index: number;
  tier: IcpTier;
  source?: string;
  fate: Fate;
  lateFirstAttempt: boolean;
  deal?: DealPlan;
}

interface Step {
  at: number;
  what: string;
  run: () => Promise<unknown>;
}

type History = Awaited<ReturnType<LeadHandle['fetchHistory']>>;
type HistoryEvent = NonNullable<History['events']>[number];
type Payload = NonNullable<NonNullable<NonNullable<HistoryEvent['workflowExecutionStartedEventAttributes']>['input']>['payloads']>[number];

const decode = <T>(payload: Payload | undefined): T => defaultPayloadConverter.fromPayload<T>(payload!);
const eventMs = (event: HistoryEvent): number => Number(String(event.eventTime!.seconds ?? 0)) * 1000 + Math.floor((event.eventTime!.nanos ?? 0) / 1e6);

/** What one run of a workflow did, in history order across runs. */
interface RunFacts {
  updates: Array<{ name: string; input: Record<string, unknown>; at: number; order: number }>;
  timersFired: Array<{ label: string; at: number; order: number }>;
  activityResults: Array<{ name: string; result: unknown }>;
  startedInput: unknown;
  startedAt: number;
  continuedAsNew: boolean;
}

/** The first run of the chain `workflowId`'s latest run continues, walking back through continue-as-new. */
async function firstRunOf(h: LeadHarness, workflowId: string): Promise<string> {
  let runId = (await h.env.client.workflow.getHandle(workflowId).describe()).runId;
  for (;;) {
    const history: History = await h.env.client.workflow.getHandle(workflowId, runId).fetchHistory();
    const previous = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    if (!previous) return runId;
    runId = previous;
  }
}

/** Every run of `workflowId` from the first, following continue-as-new. */
async function historyFacts(h: LeadHarness, workflowId: string, firstRunId?: string): Promise<RunFacts[]> {
  const runs: RunFacts[] = [];
  let runId: string | undefined = firstRunId ?? (await firstRunOf(h, workflowId));
  let order = 0;
  while (runId) {
    const history: History = await h.env.client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events: HistoryEvent[] = history.events ?? [];
    const byId = new Map(events.map((event) => [String(event.eventId), event]));
    const accepted = new Map<string, { name: string; input: Record<string, unknown>; at: number; order: number }>();
    const facts: RunFacts = { updates: [], timersFired: [], activityResults: [], startedInput: undefined, startedAt: 0, continuedAsNew: false };
    for (const event of events) {
      order += 1;
      const started = event.workflowExecutionStartedEventAttributes;
      if (started) {
        facts.startedInput = decode(started.input?.payloads?.[0]);
        facts.startedAt = eventMs(event);
      }
      const update = event.workflowExecutionUpdateAcceptedEventAttributes;
      if (update) {
        const request = update.acceptedRequest!;
        accepted.set(request.meta!.updateId!, { name: request.input!.name!, input: decode(request.input!.args!.payloads![0]), at: eventMs(event), order });
      }
      const completed = event.workflowExecutionUpdateCompletedEventAttributes;
      if (completed?.outcome?.success) {
        const step = accepted.get(completed.meta!.updateId!);
        assert.ok(step, `update ${completed.meta!.updateId} completed without being accepted`);
        facts.updates.push(step);
      }
      const fired = event.timerFiredEventAttributes;
      if (fired) {
        const startedTimer = byId.get(String(fired.startedEventId))!;
        facts.timersFired.push({ label: decode<string>(startedTimer.userMetadata?.summary ?? undefined), at: eventMs(event), order });
      }
      const activity = event.activityTaskCompletedEventAttributes;
      if (activity) {
        const scheduled = byId.get(String(activity.scheduledEventId))!.activityTaskScheduledEventAttributes!;
        facts.activityResults.push({ name: scheduled.activityType!.name!, result: decode(activity.result?.payloads?.[0]) });
      }
      // A local activity (patch 'one-task-step') leaves its type and result in a marker instead.
      const marker = event.markerRecordedEventAttributes;
      if (marker?.markerName === 'core_local_activity' && marker.details?.result?.payloads?.[0]) {
        const data = decode<{ activity_type: string }>(marker.details.data?.payloads?.[0]);
        facts.activityResults.push({ name: data.activity_type, result: decode(marker.details.result.payloads[0]) });
      }
    }
    facts.updates.sort((a, b) => a.order - b.order);
    const last = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes;
    facts.continuedAsNew = Boolean(last);
    runs.push(facts);
    runId = last?.newExecutionRunId ?? undefined;
  }
  return runs;
}

// ---- the lead report, from histories --------------------------------------------------------------------

interface LeadFacts {
  tier: number;
  source: string | null;
  mql: boolean;
  sal: boolean;
  sql: boolean;
  won: boolean;
  closed: boolean;
  attempts: number;
  /** Set when the first contact attempt met the speed-to-lead clock. */
  met: { minutes: number; breached: boolean } | null;
  breachedUnmet: boolean;
  nurtureReasons: string[];
}

function leadFacts(runs: RunFacts[]): LeadFacts {
  const input = runs[0]!.startedInput as LeadWorkflowInput;
  const calendar = input.policy.calendars[input.policy.defaultCalendarId]!;
  const updates = runs.flatMap((run) => run.updates);
  const timers = runs.flatMap((run) => run.timersFired);
  const named = (name: string) => updates.filter((update) => update.name === name);
  // The speed-to-lead clock starts at intake; each firing of its deadline timer is a breach.
  const deadlines = timers.filter((timer) => timer.label === `Tier ${input.profile.icpTier} response deadline`);
  const firstAttempt = named('logContactAttempt')[0];
  const met = firstAttempt
    ? {
        minutes: businessMinutesBetween(calendar, new Date(runs[0]!.startedAt), new Date(firstAttempt.at)),
        breached: deadlines.some((timer) => timer.order < firstAttempt.order),
      }
    : null;
  // Each run that continued as new returned the lead to nurture: a rejection gives its reason; otherwise the
  // cadence ran out (its window timer fired) or the escalation ladder did.
  const nurtureReasons = runs.flatMap((run) => {
    if (!run.continuedAsNew) return [];
    const rejected = run.updates.find((update) => update.name === 'rejectLead');
    if (rejected) return [String(rejected.input.reason)];
    if (run.timersFired.some((timer) => timer.label === 'Contact cadence window ends')) return ['unresponsive'];
    assert.ok(deadlines.length >= 2 && timers.some((timer) => timer.label.endsWith(': reassign')), 'a return to marketing follows a breach, a reassignment and a second breach');
    return ['sla-expired'];
  });
  return {
    tier: input.profile.icpTier,
    source: input.profile.source ?? null,
    mql: scoreBand(input.policy.scoring, input.score) !== 'cold',
    sal: named('acceptLead').length > 0,
    sql: named('qualifyLead').length > 0,
    won: named('closeLead').some((update) => update.input.outcome === 'won'),
    closed: named('closeLead').length > 0,
    attempts: named('logContactAttempt').length,
    met,
    breachedUnmet: met === null && deadlines.length > 0,
    nurtureReasons,
  };
}

// Stage aging and the sales cycle are wall-clock spans between audit events, pinned to the hour by
// test/api/reports-api.test.ts; here the counts that histories state exactly are compared.
function leadReportFromHistories(facts: LeadFacts[]): Omit<LeadSlaReport, 'stageAging' | 'salesCycle' | 'conversionBySource'> {
  function section<T>(build: (of: LeadFacts[]) => T): ByTier<T> {
    return { all: build(facts), byTier: [1, 2, 3].map((tier) => ({ tier, ...build(facts.filter((lead) => lead.tier === tier)) })) };
  }
  const conversion = section((of) =>
    conversionRow({
      mql: of.filter((lead) => lead.mql).length,
      sal: of.filter((lead) => lead.sal).length,
      sql: of.filter((lead) => lead.sql).length,
      won: of.filter((lead) => lead.won).length,
    }),
  );
  return {
    speedToLead: section((of) => {
      const minutes = of.flatMap((lead) => (lead.met ? [lead.met.minutes] : []));
      return speedToLeadRow({
        metOnTime: of.filter((lead) => lead.met && !lead.met.breached).length,
        metLate: of.filter((lead) => lead.met?.breached).length,
        breachedUnmet: of.filter((lead) => lead.breachedUnmet).length,
        median: percentile(minutes, 0.5),
        p90: percentile(minutes, 0.9),
      });
    }),
    attemptsPerLead: section((of) => {
      const counts = of.filter((lead) => lead.sal).map((lead) => lead.attempts);
      return attemptsRow({ leads: counts.length, attempts: counts.reduce((sum, n) => sum + n, 0), mean: mean(counts), median: median(counts) });
    }),
    conversion,
    // No policy is published in this database, so there is no target to hold the conversion against.
    mqlToSql: conversionTargetRow(conversion.all.sqlPerMql, null),
    winRate: section((of) => winRateRow({ closed: of.filter((lead) => lead.closed).length, won: of.filter((lead) => lead.won).length })),
    rejections: rejectionCounts(facts.flatMap((lead) => lead.nurtureReasons.map((reason) => ({ tier: lead.tier, source: lead.source, reason, count: 1 })))),
  };
}

// ---- the handoff report, from histories -----------------------------------------------------------------

const dueTimerPrefix: Record<string, string> = { dossier: 'Dossier due (', kickoff: 'Onboarding kickoff due (', 'qbr-1': 'QBR 1 due (' };
const completingUpdate: Record<string, string> = { dossier: 'deliverDossier', kickoff: 'recordKickoff', 'qbr-1': 'recordQbr' };

function dealFromHistory(runs: RunFacts[]): HandoffDeal {
  const input = runs[0]!.startedInput as DealWorkflowInput;
  const { deal, policy } = input;
  const calendar = policy.calendars[policy.defaultCalendarId]!;
  const rules = policy.deal!;
  const updates = runs.flatMap((run) => run.updates);
  const timers = runs.flatMap((run) => run.timersFired);
  const routed = runs.flatMap((run) => run.activityResults).find((activity) => activity.name === 'assignDealCsOwner')?.result as { repId: string } | undefined;
  const csOwnerId = deal.csOwnerId ?? routed?.repId ?? null;
  const closedWonAt = new Date(deal.closedWonAt);
  const signedAt = new Date(deal.signedAt);
  const plan = [
    { milestone: 'dossier', kind: 'dossier', startedAt: closedWonAt, dueAt: addDuration(calendar, closedWonAt, rules.dossierDue) },
    { milestone: 'kickoff', kind: 'kickoff', startedAt: signedAt, dueAt: addDuration(calendar, signedAt, rules.kickoffDue) },
    { milestone: 'qbr-1', kind: 'qbr', startedAt: signedAt, dueAt: addDuration(calendar, signedAt, rules.firstQbrAfter) },
  ];
  const milestones = plan.map(({ milestone, kind, startedAt, dueAt }): HandoffMilestone => {
    const done = updates.find((update) => update.name === completingUpdate[milestone]);
    // A meeting counts when it was held (never later than it was reported); the dossier when it was delivered.
    const doneMs = done ? Math.min(done.at, typeof done.input.heldAt === 'string' ? Date.parse(done.input.heldAt) : done.at) : null;
    const dueFired = timers.some((timer) => timer.label.startsWith(dueTimerPrefix[milestone]!) && (!done || timer.order < done.order));
    const breached = dueFired || (doneMs !== null && doneMs > dueAt.getTime());
    const doneAt = doneMs === null ? null : new Date(doneMs).toISOString();
    const owner = milestoneOwnerRole(kind);
    return {
      milestone,
      kind,
      owner,
      ownerId: owner === 'sales' ? deal.salesOwnerId : csOwnerId,
      startedAt: startedAt.toISOString(),
      dueAt: dueAt.toISOString(),
      doneAt,
      breached,
      status: milestoneStatus({ doneAt, breached }),
      delayBusinessHours: doneMs === null ? null : rounded(Math.max(0, businessMinutesBetween(calendar, dueAt, new Date(doneMs))) / 60, HOUR_DECIMALS),
    };
  });
  return {
    dealId: deal.dealId,
    accountName: deal.accountName,
    salesOwnerId: deal.salesOwnerId,
    csOwnerId,
    stage: '(not compared)',
    policyVersion: policy.version,
    signedAt: signedAt.toISOString(),
    closedWonAt: closedWonAt.toISOString(),
    milestones,
  };
}

// ---- comparison -------------------------------------------------------------------------------------------

function assertNear(actual: number | null, expected: number | null, tolerance: number, what: string): void {
  if (actual === null || expected === null) {
    assert.equal(actual, expected, what);
    return;
  }
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected} (±${tolerance})`);
}

/** One second of business time, plus the reports' rounding. */
const MINUTES_TOLERANCE = 1 / 60 + 0.005;
const HOURS_TOLERANCE = 1 / 3600 + 0.00005;

describe('reports from Postgres equal reports from the workflows’ histories', () => {
  let h: LeadHarness;

  before(async () => {
    h = await startLeadHarness('report-history');
    const { db } = h.database;
    await db.insert(reps).values(CS_REPS.map((repId) => ({ repId, name: repId, seniority: 'senior', managerId: 'cs-mgr' })));
    await db.insert(queues).values({ queueId: CS_QUEUE, name: 'Customer success', strategy: 'round-robin', managerId: 'cs-mgr' });
    await db.insert(queueMembers).values(CS_REPS.map((repId, position) => ({ queueId: CS_QUEUE, repId, position })));
  });
  after(async () => {
    await h?.stop();
  });

  test(`seed ${SEED}: ${LEADS} random leads and their deals`, { timeout: 15 * 60_000 }, async () => {
    const rand = seededRandom(SEED);
    const between = (low: number, high: number) => low + rand() * (high - low);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
    const policy = alwaysOpenPolicy(uniqueId('report-history'));
    const calendar = policy.calendars[policy.defaultCalendarId]!;
    const dealRules = policy.deal!;
    const allowance = (tier: IcpTier) => addDuration(calendar, new Date(0), policy.speedToLead[`tier${tier}`]).getTime();
    /** Moves `at` off every instant in `avoid` by at least MARGIN, later. */
    const clear = (at: number, avoid: number[]): number => {
      let moved = at;
      for (let guard = 0; guard < 20; guard += 1) {
        const near = avoid.find((instant) => Math.abs(moved - instant) < MARGIN);
        if (near === undefined) return moved;
        moved = near + MARGIN;
      }
      return moved;
    };

    // ---- the plan: deterministic for the seed ----
    const fates: Fate[] = ['won', 'won', 'won', 'won', 'won', 'won', 'lost', 'rejected-mql', 'rejected-sal', 'rejected-sal', 'unresponsive', 'expired'];
    for (let i = fates.length - 1; i > 0; i -= 1) {
      const j = Math.floor(rand() * (i + 1));
      [fates[i], fates[j]] = [fates[j]!, fates[i]!];
    }
    const steps: Step[] = [];
    const started = new Map<number, StartedLead>();
    const dealHandles: Array<WorkflowHandle<typeof dealWorkflow>> = [];
    const plans: LeadPlan[] = [];
    let wonSoFar = 0;
    let endAt = 0;
    const T0 = await h.now();
    const skipTo = async (offset: number) => {
      const now = await h.now();
      if (T0 + offset > now) await h.skipTime(T0 + offset - now);
    };
    const nowIso = async () => new Date(await h.now()).toISOString();

    for (let index = 0; index < LEADS; index += 1) {
      const fate = fates[index]!;
      const tier = (1 + Math.floor(rand() * 3)) as IcpTier;
      const plan: LeadPlan = { index, tier, source: pick(['web', 'event', 'partner', undefined]), fate, lateFirstAttempt: false };
      plans.push(plan);
      const lead = () => started.get(index)!.handle;
      const rep = `rep-${index}`;
      const startAt = between(0, 2 * HOUR);
      const due = startAt + allowance(tier);
      // The speed-to-lead ladder on this policy: due soon, due (breach + reminder), manager alert, reassignment.
      const ladder = [due - 5 * MINUTE, due, due + 15 * MINUTE, due + 45 * MINUTE, due + 45 * MINUTE + allowance(tier)];
      const at = (offset: number) => clear(offset, ladder);
      steps.push({ at: startAt, what: `start lead ${index} (tier ${tier}, ${fate})`, run: async () => started.set(index, await h.startLead({ policy, tier, profile: plan.source ? { source: plan.source } : {} })) });

      if (fate === 'expired') {
        endAt = Math.max(endAt, ladder.at(-1)! + HOUR);
        continue;
      }
      if (fate === 'rejected-mql') {
        const rejectAt = at(startAt + between(0.2, 1.5) * allowance(tier));
        const reason = pick(rejectionReasons);
        steps.push({ at: rejectAt, what: `reject lead ${index} from MQL (${reason})`, run: () => lead().executeUpdate(rejectLeadUpdate, { args: [{ actor: rep, reason }] }) });
        continue;
      }
      // Every won lead's first attempt comes late for the first one, at random for the rest.
      plan.lateFirstAttempt = (fate === 'won' && wonSoFar === 0) || rand() < 0.4;
      const attemptPlanned = startAt + (plan.lateFirstAttempt ? between(1.1, 1.5) : between(0.2, 0.85)) * allowance(tier);
      const acceptAt = at(startAt + (attemptPlanned - startAt) * between(0.4, 0.8));
      const firstAttemptAt = at(Math.max(attemptPlanned, acceptAt + MINUTE));
      steps.push({ at: acceptAt, what: `accept lead ${index}`, run: () => accept(lead(), rep) });

      const attempts = fate === 'rejected-sal' ? Math.floor(rand() * 3) : fate === 'unresponsive' ? 1 + Math.floor(rand() * 2) : 1 + Math.floor(rand() * 3);
      let last = attempts === 0 ? acceptAt : firstAttemptAt;
      for (let n = 1; n <= attempts; n += 1) {
        if (n > 1) last += between(2 * HOUR, 20 * HOUR);
        const connects = n === attempts && (fate === 'won' || fate === 'lost');
        const channel = pick(['phone', 'email', 'linkedin'] as const);
        steps.push({ at: last, what: `attempt ${n} on lead ${index}`, run: () => logAttempt(lead(), rep, channel, connects ? 'connected' : 'no-answer') });
      }
      if (fate === 'rejected-sal') {
        const rejectAt = at(last + between(3 * MINUTE, 10 * MINUTE));
        const reason = pick(rejectionReasons);
        steps.push({ at: rejectAt, what: `reject lead ${index} from SAL (${reason})`, run: () => lead().executeUpdate(rejectLeadUpdate, { args: [{ actor: rep, reason }] }) });
        continue;
      }
      if (fate === 'unresponsive') {
        endAt = Math.max(endAt, acceptAt + 6 * DAY);
        continue;
      }
      const qualifyAt = last + between(HOUR, 12 * HOUR);
      const closeAt = qualifyAt + between(HOUR, DAY);
      steps.push({ at: qualifyAt, what: `qualify lead ${index}`, run: () => lead().executeUpdate(qualifyLeadUpdate, { args: [{ actor: rep, need: true, budget: true, timing: true }] }) });
      if (fate === 'lost') {
        steps.push({ at: closeAt, what: `close lead ${index} lost`, run: () => lead().executeUpdate(closeLeadUpdate, { args: [{ actor: rep, outcome: 'lost', reason: 'went with a competitor' }] }) });
        continue;
      }

      // ---- won: a deal whose milestones come on time, late, or (one QBR) never ----
      const first = wonSoFar === 0;
      wonSoFar += 1;
      const deal: DealPlan = {
        dealId: uniqueId('D'),
        closeAt,
        signedBefore: between(0, DAY),
        csOwnerId: rand() < 0.4 ? pick(CS_REPS) : undefined,
        dossier: first || rand() < 0.4 ? 'late' : 'on-time',
        kickoff: rand() < 0.4 ? 'late' : 'on-time',
        qbr: first ? 'missed' : rand() < 0.4 ? 'late' : 'on-time',
      };
      plan.deal = deal;
      const signedAt = closeAt - deal.signedBefore;
      const dueOf = (from: number, duration: typeof dealRules.dossierDue) => addDuration(calendar, new Date(from), duration).getTime();
      const dossierDue = dueOf(closeAt, dealRules.dossierDue);
      const kickoffDue = dueOf(signedAt, dealRules.kickoffDue);
      const qbrDue = dueOf(signedAt, dealRules.firstQbrAfter);
      const escalation = 4 * HOUR; // the deal ladder's manager alert, after the owner's reminder at the due time
      const dealAmount = Math.round(between(5_000, 200_000));
      steps.push({
        at: closeAt,
        what: `close lead ${index} won, then take in deal ${deal.dealId}`,
        run: async () => {
          const closed = await lead().executeUpdate(closeLeadUpdate, { args: [{ actor: rep, outcome: 'won' }] });
          // The deal starts as the deal test starts it (startDealWorkflow), not as the lead's child: on the
          // time-skipping server, a child deal completing after its lead had closed stalled every later skip.
          const intake: DealIntake = {
            dealId: deal.dealId,
            accountName: `Account ${deal.dealId}`,
            amount: dealAmount,
            currency: 'EUR',
            signedAt: new Date(T0 + signedAt).toISOString(),
            closedWonAt: await nowIso(),
            salesOwnerId: closed.ownerId!,
            leadId: closed.leadId,
            ...(deal.csOwnerId ? { csOwnerId: deal.csOwnerId } : {}),
          };
          const result = await startDealWorkflow(h.env.client, { deal: intake, policy, actor: rep, taskQueue: h.taskQueue });
          assert.equal(result.started, true);
          dealHandles.push(h.env.client.workflow.getHandle(result.workflowId));
        },
      });
      const dealHandle = () => h.env.client.workflow.getHandle<typeof dealWorkflow>(dealWorkflowId(deal.dealId));
      const dossierAt = clear(deal.dossier === 'late' ? dossierDue + between(10 * MINUTE, 10 * HOUR) : closeAt + between(HOUR, 40 * HOUR), [dossierDue, dossierDue + escalation]);
      steps.push({
        at: dossierAt,
        what: `dossier of ${deal.dealId} (${deal.dossier})`,
        run: () =>
          dealHandle().executeUpdate(deliverDossierUpdate, {
            args: [{ actor: rep, ...completeDossier }],
          }),
      });
      const kickoffAt = clear(
        deal.kickoff === 'late' ? kickoffDue + between(HOUR, 2 * DAY) : Math.max(closeAt + 10 * MINUTE, signedAt + between(0.3, 0.9) * (kickoffDue - signedAt)),
        [kickoffDue, kickoffDue + escalation],
      );
      steps.push({
        at: kickoffAt,
        what: `kickoff of ${deal.dealId} (${deal.kickoff})`,
        run: async () => dealHandle().executeUpdate(recordKickoffUpdate, { args: [{ actor: 'cs', heldAt: await nowIso(), attendees: ['Jan'] }] }),
      });
      const reminder = qbrDue - 14 * DAY;
      if (deal.qbr === 'missed') {
        endAt = Math.max(endAt, qbrDue + escalation + DAY);
      } else {
        const qbrAt = clear(deal.qbr === 'late' ? qbrDue + between(3 * HOUR, 4 * DAY) : signedAt + between(80, 89) * DAY, [reminder, qbrDue, qbrDue + escalation]);
        steps.push({
          at: qbrAt,
          what: `QBR of ${deal.dealId} (${deal.qbr})`,
          run: async () => dealHandle().executeUpdate(recordQbrUpdate, { args: [{ actor: 'cs', heldAt: await nowIso(), healthScore: 70 }] }),
        });
      }
    }

    // ---- run it: one timeline, every step at its planned instant ----
    steps.sort((a, b) => a.at - b.at);
    for (const step of steps) {
      debug(`+${(step.at / HOUR).toFixed(2)} h: ${step.what}`);
      await skipTo(step.at);
      try {
        await step.run();
      } catch (error) {
        throw new Error(`seed ${SEED}: step "${step.what}" at +${(step.at / HOUR).toFixed(2)} h failed: ${String(error)}`);
      }
    }
    endAt = Math.max(endAt, steps.at(-1)!.at) + DAY;
    await skipTo(endAt);

    debug('all steps done; waiting for the audit to catch up');
    // Quiet: every workflow's audit in Postgres has caught up with its state.
    const { db } = h.database;
    const leadHandles = plans.map((plan) => started.get(plan.index)!);
    for (const lead of leadHandles) {
      await eventually(
        async () => {
          const state = await h.state(lead.handle);
          const [row] = await db.select({ seq: max(leadEvents.seq) }).from(leadEvents).where(eq(leadEvents.leadId, lead.leadId));
          return state.lastEventSeq - (row?.seq ?? 0);
        },
        (gap) => gap === 0,
        `the audit of ${lead.leadId}`,
      );
    }
    assert.equal(dealHandles.length, 6, 'six won leads started six deals');
    for (const handle of dealHandles) {
      await eventually(
        async () => {
          const state = await handle.query(dealStateQuery);
          const [row] = await db.select({ seq: max(dealEvents.seq) }).from(dealEvents).where(eq(dealEvents.dealId, state.dealId));
          return state.lastEventSeq - (row?.seq ?? 0);
        },
        (gap) => gap === 0,
        `the audit of ${handle.workflowId}`,
      );
    }

    // ---- both reports over the whole timeline ----
    const range = { from: new Date(T0 - HOUR), to: new Date(T0 + endAt + DAY) };
    const fromPostgres = { leads: await leadSlaReport(db, range), handoffs: await handoffReport(db, range) };
    const leadHistories = await Promise.all(leadHandles.map((lead) => historyFacts(h, lead.workflowId, lead.handle.firstExecutionRunId)));
    const dealHistories = await Promise.all(dealHandles.map((handle) => historyFacts(h, handle.workflowId)));
    const facts = leadHistories.map(leadFacts);
    const fromHistories = { leads: leadReportFromHistories(facts), handoffs: dealHistories.map(dealFromHistory) };

    for (const [i, lead] of facts.entries()) debug(`lead ${i}: ${JSON.stringify(plans[i])} → ${JSON.stringify(lead)}`);
    debug(`lead report from Postgres: ${JSON.stringify(fromPostgres.leads)}`);
    debug(`handoff summary from Postgres: ${JSON.stringify(fromPostgres.handoffs.summary)}`);
    // The batch covers what the reports distinguish, so the comparison below is not vacuous.
    const all = fromHistories.leads.speedToLead.all;
    assert.ok(all.metOnTime > 0 && all.metLate > 0 && all.breachedUnmet > 0, `seed ${SEED}: on time, late and unmet clocks: ${JSON.stringify(all)}`);
    const statuses = new Set(fromHistories.handoffs.flatMap((deal) => deal.milestones.map((m) => m.status)));
    assert.deepEqual([...statuses].sort(), ['late', 'on-time', 'overdue'], `seed ${SEED}: milestone outcomes`);
    assert.ok(fromHistories.leads.rejections.byReason.length >= 3, `seed ${SEED}: several rejection reasons`);

    // ---- lead SLAs ----
    const withoutMinutes = <T extends { medianBusinessMinutes: number | null; p90BusinessMinutes: number | null }>(row: T) => ({ ...row, medianBusinessMinutes: 0, p90BusinessMinutes: 0 });
    const pg = fromPostgres.leads;
    const hist = fromHistories.leads;
    for (const [name, pgRow, histRow] of [['all', pg.speedToLead.all, hist.speedToLead.all], ...pg.speedToLead.byTier.map((row, i) => [`tier ${row.tier}`, row, hist.speedToLead.byTier[i]!] as const)] as const) {
      assert.deepEqual(withoutMinutes(pgRow), withoutMinutes(histRow), `speed-to-lead counts, ${name}`);
      assertNear(pgRow.medianBusinessMinutes, histRow.medianBusinessMinutes, MINUTES_TOLERANCE, `median speed-to-lead, ${name}`);
      assertNear(pgRow.p90BusinessMinutes, histRow.p90BusinessMinutes, MINUTES_TOLERANCE, `p90 speed-to-lead, ${name}`);
    }
    assert.deepEqual(pg.attemptsPerLead, hist.attemptsPerLead, 'attempts per lead');
    assert.deepEqual(pg.conversion, hist.conversion, 'MQL → SAL → SQL → won');
    assert.deepEqual(pg.rejections, hist.rejections, 'rejection reasons by source and tier');
    assert.deepEqual(pg.winRate, hist.winRate, 'win rate');
    assert.equal(hist.conversion.all.mql, LEADS);

    // ---- handoffs: per deal and milestone, then the aggregates ----
    const pgDeals = new Map(fromPostgres.handoffs.deals.map((deal) => [deal.dealId, deal]));
    assert.deepEqual([...pgDeals.keys()].sort(), fromHistories.handoffs.map((deal) => deal.dealId).sort(), 'the same deals');
    for (const expected of fromHistories.handoffs) {
      const actual = pgDeals.get(expected.dealId)!;
      const what = `deal ${expected.dealId}`;
      assert.deepEqual([actual.salesOwnerId, actual.csOwnerId, actual.policyVersion], [expected.salesOwnerId, expected.csOwnerId, expected.policyVersion], `${what}: owners`);
      assertInstantNear(actual.closedWonAt, expected.closedWonAt, `${what}: won`, SECOND);
      assert.equal(actual.signedAt, expected.signedAt, `${what}: signed`);
      assert.deepEqual(actual.milestones.map((m) => m.milestone).sort(), expected.milestones.map((m) => m.milestone).sort(), `${what}: milestones`);
      for (const m of expected.milestones) {
        const row = actual.milestones.find((candidate) => candidate.milestone === m.milestone)!;
        const where = `${what} ${m.milestone}`;
        assert.deepEqual([row.kind, row.owner, row.ownerId, row.breached, row.status], [m.kind, m.owner, m.ownerId, m.breached, m.status], `${where}: kind, owner, breach, status`);
        assertInstantNear(row.startedAt, m.startedAt, `${where}: started`, SECOND);
        assertInstantNear(row.dueAt, m.dueAt, `${where}: due`, SECOND);
        if (m.doneAt === null) assert.equal(row.doneAt, null, `${where}: not done`);
        else assertInstantNear(row.doneAt!, m.doneAt, `${where}: done`, SECOND);
        assertNear(row.delayBusinessHours, m.delayBusinessHours, HOURS_TOLERANCE, `${where}: delay`);
      }
    }
    const pgSummary = fromPostgres.handoffs.summary;
    const histSummary = summarizeHandoffs(fromHistories.handoffs);
    assert.deepEqual(pgSummary.breachesByOwner, histSummary.breachesByOwner, 'breaches per sales and CS owner');
    assert.equal(pgSummary.deals, histSummary.deals);
    assert.equal(pgSummary.milestones.length, histSummary.milestones.length);
    for (const [i, expected] of histSummary.milestones.entries()) {
      const actual = pgSummary.milestones[i]!;
      const { delayBusinessHours: actualDelay, ...actualCounts } = actual;
      const { delayBusinessHours: expectedDelay, ...expectedCounts } = expected;
      assert.deepEqual(actualCounts, expectedCounts, `on-time counts and share, ${expected.kind}`);
      assert.equal(actualDelay.count, expectedDelay.count, `delays counted, ${expected.kind}`);
      assertNear(actualDelay.median, expectedDelay.median, HOURS_TOLERANCE, `median delay, ${expected.kind}`);
      assertNear(actualDelay.p90, expectedDelay.p90, HOURS_TOLERANCE, `p90 delay, ${expected.kind}`);
    }

    // The deal whose QBR never came is still open; close it out so no timer outlives the test.
    for (const handle of dealHandles) {
      const description = await handle.describe();
      if (description.status.name !== 'RUNNING') continue;
      await handle.executeUpdate(closeOutDealUpdate, { args: [{ actor: 'test', reason: 'test finished' }] });
      await handle.result();
    }
  });
});
