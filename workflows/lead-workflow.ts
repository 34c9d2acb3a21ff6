import {
  continueAsNew,
  ParentClosePolicy,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError, type UpdateDefinition } from '@temporalio/common';
import type { Activities } from '../activities/index.js';
import type { LeadAuditEvent } from '../activities/lead-audit.js';
import type { RouteLeadResult } from '../activities/routing.js';
import { businessMinutesBetween, durationToMs, type BusinessCalendar } from '../domain/business-time.js';
import { intakeQualityFlags } from '../domain/data-quality.js';
import { describeProblems, hygieneAction, hygieneProblems, openOpportunity } from '../domain/opportunity-hygiene.js';
import { STEP_FORBIDDEN } from '../domain/failures.js';
import {
  advanceHygiene,
  breachSpeedToLead,
  climbSpeedToLeadEscalation,
  restartSpeedToLeadForNewOwner,
  moveCadenceToCalendar,
  pendingWakeUps,
  slaBudget,
  shiftCadence,
  shiftSpeedToLead,
  slaStateAt,
  dueSoonAt,
  startCadence,
  startHygiene,
  startSpeedToLead,
  type ClockView,
  type WakeUp,
} from '../domain/lead-clocks.js';
import { engagementMove, isTerminal, leadStepForbidden, stageOwnerTeam, stepRefusal, type LeadStage, type LeadStep, type NurtureReason } from '../domain/lead-lifecycle.js';
import type { Policy } from '../domain/policy.js';
import { cadenceFor, hasQueueRules, ownerCalendarId, scoringFor, speedToLeadAllowance } from '../domain/lead-rules.js';
import { NO_AVAILABLE_REP } from '../domain/routing.js';
import { scoreBand, totalScore, type ScoreComponents } from '../domain/scoring.js';
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
  setNextStepUpdate,
  updateOpportunityUpdate,
  type LeadResult,
  type LeadState,
  type LeadView,
  type LeadWorkflowInput,
  type StepActor,
  type WonDeal,
} from './lead-definitions.js';
import { dealWorkflow } from './deal-workflow.js';
import { leadWorkflowV1 } from './legacy/lead-workflow-v1.js';
import { LeadSearchAttributes } from './lead-search-attributes.js';
import { dealStartSearchAttributes } from './deal-search-attributes.js';
import { CURRENT_ENGINE, ENGINE_2026_12, finalArchive, LEAN_CLOCKS, ONE_TASK_NOTIFY_LOCAL_OPTIONS, ONE_TASK_STEP, NOTIFY_WITH_AUDIT_WITHIN_MS, ONE_TASK_STEP_LOCAL_OPTIONS, refuse, StepEngine, withoutLedger, type StepAnswer } from './step-engine.js';
import { activityApplicationFailure, localFirst } from './workflow-runtime.js';
import { auditSummary, auditThenNotify, dealMemo, dealStaticDetails, dealSummary, notificationSenders, showLeadDetails, summarised } from './ui-metadata.js';
import { dealWorkflowId } from './workflow-ids.js';

// Routing and the archive are idempotent and must never be lost: they retry until the database answers.
const { routeLead, archiveWorkflow } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 seconds' },
});

// The audit retries until the database answers, except for what no retry can fix (AuditRejected), which the step engine handles.
// Steps wait on it, so retries stay at most 5 s apart: after an outage a waiting step resumes within 5 s.
const { recordLeadEvents } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 seconds', nonRetryableErrorTypes: ['AuditRejected'] },
});

// The same writes inside the workflow task that carries the step (see localFirst): one task per step.
const local = proxyLocalActivities<Activities>(ONE_TASK_STEP_LOCAL_OPTIONS);
const notifyLocally = proxyLocalActivities<Activities>(ONE_TASK_NOTIFY_LOCAL_OPTIONS);

// A notification that cannot be delivered within the hour is recorded as failed rather than holding up the lead.
const { notify, notifyAll } = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/**
 * One lead from intake to close. Nothing is applied before intake and routing are recorded; steps and
 * timers run one at a time in arrival order, each re-checked against the stage and the owner when its turn
 * comes; a step answers only once its audit rows are committed; every deadline is a durable timer on the
 * policy snapshot the lead started under. Each return to nurture starts a fresh run.
 */
export async function leadWorkflow(input: LeadWorkflowInput): Promise<LeadResult> {
  // Runs started on the current engine take every change below without a check of their own; runs started on
  // the one before it take all but the notifications carried by the audit commit.
  const notifiesWithAudit = patched(CURRENT_ENGINE);
  const current = notifiesWithAudit || patched(ENGINE_2026_12);
  // Runs started before the step engine keep the code they started with, so their histories replay.
  if (!current && !patched('step-engine')) return leadWorkflowV1(input);
  // Runs started before steps took one workflow task keep writing through activities, so their histories replay.
  const oneTaskStep = current || patched(ONE_TASK_STEP);
  // Runs started before it wake at the due-soon mark, re-arm timers when idle and show the cadence's end as NextDeadline.
  const leanClocks = current || (oneTaskStep && patched(LEAN_CLOCKS));
  const writeAudit = oneTaskStep
    ? localFirst(summarised(local.recordLeadEvents, auditSummary), summarised(recordLeadEvents, auditSummary))
    : summarised(recordLeadEvents, auditSummary);
  const routeWith = oneTaskStep ? localFirst(local.routeLead, routeLead) : routeLead;
  const archive = oneTaskStep ? localFirst(local.archiveWorkflow, archiveWorkflow) : archiveWorkflow;

  const { profile } = input;
  // Ops may migrate a running lead to a newer policy version; until then it keeps the one it started under.
  let policy = input.policy;
  // The clocks count on the owner's team calendar (state.calendarId), the policy's default until routing says otherwise.
  const calendarOf = (calendarId: string | undefined) => policy.calendars[calendarId ?? policy.defaultCalendarId] ?? policy.calendars[policy.defaultCalendarId]!;
  let calendar = calendarOf(input.carried?.calendarId);
  const workflowId = workflowInfo().workflowId;
  const now = () => new Date(); // the workflow sandbox makes Date deterministic: it is the current task's time
  const tierLabel = `Tier ${profile.icpTier}`;
  // How notifications name the lead: its company, or its ID when intake had none (flagged company-missing).
  const leadName = profile.company.trim() || `lead ${profile.leadId}`;

  const state: LeadState = input.carried ?? initialState(input, now(), calendar);
  const searchAttributes = new LeadSearchAttributes(oneTaskStep ? workflowInfo().typedSearchAttributes : undefined);
  let nurturedThisRun = false;

  const engine = new StepEngine<LeadState, LeadAuditEvent>({
    workflowId,
    state,
    now,
    toAuditEvent: (event) => ({
      workflowId,
      leadId: state.leadId,
      seq: event.seq,
      stepKey: `${event.seq}-${event.type}`,
      type: event.type,
      at: event.at,
      actor: event.actor,
      payload: event.payload,
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
    }),
    writeAudit,
    ...notificationSenders(oneTaskStep, { notify, notifyAll, notifyAllLocally: notifyLocally.notifyAll }),
    ...(notifiesWithAudit
      ? { writeAuditAndNotify: auditThenNotify(local.recordLeadEventsAndNotify, summarised(recordLeadEvents, auditSummary), NOTIFY_WITH_AUDIT_WITHIN_MS) }
      : {}),
    notificationDetails: () => ({ leadId: state.leadId, stage: state.stage }),
    afterChange: refreshSearchAttributes,
    keepEarlierTimer: oneTaskStep,
    skipStepWakeUps: notifiesWithAudit,
    keepIdleTimer: leanClocks,
    locals: {
      capture: () => ({ policy, nurturedThisRun }),
      restore: (saved) => {
        ({ policy, nurturedThisRun } = saved as { policy: Policy; nurturedThisRun: boolean });
        calendar = calendarOf(state.calendarId);
      },
    },
  });
  const audit = (type: string, actor: string, payload: Record<string, unknown>) => engine.record(type, actor, payload);

  // ---- routing --------------------------------------------------------------------------------

  async function route(
    stepKey: string,
    options: { exclude?: string[]; preferredRepId?: string; returningOwnerId?: string; queueId?: string } = {},
  ): Promise<RouteLeadResult | string> {
    try {
      return await routeWith({
        idempotencyKey: `${workflowId}:${stepKey}`,
        leadId: state.leadId,
        lead: {
          tier: profile.icpTier,
          hot: state.score.band === 'hot',
          segment: profile.segment,
          country: profile.country,
          ...(profile.region !== undefined ? { region: profile.region } : {}),
          ...(profile.product !== undefined ? { product: profile.product } : {}),
          ...(profile.skills !== undefined ? { skills: profile.skills } : {}),
          company: profile.company,
        },
        rules: policy.routing.rules,
        fallbackQueueId: policy.routing.fallbackQueueId,
        at: now().toISOString(),
        exclude: options.exclude,
        preferredRepId: options.preferredRepId,
        ...(options.returningOwnerId ? { returningOwnerId: options.returningOwnerId } : {}),
        ...(options.queueId ? { queueId: options.queueId } : {}),
      });
    } catch (error) {
      const refusal = activityApplicationFailure(error);
      if (refusal?.type === NO_AVAILABLE_REP) return refusal.message;
      throw error;
    }
  }

  /**
   * The new owner's rules take over: the clocks move to their team's calendar (pending business deadlines keep the
   * business time they had left), and the answer says whether the queue's own SLA changed with the queue.
   */
  function assignOwner(assignment: RouteLeadResult, previousQueueId: string | null): { queueRulesChanged: boolean } {
    state.ownerId = assignment.repId;
    state.queueId = assignment.queueId;
    state.managerId = assignment.managerId;
    const calendarId = ownerCalendarId(policy, state.queueId);
    if (calendarId !== state.calendarId) {
      const from = calendar;
      calendar = calendarOf(calendarId);
      state.calendarId = calendarId;
      if (state.cadence) state.cadence = moveCadenceToCalendar(from, calendar, state.cadence, now());
    }
    return { queueRulesChanged: state.queueId !== previousQueueId && (hasQueueRules(policy, state.queueId) || hasQueueRules(policy, previousQueueId)) };
  }

  const ruleSubject = (queueId: string | null) => ({ tier: profile.icpTier, hot: state.score.band === 'hot', segment: profile.segment, queueId });

  // ---- stage changes ----------------------------------------------------------------------------

  function enterStage(stage: LeadStage): void {
    state.stage = stage;
    state.enteredStageAt = now().toISOString();
    if (stage !== 'MQL' && stage !== 'SAL') {
      state.speedToLead = null;
      state.paused = null;
    }
    if (stage !== 'SAL') state.cadence = null;
    if (stage !== 'SQL' && state.hygiene) state.hygiene = null;
    if (stage === 'SQL') {
      // Qualification opens the opportunity; its hygiene clock runs under a policy that has one.
      state.opportunity = openOpportunity(now());
      if (policy.hygiene) state.hygiene = startHygiene(policy.hygiene, now());
    }
    if (stage === 'SAL') state.cadence = startCadence({ cadence: cadenceFor(policy, profile.segment) }, calendar, now(), false);
    if (stage === 'NURTURE') {
      state.cycle += 1;
      nurturedThisRun = true;
    }
  }

  /** MQL: the speed-to-lead clock starts as the lead is handed to routing. */
  async function becomeMql(actor: string, reason: string): Promise<void> {
    const from = state.stage;
    // A lead back from nurture starts a fresh cycle: its first attempt must again meet speed-to-lead.
    if (from === 'NURTURE') state.attempts = [];
    // The rep it had before nurture gets it back (when available): runs from before this rule route it afresh.
    const returningOwnerId = from === 'NURTURE' && state.ownerId && (current || patched('nurture-keeps-owner')) ? state.ownerId : undefined;
    enterStage('MQL');
    state.escalationLevel = 0;
    state.nurtureReason = null;
    state.speedToLead = startSpeedToLead(calendar, now(), speedToLeadAllowance(policy, ruleSubject(null)));
    audit('stage-changed', actor, { from, to: 'MQL', reason });
    await routeToOwner(returningOwnerId);
  }

  async function routeToOwner(returningOwnerId?: string): Promise<void> {
    const assignment = await route(`${state.lastEventSeq}-route`, { returningOwnerId });
    if (typeof assignment === 'string') {
      audit('routing-failed', 'system', { reason: assignment, dueAt: state.speedToLead?.due.at ?? null });
      return;
    }
    const startedOn = calendar.id;
    const { queueRulesChanged } = assignOwner(assignment, null);
    const speed = state.speedToLead;
    if (speed && (queueRulesChanged || calendar.id !== startedOn)) {
      // The clock started as the lead became MQL; its owner's queue and calendar now say how long it has.
      state.speedToLead = startSpeedToLead(calendar, new Date(speed.startedAt), speedToLeadAllowance(policy, ruleSubject(state.queueId)));
    }
    const dueAt = state.speedToLead?.due.at ?? null;
    audit('routed', 'system', { ...assignment, dueAt, ...(calendar.id !== startedOn ? { calendarId: calendar.id } : {}) });
    engine.notify('lead.assigned', [assignment.repId], `New ${tierLabel} lead ${leadName}${dueAt ? `: respond by ${dueAt}` : ''}`, { dueAt });
  }

  function returnToNurture(reason: NurtureReason, actor: string, details: Record<string, unknown> = {}): void {
    const from = state.stage;
    const ended = { cycle: state.cycle, from, reason, at: now().toISOString(), escalationLevel: state.escalationLevel, attempts: state.attempts.length };
    state.pastCycles = [...(state.pastCycles ?? []), ended].slice(-10);
    state.nurtureReason = reason;
    enterStage('NURTURE');
    audit('returned-to-nurture', actor, { from, to: 'NURTURE', reason, ...details, ownerId: state.ownerId, stageOwner: stageOwnerTeam('NURTURE') });
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
  }

  // ---- what the lead is waiting for -------------------------------------------------------------

  const clockView = (): ClockView => ({
    speedToLead: state.speedToLead,
    cadence: state.cadence,
    attemptsMade: state.attempts.length,
    paused: state.paused,
    hygiene: state.hygiene ?? null,
  });

  function view(): LeadView {
    return {
      ...withoutLedger(state),
      stageOwner: stageOwnerTeam(state.stage),
      sla: slaBudget(state.speedToLead, calendar, now()),
      deadlines: pendingWakeUps(clockView(), policy, tierLabel, now())
        .filter((wake) => wake.kind !== 'due-soon')
        .map((wake) => ({ kind: wake.kind, label: wake.label, dueAt: wake.at })),
    };
  }

  function refreshSearchAttributes(): void {
    state.slaState = slaStateAt(clockView(), policy, now());
    if (leanClocks) state.dueSoonAt = dueSoonAt(clockView(), policy);
    searchAttributes.apply({
      stage: state.stage,
      policyVersion: state.policyVersion,
      ownerId: state.ownerId,
      // Since 'lean-clocks' visibility tells due-soon from DueSoonAt: SlaState stays on-track until the deadline passes.
      slaState: leanClocks && state.slaState === 'due-soon' ? 'on-track' : state.slaState,
      escalationLevel: state.escalationLevel,
      nextDeadline: nextDeadline(),
      ...(leanClocks ? { dueSoonAt: state.dueSoonAt ? new Date(state.dueSoonAt) : null } : {}),
    });
    // The details show the next wake-up, whatever it is: what the lead waits for right now.
    showLeadDetails(state, pendingWakeUps(clockView(), policy, tierLabel, now()).find((wake) => wake.kind !== 'due-soon'));
  }

  /**
   * What NextDeadline shows. Since 'one-task-step': the deadline an SLA answers to (the response deadline until
   * it is met, then the cadence window's end), which moves only when that deadline does, not with every
   * contact attempt as the next wake-up does; each move is an upsert, a billed action.
   */
  function nextDeadline(): Date | null {
    if (leanClocks) {
      // Only the response deadline: the cadence's end returns the lead to nurture by itself, it is no SLA to chase.
      const at = state.paused ? null : (state.speedToLead?.due.at ?? null);
      return at ? new Date(at) : null;
    }
    if (oneTaskStep) {
      const at = state.paused ? null : (state.speedToLead?.due.at ?? state.cadence?.windowEnds.at ?? null);
      return at ? new Date(at) : null;
    }
    const next = pendingWakeUps(clockView(), policy, tierLabel, now()).find((wake) => wake.kind !== 'due-soon');
    return next ? new Date(next.at) : null;
  }

  async function onWakeUp(wake: WakeUp): Promise<void> {
    const speed = state.speedToLead;
    switch (wake.kind) {
      case 'due-soon': // never due: pendingWakeUps drops a due-soon mark once reached
        return;
      case 'speed-to-lead': {
        if (!speed) return;
        Object.assign(speed, breachSpeedToLead(calendar, speed, policy.escalation.levels));
        audit('sla-breached', 'system', { deadline: 'speed-to-lead', dueAt: speed.due.at, ownerId: state.ownerId });
        return;
      }
      case 'escalation':
        return escalate();
      case 'cadence-attempt': {
        const cadence = state.cadence!;
        const index = wake.attemptIndex!;
        cadence.remindedThrough = index + 1;
        const channel = cadenceFor(policy, profile.segment).attempts[index]!.channel;
        // The reminder is an audit event too, so every notification the lead sends answers to one.
        audit('cadence-reminder', 'system', { attempt: index + 1, channel, dueAt: wake.at, ownerId: state.ownerId });
        engine.notify('cadence.attempt-due', [state.ownerId], `${wake.label} (${channel}) for ${leadName}`, {
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
      case 'hygiene-check':
        checkHygiene();
        return;
    }
  }

  /** The weekly look at the SQL's opportunity: the owner reminded of what is missing, the manager once reminders went unheeded. */
  function checkHygiene(): void {
    const rules = policy.hygiene;
    const clock = state.hygiene;
    if (!rules || !clock) {
      // Migrated to a policy without hygiene: the clock stops.
      state.hygiene = null;
      return;
    }
    const opportunity = (state.opportunity ??= openOpportunity(now()));
    const problems = hygieneProblems(opportunity, durationToMs(rules.staleAfter), now());
    state.hygiene = advanceHygiene(rules, clock, problems.length > 0);
    if (problems.length === 0) return;
    const action = hygieneAction(clock.failedChecks, rules);
    const details = { problems, failedChecks: state.hygiene.failedChecks, updatedAt: opportunity.updatedAt, nextStep: opportunity.nextStep, nextCheckAt: state.hygiene.nextCheckAt };
    if (action === 'remind-owner') {
      audit('hygiene-reminder', 'system', { ...details, ownerId: state.ownerId });
      engine.notify('opportunity.hygiene-reminder', [state.ownerId], `Opportunity ${leadName}: ${describeProblems(problems)}`, details);
      return;
    }
    audit('hygiene-escalated', 'system', { ...details, ownerId: state.ownerId, managerId: state.managerId });
    engine.notify('opportunity.hygiene-manager-alert', [state.managerId], `Opportunity ${leadName} (owner ${state.ownerId ?? 'none'}): ${describeProblems(problems)} after ${clock.failedChecks} reminder(s)`, details);
  }

  async function escalate(): Promise<void> {
    const speed = state.speedToLead!;
    const levelIndex = speed.nextLevel;
    const level = policy.escalation.levels[levelIndex]!;
    const answersTo = { deadline: 'speed-to-lead', dueAt: speed.due.at };
    Object.assign(speed, climbSpeedToLeadEscalation(calendar, speed, policy.escalation.levels, now()));
    state.escalationLevel = speed.nextLevel;

    switch (level.action) {
      case 'remind-owner':
        audit('escalated', 'system', { level: levelIndex + 1, action: level.action, ...answersTo, ownerId: state.ownerId });
        engine.notify('speed-to-lead.reminder', [state.ownerId], `Overdue: ${tierLabel} lead ${leadName} was due ${speed.due.at}`, answersTo);
        return;
      case 'alert-manager':
        audit('escalated', 'system', { level: levelIndex + 1, action: level.action, ...answersTo, managerId: state.managerId });
        engine.notify('speed-to-lead.manager-alert', [state.managerId], `${tierLabel} lead ${leadName} missed its deadline (owner ${state.ownerId ?? 'none'})`, answersTo);
        return;
      case 'reassign': {
        const previousOwner = state.ownerId;
        const assignment = await route(`${state.lastEventSeq}-escalation-reassign`, { exclude: previousOwner ? [previousOwner] : [] });
        if (typeof assignment === 'string') {
          audit('escalated', 'system', { level: levelIndex + 1, action: level.action, ...answersTo, failed: assignment });
          return;
        }
        const { queueRulesChanged } = assignOwner(assignment, state.queueId);
        // The new owner gets the full allowance again; the next level waits for that fresh deadline.
        Object.assign(speed, restartSpeedToLeadForNewOwner(calendar, speed, queueRulesChanged ? speedToLeadAllowance(policy, ruleSubject(state.queueId)) : speed.allowance, now()));
        audit('escalated', 'system', { level: levelIndex + 1, action: level.action, ...answersTo, from: previousOwner, to: assignment.repId, freshDueAt: speed.due.at });
        engine.notify('lead.reassigned', [assignment.repId, previousOwner, state.managerId], `${tierLabel} lead ${leadName} reassigned to ${assignment.repId}: respond by ${speed.due.at}`, {
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
  }

  // ---- steps from people (updates: validated before they reach history, re-checked on their turn) ----

  /** The rules of a step: the stage allows it, the caller may take it on this lead, and its own conditions hold. */
  function rulesOf(step: LeadStep, request: StepActor, extra?: () => string | null): (settled: boolean) => void {
    return (settled) => {
      refuse(stepRefusal(step, state.stage));
      if (settled) refuse(leadStepForbidden(step, { ownerId: state.ownerId, leadId: state.leadId }, request), STEP_FORBIDDEN);
      refuse(extra?.() ?? null);
    };
  }

  /** Registers one step: checked in the validator once the lead is settled, and again when the step's turn comes. */
  function onStep<Input extends StepActor>(
    update: UpdateDefinition<StepAnswer<LeadView>, [Input]>,
    step: LeadStep,
    apply: (input: Input) => Promise<void> | void,
    extra?: (input: Input) => string | null,
  ): void {
    const rules = (input: Input) => rulesOf(step, input, extra && (() => extra(input)));
    setHandler(update, (input: Input) => engine.step(input, rules(input), () => apply(input), view), {
      validator: (input: Input) => engine.checkInValidator(input, rules(input)),
    });
  }

  // Intake takes the engine's gate before any handler is registered: steps delivered with the first task wait behind it.
  searchAttributes.applyTier(profile.icpTier);
  const intake = engine.initialize(async () => {
    if (input.carried) return;
    audit('received', input.actor, { stage: state.stage, score: state.score, profile });
    for (const flag of intakeQualityFlags(profile)) audit('record-flagged', input.actor, { flag, at: 'intake' });
    if (state.stage === 'MQL') await routeToOwner();
  });

  setHandler(leadStateQuery, view);

  onStep(acceptLeadUpdate, 'accept', ({ actor }) => {
    enterStage('SAL');
    audit('accepted', actor, { from: 'MQL', to: 'SAL', ownerId: state.ownerId });
    speedToLeadMet('acceptance', now());
  });

  onStep(
    logContactAttemptUpdate,
    'contact-attempt',
    ({ actor, channel, outcome, notes }) => {
      const attempt = { number: state.attempts.length + 1, channel, outcome, at: now().toISOString(), actor, notes };
      state.attempts.push(attempt);
      audit('contact-attempted', actor, { ...attempt });
      if (attempt.number === 1) speedToLeadMet('first-attempt', now());
      if (outcome === 'bounced' && channel === 'email' && !state.flags.includes('email-bounced')) {
        state.flags.push('email-bounced');
        audit('record-flagged', actor, { flag: 'email-bounced' });
      }
      if (cadenceFor(policy, profile.segment).endingOutcomes.includes(outcome) && state.cadence) {
        state.cadence = null;
        audit('cadence-ended', actor, { by: outcome, attempts: state.attempts.length });
      }
    },
    () => (state.paused ? 'the lead is paused; resume it first' : null),
  );

  onStep(qualifyLeadUpdate, 'qualify', ({ actor, need, budget, timing, notes }) => {
    enterStage('SQL');
    audit('qualified', actor, { from: 'SAL', to: 'SQL', need, budget, timing, notes });
  });

  onStep(rejectLeadUpdate, 'reject', ({ actor, reason, notes }) => returnToNurture(reason, actor, { notes }));

  onStep(
    recordEngagementUpdate,
    'engagement',
    async ({ actor, behavior, intent, negative, signal }) => {
      const points = signal ? policy.scoring.signals[signal]! : {};
      const components: ScoreComponents = {
        fit: state.score.fit,
        behavior: state.score.behavior + (behavior ?? 0) + (points.behavior ?? 0),
        intent: state.score.intent + (intent ?? 0) + (points.intent ?? 0),
        negative: state.score.negative + (negative ?? 0),
      };
      const before = state.score;
      state.score = { ...components, total: totalScore(components), band: scoreBand(scoringFor(policy, profile.segment), components) };
      audit('score-changed', actor, { signal, from: before.total, to: state.score.total, band: state.score.band });
      const move = engagementMove(state.stage, before, state.score, policy.scoring.nurtureReturn);
      if (move === 'become-mql') {
        await becomeMql(actor, signal ? `score crossed the MQL threshold on ${signal}` : 'score crossed the MQL threshold');
      } else if (move === 'return-cold') {
        returnToNurture('cold-score', actor, { score: state.score.total });
      }
    },
    ({ signal }) =>
      signal && !policy.scoring.signals[signal]
        ? `unknown signal "${signal}"; policy ${policy.version} knows ${Object.keys(policy.scoring.signals).join(', ')}`
        : null,
  );

  onStep(
    pauseLeadUpdate,
    'pause',
    ({ actor, until, reason }) => {
      state.paused = { since: now().toISOString(), until: until ? new Date(until).toISOString() : null, reason };
      audit('paused', actor, { until: state.paused.until, reason });
    },
    ({ until }) => {
      if (state.paused) return 'the lead is already paused';
      if (until && new Date(until) <= now()) return '`until` must be in the future';
      return null;
    },
  );

  onStep(resumeLeadUpdate, 'resume', ({ actor }) => resume(actor), () => (state.paused ? null : 'the lead is not paused'));

  onStep(
    reassignLeadUpdate,
    'reassign',
    async ({ actor, toRepId, toQueueId, reason }) => {
      const previousOwner = state.ownerId;
      const previousCalendarId = state.calendarId;
      const assignment = await route(`${state.lastEventSeq}-manual-reassign`, {
        exclude: previousOwner && !toRepId ? [previousOwner] : [],
        preferredRepId: toRepId,
        queueId: toQueueId,
      });
      if (typeof assignment === 'string') refuse(assignment);
      const { queueRulesChanged } = assignOwner(assignment as RouteLeadResult, state.queueId);
      const speed = state.speedToLead;
      if (speed) {
        Object.assign(speed, restartSpeedToLeadForNewOwner(calendar, speed, queueRulesChanged ? speedToLeadAllowance(policy, ruleSubject(state.queueId)) : speed.allowance, now()));
      }
      const to = state.ownerId!;
      const moved = state.calendarId !== previousCalendarId ? { queueId: state.queueId, calendarId: state.calendarId, deadlines: view().deadlines } : {};
      audit('reassigned', actor, { from: previousOwner, to, reason, freshDueAt: speed?.due.at ?? null, ...moved });
      engine.notify('lead.reassigned', [to, previousOwner], `Lead ${leadName} reassigned to ${to} by ${actor}`, { from: previousOwner, to, reason });
    },
    ({ toRepId, toQueueId }) => {
      if (toRepId && toRepId === state.ownerId && (!toQueueId || toQueueId === state.queueId)) return `the lead is already owned by ${toRepId}`;
      return null;
    },
  );

  onStep(
    migrateLeadPolicyUpdate,
    'migrate-policy',
    ({ actor, policy: next, note }) => {
      const from = policy.version;
      policy = next;
      state.calendarId = ownerCalendarId(next, state.queueId);
      calendar = calendarOf(state.calendarId);
      state.policyVersion = next.version;
      // Deadlines already promised keep their due times; clocks started from now on follow the new rules.
      audit('policy-migrated', actor, { from, to: next.version, note });
    },
    ({ policy: next }) => (next.version === policy.version ? `the lead already runs under policy ${next.version}` : null),
  );

  onStep(
    setNextStepUpdate,
    'next-step',
    ({ actor, dueAt, type }) => {
      const opportunity = (state.opportunity ??= openOpportunity(now()));
      opportunity.nextStep = { dueAt: new Date(dueAt).toISOString(), type, setAt: now().toISOString(), actor };
      audit('next-step-set', actor, { ...opportunity.nextStep });
    },
    ({ dueAt }) => (Date.parse(dueAt) < now().getTime() ? `dueAt ${dueAt} is in the past; a next step is a date ahead` : null),
  );

  onStep(updateOpportunityUpdate, 'opportunity', ({ actor, stage, amount }) => {
    const opportunity = (state.opportunity ??= openOpportunity(now()));
    const previous = { stage: opportunity.stage, amount: opportunity.amount, updatedAt: opportunity.updatedAt };
    Object.assign(opportunity, { stage, amount, updatedAt: now().toISOString() });
    audit('opportunity-updated', actor, { stage, amount, previous });
  });

  /** A won lead hands over to its deal's workflow, which outlives this one; both record the link. */
  async function startDeal(deal: WonDeal, actor: string): Promise<void> {
    state.dealId = deal.dealId;
    const childId = dealWorkflowId(deal.dealId);
    try {
      const child = {
        dealId: deal.dealId,
        accountName: deal.accountName ?? profile.company,
        amount: deal.amount,
        currency: deal.currency,
        leadId: state.leadId,
        salesOwnerId: state.ownerId ?? actor,
      };
      await startChild(dealWorkflow, {
        workflowId: childId,
        staticSummary: dealSummary(child),
        staticDetails: dealStaticDetails(child, state.policyVersion),
        memo: dealMemo(child, state.policyVersion),
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        // Given at start they cost no upsert; runs before 'one-task-step' started their deals without them.
        ...(oneTaskStep ? { typedSearchAttributes: dealStartSearchAttributes({ salesOwnerId: state.ownerId ?? actor, csOwnerId: deal.csOwnerId, policyVersion: policy.version }) } : {}),
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

  onStep(
    closeLeadUpdate,
    'close',
    async ({ actor, outcome, reason, deal }) => {
      enterStage(outcome === 'won' ? 'WON' : 'LOST');
      audit('closed', actor, { from: 'SQL', to: state.stage, outcome, reason, dealId: deal?.dealId ?? null });
      if (deal) await startDeal(deal, actor);
    },
    ({ outcome, deal }) => {
      if (deal && outcome !== 'won') return 'only a won lead becomes a deal';
      if (deal && !policy.deal) return `policy ${policy.version} has no deal section, so this lead cannot start a deal`;
      return null;
    },
  );

  // ---- the run ----------------------------------------------------------------------------------

  await intake;

  await engine.runClocks({
    running: () => !isTerminal(state.stage) && !nurturedThisRun,
    // The due-soon mark changes only how the lead is shown; since 'lean-clocks' DueSoonAt shows it without a timer.
    pending: () => pendingWakeUps(clockView(), policy, tierLabel, now()).filter((wake) => !leanClocks || wake.kind !== 'due-soon'),
    onWakeUp,
  });
  await engine.settle();
  if (!isTerminal(state.stage)) {
    // A return to nurture (or a long history) starts a fresh run that carries the lead's whole state.
    await continueAsNew<typeof leadWorkflow>({ ...input, policy, carried: state });
  }
  await archive(finalArchive('lead', state.leadId, state.stage, state));
  return { leadId: state.leadId, stage: state.stage, dealId: state.dealId };
}

/**
 * Built before any handler runs: an update delivered with the first task already sees the entry stage
 * and, for an MQL, its speed-to-lead clock.
 */
function initialState(input: LeadWorkflowInput, at: Date, calendar: BusinessCalendar): LeadState {
  const { policy, profile } = input;
  const band = scoreBand(scoringFor(policy, profile.segment), input.score);
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
    speedToLead: mql ? startSpeedToLead(calendar, at, speedToLeadAllowance(policy, { tier: profile.icpTier, hot: band === 'hot', segment: profile.segment })) : null,
    cadence: null,
    paused: null,
    slaState: 'none',
    escalationLevel: 0,
    nurtureReason: null,
    flags: intakeQualityFlags(profile),
    enteredStageAt: at.toISOString(),
    cycle: 0,
    dealId: null,
    lastEventSeq: 0,
    notificationsSent: 0,
    recentRequests: [],
  };
}
