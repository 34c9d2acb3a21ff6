/**
 * FROZEN: the lead workflow as it ran before the step engine (workflows/step-engine.ts). Histories started
 * before the 'step-engine' patch replay through this code, so it must not change; `leadWorkflow` calls it when
 * `patched('step-engine')` is false. Delete it (and the patch check) once no such run is open and the
 * recorded histories under test/histories/legacy/ are retired: see README, "Retiring a patch".
 */
import {
  ActivityFailure,
  ApplicationFailure,
  continueAsNew,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../../activities/index.js';
import type { LeadAuditEvent } from '../../activities/lead-audit.js';
import type { RouteLeadResult } from '../../activities/routing.js';
import { businessMinutesBetween, type BusinessCalendar } from '../../domain/business-time.js';
import {
  dueAfter,
  pendingWakeUps,
  slaBudget,
  speedToLeadDeadline,
  shiftCadence,
  shiftSpeedToLead,
  slaStateAt,
  startCadence,
  startSpeedToLead,
  type ClockView,
  type WakeUp,
} from '../../domain/lead-clocks.js';
import { isTerminal, stepRefusal, type LeadStage, type LeadStep, type NurtureReason } from '../../domain/lead-lifecycle.js';
import { NO_AVAILABLE_REP } from '../../domain/routing.js';
import { scoreBand, totalScore, type ScoreComponents } from '../../domain/scoring.js';
import {
  acceptLeadUpdate,
  closeLeadUpdate,
  leadStateQuery,
  migrateLeadPolicyUpdate,
  logContactAttemptUpdate,
  pauseLeadUpdate,
  qualifyLeadUpdate,
  reassignLeadUpdate,
  recordEngagementUpdate,
  rejectLeadUpdate,
  resumeLeadUpdate,
  STEP_REFUSED,
  type LeadResult,
  type LeadState,
  type LeadView,
  type LeadWorkflowInput,
  type WonDeal,
} from '../lead-definitions.js';
import { dealWorkflow } from '../deal-workflow.js';
import { BackgroundWork, numberedNotification, settleBeforeClosing, WakeUpTimer } from '../workflow-runtime.js';
import { LeadSearchAttributes } from '../lead-search-attributes.js';
import { dealWorkflowId } from '../workflow-ids.js';

// Audit and routing writes are idempotent and must never be lost: they retry until the database answers.
const { recordLeadEvents, routeLead, archiveWorkflow } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

// A notification that cannot be delivered within the hour is recorded as failed rather than holding up the lead.
const { notify } = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});


/**
 * One lead from intake to close. Every step is validated against the lead's stage before it enters
 * history, every change lands in the audit trail in order, and every deadline is a durable timer on
 * the policy snapshot the lead started under. Each return to nurture starts a fresh run.
 */
export async function leadWorkflowV1(input: LeadWorkflowInput): Promise<LeadResult> {
  const { profile } = input;
  // Ops may migrate a running lead to a newer policy version; until then it keeps the one it started under.
  let policy = input.policy;
  let calendar = policy.calendars[policy.defaultCalendarId]!;
  const workflowId = workflowInfo().workflowId;
  const now = () => new Date(); // the workflow sandbox makes Date deterministic: it is the current task's time
  const tierLabel = `Tier ${profile.icpTier}`;

  const state: LeadState = input.carried ?? initialState(input, now(), calendar);
  const searchAttributes = new LeadSearchAttributes();
  let revision = 0;
  let nurturedThisRun = false;
  const unflushed: LeadAuditEvent[] = [];
  const background = new BackgroundWork();

  // ---- effects: audit, notifications, routing -------------------------------------------------

  /** Stages an audit event with its sequence number now, so the audit keeps the order things happened in. */
  function audit(type: string, actor: string, payload: Record<string, unknown>): void {
    const seq = ++state.lastEventSeq;
    unflushed.push({
      workflowId,
      leadId: state.leadId,
      seq,
      stepKey: `${seq}-${type}`,
      type,
      at: now().toISOString(),
      actor,
      payload,
      projection: {
        email: state.profile.email,
        company: state.profile.company,
        icpTier: state.profile.icpTier,
        source: state.profile.source ?? null,
        stage: state.stage,
        ownerId: state.ownerId,
        score: state.score.total,
        policyVersion: state.policyVersion,
      },
    });
  }

  /** Writes every staged event in one activity: a step that records three facts costs one action. */
  function flush(): Promise<void> {
    if (unflushed.length === 0) return Promise.resolve();
    return recordLeadEvents(unflushed.splice(0));
  }

  function notifyLater(type: string, recipients: Array<string | null>, summary: string, details: Record<string, unknown>): void {
    state.notificationsSent += 1;
    const notification = numberedNotification(workflowId, state.notificationsSent, {
      type,
      recipients,
      at: now().toISOString(),
      summary,
      details: { leadId: state.leadId, stage: state.stage, ...details },
    });
    background.add(
      notify(notification).catch((error: unknown) => {
        audit('notification-failed', 'system', { type, reason: String((error as Error).message ?? error) });
        return flush();
      }),
    );
  }

  async function route(stepKey: string, options: { exclude?: string[]; preferredRepId?: string } = {}): Promise<RouteLeadResult | string> {
    try {
      return await routeLead({
        idempotencyKey: `${workflowId}:${stepKey}`,
        leadId: state.leadId,
        lead: {
          tier: profile.icpTier,
          hot: state.score.band === 'hot',
          segment: profile.segment,
          country: profile.country,
          company: profile.company,
        },
        rules: policy.routing.rules,
        fallbackQueueId: policy.routing.fallbackQueueId,
        at: now().toISOString(),
        exclude: options.exclude,
        preferredRepId: options.preferredRepId,
      });
    } catch (error) {
      if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === NO_AVAILABLE_REP) {
        return error.cause.message;
      }
      throw error;
    }
  }

  function assignOwner(assignment: RouteLeadResult): void {
    state.ownerId = assignment.repId;
    state.queueId = assignment.queueId;
    state.managerId = assignment.managerId;
  }

  // ---- stage changes ----------------------------------------------------------------------------

  function enterStage(stage: LeadStage): void {
    state.stage = stage;
    state.enteredStageAt = now().toISOString();
    if (stage !== 'MQL' && stage !== 'SAL') {
      state.speedToLead = null;
      state.paused = null;
    }
    if (stage !== 'SAL') state.cadence = null;
    if (stage === 'SAL') {
      const remindsAttemptDueAtStart = !patched('no-reminder-for-attempt-due-at-cadence-start');
      state.cadence = startCadence(policy, calendar, now(), remindsAttemptDueAtStart);
    }
    if (stage === 'NURTURE') {
      state.cycle += 1;
      nurturedThisRun = true;
    }
    revision += 1;
  }

  /** MQL: the speed-to-lead clock starts as the lead is handed to routing. */
  async function becomeMql(actor: string, reason: string): Promise<void> {
    const from = state.stage;
    // A lead back from nurture starts a fresh cycle: its first attempt must again meet speed-to-lead.
    if (from === 'NURTURE' && patched('reset-attempts-per-cycle')) state.attempts = [];
    enterStage('MQL');
    state.escalationLevel = 0;
    state.nurtureReason = null;
    state.speedToLead = startSpeedToLead(calendar, now(), speedToLeadDeadline(policy, profile.icpTier, state.score.band === 'hot'));
    audit('stage-changed', actor, { from, to: 'MQL', reason });
    await routeToOwner();
  }

  async function routeToOwner(): Promise<void> {
    const assignment = await route(`${state.lastEventSeq}-route`);
    if (state.stage !== 'MQL' && state.stage !== 'SAL') return; // rejected while routing ran: nobody to assign
    const dueAt = state.speedToLead?.due.at ?? null;
    if (typeof assignment === 'string') {
      audit('routing-failed', 'system', { reason: assignment, dueAt });
    } else {
      assignOwner(assignment);
      audit('routed', 'system', { ...assignment, dueAt });
      notifyLater('lead.assigned', [assignment.repId], `New ${tierLabel} lead ${profile.company}${dueAt ? `: respond by ${dueAt}` : ''}`, { dueAt });
    }
    revision += 1;
  }

  function returnToNurture(reason: NurtureReason, actor: string, details: Record<string, unknown> = {}): void {
    const from = state.stage;
    state.nurtureReason = reason;
    enterStage('NURTURE');
    audit('returned-to-nurture', actor, { from, to: 'NURTURE', reason, ...details });
  }

  function speedToLeadMet(by: 'acceptance' | 'first-attempt', at: Date): void {
    const clock = state.speedToLead;
    if (!clock || policy.speedToLead.metBy !== by) return;
    audit('speed-to-lead-met', 'system', {
      by,
      startedAt: clock.startedAt,
      dueAt: clock.due.at,
      breached: clock.breached,
      businessMinutes: businessMinutesBetween(calendar, new Date(clock.startedAt), at),
    });
    state.speedToLead = null;
    state.escalationLevel = 0;
    revision += 1;
  }

  // ---- what the lead is waiting for -------------------------------------------------------------

  const clockView = (): ClockView => ({
    speedToLead: state.speedToLead,
    cadence: state.cadence,
    attemptsMade: state.attempts.length,
    paused: state.paused,
  });

  function view(): LeadView {
    return {
      ...state,
      sla: slaBudget(state.speedToLead, calendar, now()),
      deadlines: pendingWakeUps(clockView(), policy, tierLabel, now())
        .filter((wake) => wake.kind !== 'due-soon')
        .map((wake) => ({ kind: wake.kind, label: wake.label, dueAt: wake.at })),
    };
  }

  function refreshSearchAttributes(): void {
    state.slaState = slaStateAt(clockView(), policy, now());
    const next = pendingWakeUps(clockView(), policy, tierLabel, now()).find((wake) => wake.kind !== 'due-soon');
    searchAttributes.apply({
      stage: state.stage,
      policyVersion: state.policyVersion,
      ownerId: state.ownerId,
      slaState: state.slaState,
      escalationLevel: state.escalationLevel,
      nextDeadline: next ? new Date(next.at) : null,
    });
  }

  async function onWakeUp(wake: WakeUp): Promise<void> {
    const speed = state.speedToLead;
    switch (wake.kind) {
      case 'due-soon': // never due: pendingWakeUps drops a due-soon mark once reached
        return;
      case 'speed-to-lead': {
        if (!speed) return;
        speed.breached = true;
        const level = policy.escalation.levels[speed.nextLevel];
        speed.nextEscalation = level ? dueAfter(calendar, new Date(speed.due.at), level.after) : null;
        audit('sla-breached', 'system', { deadline: 'speed-to-lead', dueAt: speed.due.at, ownerId: state.ownerId });
        return;
      }
      case 'escalation':
        return escalate();
      case 'cadence-attempt': {
        const cadence = state.cadence!;
        const index = wake.attemptIndex!;
        cadence.remindedThrough = index + 1;
        const channel = policy.cadence.attempts[index]!.channel;
        notifyLater('cadence.attempt-due', [state.ownerId], `${wake.label} (${channel}) for ${profile.company}`, {
          attempt: index + 1,
          channel,
          dueAt: wake.at,
        });
        return;
      }
      case 'cadence-window':
        returnToNurture('unresponsive', 'system', { attemptsMade: state.attempts.length });
        return;
      case 'pause-ends':
        resume('system');
        return;
    }
  }

  async function escalate(): Promise<void> {
    const speed = state.speedToLead!;
    const levelIndex = speed.nextLevel;
    const level = policy.escalation.levels[levelIndex]!;
    const answersTo = { deadline: 'speed-to-lead', dueAt: speed.due.at };
    speed.nextLevel += 1;
    state.escalationLevel = speed.nextLevel;
    const following = policy.escalation.levels[speed.nextLevel];
    speed.nextEscalation = following ? dueAfter(calendar, now(), following.after) : null;

    switch (level.action) {
      case 'remind-owner':
        audit('escalated', 'system', { level: levelIndex + 1, action: level.action, ...answersTo, ownerId: state.ownerId });
        notifyLater('speed-to-lead.reminder', [state.ownerId], `Overdue: ${tierLabel} lead ${profile.company} was due ${speed.due.at}`, answersTo);
        return;
      case 'alert-manager':
        audit('escalated', 'system', { level: levelIndex + 1, action: level.action, ...answersTo, managerId: state.managerId });
        notifyLater('speed-to-lead.manager-alert', [state.managerId], `${tierLabel} lead ${profile.company} missed its deadline (owner ${state.ownerId ?? 'none'})`, answersTo);
        return;
      case 'reassign': {
        const previousOwner = state.ownerId;
        const assignment = await route(`${state.lastEventSeq}-escalation-reassign`, { exclude: previousOwner ? [previousOwner] : [] });
        if (typeof assignment === 'string') {
          audit('escalated', 'system', { level: levelIndex + 1, action: level.action, ...answersTo, failed: assignment });
          return;
        }
        assignOwner(assignment);
        // The new owner gets the full allowance again; the next level waits for that fresh deadline.
        speed.due = dueAfter(calendar, now(), speed.allowance);
        speed.breached = false;
        speed.nextEscalation = null;
        audit('escalated', 'system', { level: levelIndex + 1, action: level.action, ...answersTo, from: previousOwner, to: assignment.repId, freshDueAt: speed.due.at });
        notifyLater('lead.reassigned', [assignment.repId, previousOwner, state.managerId], `${tierLabel} lead ${profile.company} reassigned to ${assignment.repId}: respond by ${speed.due.at}`, {
          ...answersTo,
          from: previousOwner,
          to: assignment.repId,
          freshDueAt: speed.due.at,
        });
        return;
      }
      case 'return-to-marketing':
        audit('escalated', 'system', { level: levelIndex + 1, action: level.action, ...answersTo });
        returnToNurture('sla-expired', 'system', answersTo);
        return;
    }
  }

  function resume(actor: string): void {
    const paused = state.paused!;
    const pausedAt = new Date(paused.since);
    const resumedAt = now();
    if (state.speedToLead) state.speedToLead = shiftSpeedToLead(calendar, state.speedToLead, pausedAt, resumedAt);
    if (state.cadence) state.cadence = shiftCadence(calendar, state.cadence, pausedAt, resumedAt);
    state.paused = null;
    audit('resumed', actor, {
      pausedSince: paused.since,
      pausedBusinessMinutes: businessMinutesBetween(calendar, pausedAt, resumedAt),
      deadlines: view().deadlines,
    });
    revision += 1;
  }

  // ---- steps from people (updates: validated before they reach history) ---------------------------

  function refuseUnless(step: LeadStep, extra?: () => string | null): void {
    const refusal = stepRefusal(step, state.stage) ?? extra?.() ?? null;
    if (refusal) throw ApplicationFailure.nonRetryable(refusal, STEP_REFUSED);
  }

  /** Runs a step, records what it staged, and answers with the lead as it now stands. */
  async function step(body: () => Promise<void> | void): Promise<LeadView> {
    await body();
    revision += 1;
    refreshSearchAttributes();
    await flush();
    return view();
  }

  setHandler(leadStateQuery, view);

  setHandler(
    acceptLeadUpdate,
    ({ actor }) =>
      step(() => {
        enterStage('SAL');
        audit('accepted', actor, { from: 'MQL', to: 'SAL', ownerId: state.ownerId });
        speedToLeadMet('acceptance', now());
      }),
    { validator: (_input) => refuseUnless('accept') },
  );

  setHandler(
    logContactAttemptUpdate,
    ({ actor, channel, outcome, notes }) =>
      step(() => {
        const attempt = { number: state.attempts.length + 1, channel, outcome, at: now().toISOString(), actor, notes };
        state.attempts.push(attempt);
        audit('contact-attempted', actor, { ...attempt });
        if (attempt.number === 1) speedToLeadMet('first-attempt', now());
        if (outcome === 'bounced' && channel === 'email' && !state.flags.includes('email-bounced')) {
          state.flags.push('email-bounced');
          audit('record-flagged', actor, { flag: 'email-bounced' });
        }
        if (policy.cadence.endingOutcomes.includes(outcome) && state.cadence) {
          state.cadence = null;
          audit('cadence-ended', actor, { by: outcome, attempts: state.attempts.length });
        }
      }),
    { validator: (_input) => refuseUnless('contact-attempt', () => (state.paused ? 'the lead is paused; resume it first' : null)) },
  );

  setHandler(
    qualifyLeadUpdate,
    ({ actor, need, budget, timing, notes }) =>
      step(() => {
        enterStage('SQL');
        audit('qualified', actor, { from: 'SAL', to: 'SQL', need, budget, timing, notes });
      }),
    { validator: (_input) => refuseUnless('qualify') },
  );

  setHandler(
    rejectLeadUpdate,
    ({ actor, reason, notes }) => step(() => returnToNurture(reason, actor, { notes })),
    { validator: (_input) => refuseUnless('reject') },
  );

  setHandler(
    recordEngagementUpdate,
    ({ actor, behavior, intent, negative, signal }) =>
      step(async () => {
        const points = signal ? policy.scoring.signals[signal]! : {};
        const components: ScoreComponents = {
          fit: state.score.fit,
          behavior: state.score.behavior + (behavior ?? 0) + (points.behavior ?? 0),
          intent: state.score.intent + (intent ?? 0) + (points.intent ?? 0),
          negative: state.score.negative + (negative ?? 0),
        };
        const before = state.score;
        state.score = { ...components, total: totalScore(components), band: scoreBand(policy.scoring, components) };
        audit('score-changed', actor, { signal, from: before.total, to: state.score.total, band: state.score.band });
        const crossedUp = before.band === 'cold' && state.score.band !== 'cold';
        // A rejected or timed-out lead keeps an MQL-band score: new positive engagement alone brings it back.
        const reengaged =
          state.stage === 'NURTURE' && state.score.band !== 'cold' && state.score.total > before.total && patched('reengage-from-nurture');
        if ((crossedUp && state.stage === 'LEAD') || (state.stage === 'NURTURE' && (crossedUp || reengaged))) {
          await becomeMql(actor, signal ? `score crossed the MQL threshold on ${signal}` : 'score crossed the MQL threshold');
        } else if (state.score.band === 'cold' && state.stage === 'MQL') {
          returnToNurture('cold-score', actor, { score: state.score.total });
        }
      }),
    {
      validator: ({ signal }) =>
        refuseUnless('engagement', () =>
          signal && !policy.scoring.signals[signal]
            ? `unknown signal "${signal}"; policy ${policy.version} knows ${Object.keys(policy.scoring.signals).join(', ')}`
            : null,
        ),
    },
  );

  setHandler(
    pauseLeadUpdate,
    ({ actor, until, reason }) =>
      step(() => {
        state.paused = { since: now().toISOString(), until: until ? new Date(until).toISOString() : null, reason };
        audit('paused', actor, { until: state.paused.until, reason });
      }),
    {
      validator: ({ until }) =>
        refuseUnless('pause', () => {
          if (state.paused) return 'the lead is already paused';
          if (until && new Date(until) <= now()) return '`until` must be in the future';
          return null;
        }),
    },
  );

  setHandler(
    resumeLeadUpdate,
    ({ actor }) => step(() => resume(actor)),
    { validator: (_input) => refuseUnless('resume', () => (state.paused ? null : 'the lead is not paused')) },
  );

  setHandler(
    reassignLeadUpdate,
    ({ actor, toRepId, reason }) =>
      step(async () => {
        const previousOwner = state.ownerId;
        const assignment = await route(`${state.lastEventSeq}-manual-reassign`, {
          exclude: previousOwner && !toRepId ? [previousOwner] : [],
          preferredRepId: toRepId,
        });
        if (typeof assignment === 'string') throw ApplicationFailure.nonRetryable(assignment, STEP_REFUSED);
        assignOwner(assignment);
        const speed = state.speedToLead;
        if (speed) {
          speed.due = dueAfter(calendar, now(), speed.allowance);
          speed.breached = false;
          speed.nextEscalation = null;
        }
        audit('reassigned', actor, { from: previousOwner, to: assignment.repId, reason, freshDueAt: speed?.due.at ?? null });
        notifyLater('lead.reassigned', [assignment.repId, previousOwner], `Lead ${profile.company} reassigned to ${assignment.repId} by ${actor}`, {
          from: previousOwner,
          to: assignment.repId,
          reason,
        });
      }),
    {
      validator: ({ toRepId }) =>
        refuseUnless('reassign', () => (toRepId && toRepId === state.ownerId ? `the lead is already owned by ${toRepId}` : null)),
    },
  );

  setHandler(
    migrateLeadPolicyUpdate,
    ({ actor, policy: next, note }) =>
      step(() => {
        const from = policy.version;
        policy = next;
        calendar = next.calendars[next.defaultCalendarId]!;
        state.policyVersion = next.version;
        state.calendarId = next.defaultCalendarId;
        // Deadlines already promised keep their due times; clocks started from now on follow the new rules.
        audit('policy-migrated', actor, { from, to: next.version, note });
      }),
    {
      validator: ({ policy: next }) =>
        refuseUnless('migrate-policy', () => (next.version === policy.version ? `the lead already runs under policy ${next.version}` : null)),
    },
  );

  /** A won lead hands over to its deal's workflow, which outlives this one; both record the link. */
  async function startDeal(deal: WonDeal, actor: string): Promise<void> {
    state.dealId = deal.dealId;
    const childId = dealWorkflowId(deal.dealId);
    try {
      await startChild(dealWorkflow, {
        workflowId: childId,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        args: [
          {
            deal: {
              dealId: deal.dealId,
              accountName: deal.accountName ?? profile.company,
              amount: deal.amount,
              currency: deal.currency,
              signedAt: deal.signedAt,
              closedWonAt: deal.closedWonAt ?? now().toISOString(),
              salesOwnerId: state.ownerId ?? actor,
              leadId: state.leadId,
              csOwnerId: deal.csOwnerId,
            },
            policy,
            actor,
          },
        ],
      });
      audit('deal-started', actor, { dealId: deal.dealId, workflowId: childId });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      audit('deal-linked', actor, { dealId: deal.dealId, workflowId: childId, note: 'the deal was already open; it was not started again' });
    }
  }

  setHandler(
    closeLeadUpdate,
    ({ actor, outcome, reason, deal }) =>
      step(async () => {
        enterStage(outcome === 'won' ? 'WON' : 'LOST');
        audit('closed', actor, { from: 'SQL', to: state.stage, outcome, reason, dealId: deal?.dealId ?? null });
        if (deal) await startDeal(deal, actor);
      }),
    {
      validator: ({ outcome, deal }) =>
        refuseUnless('close', () => {
          if (deal && outcome !== 'won') return 'only a won lead becomes a deal';
          if (deal && !policy.deal) return `policy ${policy.version} has no deal section, so this lead cannot start a deal`;
          return null;
        }),
    },
  );

  // ---- the run ----------------------------------------------------------------------------------

  searchAttributes.applyTier(profile.icpTier);
  if (!input.carried) {
    audit('received', input.actor, { stage: state.stage, score: state.score, profile });
    if (state.stage === 'MQL') await routeToOwner();
  }
  refreshSearchAttributes();
  await flush();

  const timer = new WakeUpTimer();

  while (!isTerminal(state.stage) && !nurturedThisRun && !workflowInfo().continueAsNewSuggested) {
    timer.arm(pendingWakeUps(clockView(), policy, tierLabel, now())[0]);
    const seen = revision;
    await timer.untilFiredOr(() => revision !== seen);
    for (;;) {
      const due = pendingWakeUps(clockView(), policy, tierLabel, now()).find((wake) => wake.at <= now().toISOString());
      if (!due || isTerminal(state.stage) || nurturedThisRun) break;
      await onWakeUp(due);
      revision += 1;
    }
    refreshSearchAttributes();
    background.add(flush());
  }

  timer.cancel();
  await settleBeforeClosing(background, flush);
  if (!isTerminal(state.stage)) {
    // A return to nurture (or a long history) starts a fresh run that carries the lead's whole state.
    await continueAsNew<typeof leadWorkflowV1>({ ...input, policy, carried: state });
  }
  if (patched('archive-on-close')) {
    await archiveWorkflow({
      workflowId,
      kind: 'lead',
      subjectId: state.leadId,
      runId: workflowInfo().runId,
      outcome: state.stage,
      closedAt: now().toISOString(),
      finalState: { ...state },
    });
  }
  return { leadId: state.leadId, stage: state.stage, dealId: state.dealId };
}

/**
 * Built before any handler runs: an update delivered with the first task already sees the entry stage
 * and, for an MQL, its speed-to-lead clock.
 */
function initialState(input: LeadWorkflowInput, at: Date, calendar: BusinessCalendar): LeadState {
  const { policy, profile } = input;
  const band = scoreBand(policy.scoring, input.score);
  const mql = band !== 'cold';
  return {
    leadId: profile.leadId,
    stage: mql ? 'MQL' : 'LEAD',
    profile,
    ownerId: null,
    queueId: null,
    managerId: null,
    score: { ...input.score, total: totalScore(input.score), band },
    policyVersion: policy.version,
    calendarId: policy.defaultCalendarId,
    attempts: [],
    speedToLead: mql ? startSpeedToLead(calendar, at, speedToLeadDeadline(policy, profile.icpTier, band === 'hot')) : null,
    cadence: null,
    paused: null,
    slaState: 'none',
    escalationLevel: 0,
    nurtureReason: null,
    flags: [],
    enteredStageAt: at.toISOString(),
    cycle: 0,
    dealId: null,
    lastEventSeq: 0,
    notificationsSent: 0,
  };
}
