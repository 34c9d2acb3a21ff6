import { ApplicationFailure, continueAsNew, patched, proxyActivities, proxyLocalActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { DealAuditEvent } from '../activities/deal-audit.js';
import type { Activities } from '../activities/index.js';
import type { BusinessCalendar } from '../domain/business-time.js';
import { stakeholderBriefs } from '../domain/deal-briefs.js';
import {
  advanceEscalation,
  breachMilestone,
  completeMilestone,
  dossierMilestone,
  handoffStateOf,
  incidentMilestone,
  isIncidentClock,
  isOpen,
  kickoffMilestone,
  milestoneRecord,
  pendingDealWakeUps,
  qbrMilestone,
  type DealWakeUp,
  type MilestoneClock,
  type MilestoneRecord,
} from '../domain/deal-clocks.js';
import { dossierGaps, type Dossier } from '../domain/deal-dossier.js';
import { dealStageOf, dealStepForbidden, dealStepRefusal, isTerminalDealStage, type DealStep } from '../domain/deal-lifecycle.js';
import { STEP_FORBIDDEN } from '../domain/failures.js';
import type { DealPolicy } from '../domain/policy.js';
import { NO_AVAILABLE_REP } from '../domain/routing.js';
import {
  closeOutDealUpdate,
  dealStateQuery,
  deliverDossierUpdate,
  openIncidentUpdate,
  resolveIncidentUpdate,
  recordKickoffUpdate,
  recordQbrUpdate,
  type DealResult,
  type DealState,
  type DealStepActor,
  type DealView,
  type DealWorkflowInput,
} from './deal-definitions.js';
import { DealSearchAttributes } from './deal-search-attributes.js';
import { dealWorkflowV1 } from './legacy/deal-workflow-v1.js';
import { CURRENT_ENGINE, ENGINE_2026_12, finalArchive, ONE_TASK_NOTIFY_LOCAL_OPTIONS, ONE_TASK_STEP, NOTIFY_WITH_AUDIT_WITHIN_MS, ONE_TASK_STEP_LOCAL_OPTIONS, refuse, StepEngine, withoutLedger, type StepAnswer } from './step-engine.js';
import { activityApplicationFailure, localFirst } from './workflow-runtime.js';
import { auditSummary, auditThenNotify, notificationSenders, showDealDetails, summarised } from './ui-metadata.js';

// The CS-owner draw, manager look-ups and the archive are idempotent and must never be lost: they retry until the database answers.
const { assignDealCsOwner, lookupDealManagers, archiveWorkflow } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 seconds' },
});

// The audit retries until the database answers, except for what no retry can fix (AuditRejected), which the step engine handles.
// Steps wait on it, so retries stay at most 5 s apart: after an outage a waiting step resumes within 5 s.
const { recordDealEvents } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 seconds', nonRetryableErrorTypes: ['AuditRejected'] },
});

// The same writes inside the workflow task that carries the step (see localFirst): one task per step.
const local = proxyLocalActivities<Activities>(ONE_TASK_STEP_LOCAL_OPTIONS);
const notifyLocally = proxyLocalActivities<Activities>(ONE_TASK_NOTIFY_LOCAL_OPTIONS);

// A notification that cannot be delivered within the hour is recorded as failed rather than holding up the handoff.
const { notify, notifyAll } = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/** A deal input no retry can fix: the workflow fails instead of retrying its first task forever. */
const INVALID_DEAL_INPUT = 'InvalidDealInput';
/** A meeting reported from a clock slightly ahead of the workflow's is not "in the future". */
const CLOCK_SKEW_MS = 60_000;

/**
 * One closed-won deal from the win to its first QBR (or, with repeating QBRs, to its close-out). Nothing is
 * applied before intake and the CS-owner draw are recorded; steps and timers run one at a time in arrival
 * order, each re-checked against the stage and the owner on its turn; a step answers once its audit rows and
 * milestones are committed; a missed milestone escalates to the owner and then the manager.
 */
export async function dealWorkflow(input: DealWorkflowInput): Promise<DealResult> {
  // Runs started on the current engine take every change below without a check of their own; runs started on
  // the one before it take all but the notifications carried by the audit commit.
  const notifiesWithAudit = patched(CURRENT_ENGINE);
  const current = notifiesWithAudit || patched(ENGINE_2026_12);
  // Runs started before the step engine keep the code they started with, so their histories replay.
  if (!current && !patched('step-engine')) return dealWorkflowV1(input);
  // Runs started before steps took one workflow task keep writing through activities, so their histories replay.
  const oneTaskStep = current || patched(ONE_TASK_STEP);
  const writeAudit = oneTaskStep
    ? localFirst(summarised(local.recordDealEvents, auditSummary), summarised(recordDealEvents, auditSummary))
    : summarised(recordDealEvents, auditSummary);
  const drawCsOwner = oneTaskStep ? localFirst(local.assignDealCsOwner, assignDealCsOwner) : assignDealCsOwner;
  const managersOf = oneTaskStep ? localFirst(local.lookupDealManagers, lookupDealManagers) : lookupDealManagers;
  const archive = oneTaskStep ? localFirst(local.archiveWorkflow, archiveWorkflow) : archiveWorkflow;

  const { policy } = input;
  if (!policy.deal) throw ApplicationFailure.nonRetryable(`policy ${policy.version} has no deal section`, INVALID_DEAL_INPUT);
  const dealPolicy: DealPolicy = policy.deal;
  const calendar = policy.calendars[policy.defaultCalendarId]!;
  const levels = dealPolicy.escalation.levels;
  const workflowId = workflowInfo().workflowId;
  const now = () => new Date(); // the workflow sandbox makes Date deterministic: it is the current task's time

  const state: DealState = input.carried ?? initialState(input, dealPolicy, calendar);
  const searchAttributes = new DealSearchAttributes(oneTaskStep ? workflowInfo().typedSearchAttributes : undefined);
  /** With repeating QBRs each held QBR ends the run: the next one starts fresh, so history stays bounded. */
  let qbrHeldThisRun = false;
  const deal = `${state.accountName} (${state.dealId})`;
  /** The milestones each staged event changed, by sequence number, written with that event. */
  const milestonesOf = new Map<number, MilestoneRecord[]>();

  const engine = new StepEngine<DealState, DealAuditEvent>({
    workflowId,
    state,
    now,
    toAuditEvent: (event) => {
      syncDerived(); // the projection written with the event shows the deal as the step left it
      const milestones = milestonesOf.get(event.seq) ?? [];
      milestonesOf.delete(event.seq);
      return {
        workflowId,
        dealId: state.dealId,
        seq: event.seq,
        stepKey: `${event.seq}-${event.type}`,
        type: event.type,
        at: event.at,
        actor: event.actor,
        payload: event.payload,
        projection: {
          accountName: state.accountName,
          amount: state.amount,
          currency: state.currency,
          salesOwnerId: state.salesOwnerId,
          csOwnerId: state.csOwnerId,
          leadId: state.leadId,
          stage: state.stage,
          handoffState: state.handoffState,
          policyVersion: state.policyVersion,
          signedAt: state.signedAt,
          closedWonAt: state.closedWonAt,
        },
        milestones,
      };
    },
    writeAudit,
    ...notificationSenders(oneTaskStep, { notify, notifyAll, notifyAllLocally: notifyLocally.notifyAll }),
    ...(notifiesWithAudit
      ? { writeAuditAndNotify: auditThenNotify(local.recordDealEventsAndNotify, summarised(recordDealEvents, auditSummary), NOTIFY_WITH_AUDIT_WITHIN_MS) }
      : {}),
    notificationDetails: () => ({ dealId: state.dealId, accountName: state.accountName, stage: state.stage }),
    afterChange: refresh,
    keepEarlierTimer: oneTaskStep,
    skipStepWakeUps: notifiesWithAudit,
    locals: {
      capture: () => qbrHeldThisRun,
      restore: (saved) => {
        qbrHeldThisRun = saved as boolean;
        milestonesOf.clear();
      },
    },
  });

  function audit(type: string, actor: string, payload: Record<string, unknown>, milestones: MilestoneClock[] = []): void {
    const seq = engine.record(type, actor, payload);
    if (milestones.length > 0) milestonesOf.set(seq, milestones.map(milestoneRecord));
  }

  // ---- milestones ------------------------------------------------------------------------------------

  function milestone(key: string): MilestoneClock {
    const found = state.milestones.find((clock) => clock.key === key);
    if (!found) throw ApplicationFailure.nonRetryable(`deal ${state.dealId} has no milestone ${key}`, INVALID_DEAL_INPUT);
    return found;
  }

  function replace(updated: MilestoneClock): MilestoneClock {
    state.milestones = state.milestones.map((clock) => (clock.key === updated.key ? updated : clock));
    return updated;
  }

  function ownerOf(clock: MilestoneClock): string | null {
    return clock.owner === 'sales' ? state.salesOwnerId : state.csOwnerId;
  }

  /** The QBR that comes next: one per QBR held so far, plus one. */
  const openQbrKey = () => `qbr-${state.qbrs.length + 1}`;

  /** Stage and handoff state follow from what is done; terminal stages are set by the step that ends the deal. */
  function syncDerived(): void {
    if (!isTerminalDealStage(state.stage)) {
      state.stage = dealStageOf({ dossierDone: state.dossier !== null, kickoffDone: state.kickoff !== null, qbrsHeld: state.qbrs.length });
    }
    state.handoffState = handoffStateOf(state.milestones);
  }

  function refresh(): void {
    syncDerived();
    const next = wakeUps().find((wake) => wake.kind !== 'reminder');
    searchAttributes.apply({
      stage: state.stage,
      salesOwnerId: state.salesOwnerId,
      csOwnerId: state.csOwnerId,
      handoffState: state.handoffState,
      policyVersion: state.policyVersion,
      nextDeadline: next ? new Date(next.at) : null,
    });
    showDealDetails(state, next);
  }

  // Once the handoff is over only open incidents still wait for anything.
  const wakeUps = (): DealWakeUp[] =>
    pendingDealWakeUps(isTerminalDealStage(state.stage) ? state.milestones.filter(isIncidentClock) : state.milestones, levels);
  const openIncident = (incidentId: string) => (state.incidents ?? []).find((incident) => incident.incidentId === incidentId && incident.resolvedAt === null);
  const incidentsOpen = () => (state.incidents ?? []).some((incident) => incident.resolvedAt === null);

  function view(): DealView {
    return { ...withoutLedger(state), deadlines: wakeUps().map((wake) => ({ kind: wake.kind, label: wake.label, dueAt: wake.at })) };
  }

  // ---- CS owner ----------------------------------------------------------------------------------------

  /** Draws the CS owner from the policy's CS queue (out-of-office and inactive reps skipped). */
  async function assignCsOwner(): Promise<void> {
    try {
      const assignment = await drawCsOwner({
        idempotencyKey: `${workflowId}:assign-cs-owner`,
        dealId: state.dealId,
        csQueueId: dealPolicy.csQueueId,
        at: now().toISOString(),
      });
      state.csOwnerId = assignment.repId;
      state.csOwnerSource = 'queue';
      audit('cs-owner-assigned', 'system', { csOwnerId: assignment.repId, queueId: assignment.queueId, reason: assignment.reason, source: 'queue' });
      announceCsOwner();
    } catch (error) {
      const refusal = activityApplicationFailure(error);
      if (refusal?.type === NO_AVAILABLE_REP) {
        audit('cs-routing-failed', 'system', { queueId: dealPolicy.csQueueId, reason: refusal.message });
        engine.notify('deal.cs-unassigned', [], `Closed-won ${deal} has no CS owner: ${refusal.message}`, { queueId: dealPolicy.csQueueId });
        return;
      }
      throw error;
    }
  }

  function announceCsOwner(): void {
    const kickoff = milestone('kickoff');
    engine.notify('deal.cs-assigned', [state.csOwnerId], `You own the onboarding of ${deal}, ${state.amount} ${state.currency}: kickoff due by ${kickoff.due.at}`, {
      kickoffDueAt: kickoff.due.at,
      salesOwnerId: state.salesOwnerId,
    });
  }

  // ---- timers ----------------------------------------------------------------------------------------

  async function onWakeUp(wake: DealWakeUp): Promise<void> {
    const clock = milestone(wake.milestone);
    const answersTo = { milestone: clock.key, dueAt: clock.due.at };
    switch (wake.kind) {
      case 'reminder': {
        replace({ ...clock, reminded: true });
        audit('milestone-reminder', 'system', { ...answersTo, ownerId: ownerOf(clock) });
        engine.notify(`deal.${clock.kind}-due-soon`, [ownerOf(clock)], `${clock.label} for ${deal} is due by ${clock.due.at}`, answersTo);
        return;
      }
      case 'due': {
        const breached = replace(breachMilestone(calendar, clock, levels));
        audit('milestone-breached', 'system', { ...answersTo, rule: clock.rule, ownerId: ownerOf(clock) }, [breached]);
        return;
      }
      case 'escalation':
        return escalate(clock);
    }
  }

  async function escalate(clock: MilestoneClock): Promise<void> {
    const levelIndex = clock.nextLevel;
    const level = levels[levelIndex]!;
    replace(advanceEscalation(calendar, clock, levels, now()));
    const answersTo = { milestone: clock.key, dueAt: clock.due.at };
    const ownerId = ownerOf(clock);
    if (level.action === 'remind-owner') {
      audit('escalated', 'system', { level: levelIndex + 1, action: level.action, ...answersTo, ownerId });
      engine.notify(`deal.${clock.kind}-overdue`, [ownerId], `Overdue: ${clock.label} for ${deal} was due ${clock.due.at}`, answersTo);
      return;
    }
    const managers = await managersOf({ salesOwnerId: state.salesOwnerId, csQueueId: state.csQueueId });
    const managerId = clock.owner === 'sales' ? managers.salesManagerId : managers.csManagerId;
    audit('escalated', 'system', { level: levelIndex + 1, action: level.action, ...answersTo, ownerId, managerId });
    engine.notify(`deal.${clock.kind}-manager-alert`, [managerId], `${clock.label} for ${deal} missed its deadline ${clock.due.at} (owner ${ownerId ?? 'none'})`, {
      ...answersTo,
      ownerId,
    });
  }

  // ---- steps from people (updates: validated before they reach history, re-checked on their turn) --------

  function heldAtProblem(heldAt: string): string | null {
    const at = Date.parse(heldAt);
    if (Number.isNaN(at)) return `heldAt "${heldAt}" is not an ISO instant`;
    if (at > now().getTime() + CLOCK_SKEW_MS) return `heldAt ${heldAt} is in the future; record a meeting once it has been held`;
    return null;
  }

  /** A reported meeting time, never later than now (a clock slightly ahead of ours is not the future). */
  const heldInstant = (heldAt: string): Date => new Date(Math.min(Date.parse(heldAt), now().getTime()));

  /** Registers one step: checked in the validator once the deal is settled, and again when the step's turn comes. */
  function onStep<Input extends DealStepActor>(
    update: UpdateDefinition<StepAnswer<DealView>, [Input]>,
    step: DealStep,
    apply: (input: Input) => void,
    extra?: (input: Input) => string | null,
  ): void {
    const rules = (input: Input) => (settled: boolean) => {
      const facts = { stage: state.stage, dossierDone: state.dossier !== null, kickoffDone: state.kickoff !== null, qbrsHeld: state.qbrs.length };
      refuse(dealStepRefusal(step, facts));
      if (settled) refuse(dealStepForbidden(step, state, input), STEP_FORBIDDEN);
      refuse(extra?.(input) ?? null);
    };
    setHandler(update, (input: Input) => engine.step(input, rules(input), () => apply(input), view), {
      validator: (input: Input) => engine.checkInValidator(input, rules(input)),
    });
  }

  // Intake takes the engine's gate before any handler is registered: steps delivered with the first task wait behind it.
  const intake = engine.initialize(async () => {
    if (input.carried) return;
    audit('received', input.actor, { deal: input.deal, policyVersion: state.policyVersion }, state.milestones);
    const dossier = milestone('dossier');
    engine.notify('deal.dossier-requested', [state.salesOwnerId], `Closed-won ${deal}: send CS the handoff dossier by ${dossier.due.at}`, { dueAt: dossier.due.at });
    if (state.csOwnerId !== null) {
      audit('cs-owner-assigned', input.actor, { csOwnerId: state.csOwnerId, source: 'intake' });
      announceCsOwner();
    } else {
      await assignCsOwner();
    }
  });

  setHandler(dealStateQuery, view);

  onStep(
    deliverDossierUpdate,
    'dossier',
    ({ actor, businessGoals, scope, kpis, stakeholders, risks }) => {
      const at = now();
      const dossier: Dossier = { businessGoals, scope, kpis, stakeholders, risks };
      state.dossier = { ...dossier, deliveredAt: at.toISOString(), actor };
      const done = replace(completeMilestone(calendar, milestone('dossier'), at, actor, at));
      audit('dossier-delivered', actor, { dossier, breached: done.breached, businessMinutesLate: done.businessMinutesLate }, [done]);

      engine.notify(
        'deal.dossier-received',
        [state.csOwnerId],
        `Handoff dossier for ${deal}: ${businessGoals.length} goal(s), ${kpis.length} KPI(s), ${stakeholders.length} stakeholder(s)`,
        { dossier, salesOwnerId: state.salesOwnerId },
      );
      const kickoff = milestone('kickoff');
      const briefs = stakeholderBriefs(state, dossier, {
        kickoffDueAt: kickoff.due.at,
        kickoffHeldAt: state.kickoff?.heldAt ?? null,
        firstQbrDueAt: state.milestones.find((clock) => clock.key === 'qbr-1')?.due.at ?? null,
      });
      for (const brief of briefs) {
        engine.notify('deal.stakeholder-brief', [state.csOwnerId], `For the ${brief.role} (${brief.focus}): ${brief.headline}`, { ...brief });
      }
    },
    ({ businessGoals, scope, kpis, stakeholders, risks }) => {
      const gaps = dossierGaps({ businessGoals, scope, kpis, stakeholders, risks });
      return gaps.length > 0 ? `the dossier is incomplete: ${gaps.join('; ')}` : null;
    },
  );

  onStep(
    recordKickoffUpdate,
    'kickoff',
    ({ actor, heldAt, attendees, notes }) => {
      const held = heldInstant(heldAt);
      state.kickoff = { heldAt: held.toISOString(), attendees, notes, actor };
      const done = replace(completeMilestone(calendar, milestone('kickoff'), held, actor, now()));
      audit('kickoff-held', actor, { heldAt: held.toISOString(), attendees, notes, breached: done.breached, businessMinutesLate: done.businessMinutesLate }, [done]);
    },
    ({ heldAt, attendees }) => heldAtProblem(heldAt) ?? (attendees.length === 0 ? 'a kickoff needs at least one attendee' : null),
  );

  onStep(
    recordQbrUpdate,
    'qbr',
    ({ actor, heldAt, healthScore, notes }) => {
      const held = heldInstant(heldAt);
      const number = state.qbrs.length + 1;
      const done = replace(completeMilestone(calendar, milestone(openQbrKey()), held, actor, now()));
      state.qbrs.push({ number, heldAt: held.toISOString(), healthScore, notes, actor });
      audit('qbr-held', actor, { number, heldAt: held.toISOString(), healthScore, notes, breached: done.breached, businessMinutesLate: done.businessMinutesLate }, [done]);
      if (!dealPolicy.repeatQbr) {
        state.stage = 'COMPLETED';
        audit('completed', 'system', { milestones: state.milestones.map(milestoneRecord) });
        return;
      }
      const next = qbrMilestone(dealPolicy, calendar, number + 1, held);
      state.milestones.push(next);
      qbrHeldThisRun = true;
      audit('qbr-scheduled', 'system', { milestone: next.key, dueAt: next.due.at, rule: next.rule }, [next]);
      engine.notify('deal.qbr-scheduled', [state.csOwnerId], `${next.label} for ${deal} is due by ${next.due.at}`, { milestone: next.key, dueAt: next.due.at });
    },
    ({ heldAt, healthScore }) => {
      if (healthScore !== undefined && !(healthScore >= 0 && healthScore <= 100)) return 'healthScore must be between 0 and 100';
      return heldAtProblem(heldAt);
    },
  );

  onStep(
    closeOutDealUpdate,
    'close-out',
    ({ actor, reason }) => {
      const open = state.milestones.filter((clock) => clock.doneAt === null).map((clock) => clock.key);
      state.closeOut = { reason, actor, at: now().toISOString() };
      state.stage = 'CLOSED_OUT';
      audit('closed-out', actor, { reason, openMilestones: open });
    },
    ({ reason }) => (reason.trim().length === 0 ? 'a close-out needs a reason' : null),
  );

  onStep(
    openIncidentUpdate,
    'incident',
    ({ actor, severity, summary }) => {
      const incidents = (state.incidents ??= []);
      const incidentId = `INC-${incidents.length + 1}`;
      const openedAt = now();
      const clock = incidentMilestone(dealPolicy, calendar, { incidentId, severity, openedAt });
      if (clock) state.milestones.push(clock);
      const dueAt = clock?.due.at ?? null;
      incidents.push({ incidentId, severity, summary, openedAt: openedAt.toISOString(), openedBy: actor, dueAt, resolvedAt: null, resolvedBy: null, resolution: null });
      audit('incident-opened', actor, { incidentId, severity, summary, dueAt, rule: clock?.rule ?? null }, clock ? [clock] : []);
      engine.notify('deal.incident-opened', [state.csOwnerId], `${severity} incident ${incidentId} on ${deal}: ${summary}${dueAt ? ` (resolve by ${dueAt})` : ''}`, {
        incidentId,
        severity,
        dueAt,
      });
    },
    () => (dealPolicy.incidents ? null : `policy ${policy.version} has no incident rules (deal.incidents), so this deal takes no incidents`),
  );

  onStep(
    resolveIncidentUpdate,
    'resolve-incident',
    ({ actor, incidentId, resolution }) => {
      const incident = openIncident(incidentId)!;
      const at = now();
      incident.resolvedAt = at.toISOString();
      incident.resolvedBy = actor;
      incident.resolution = resolution ?? null;
      const clock = state.milestones.find((candidate) => candidate.key === incidentId && isIncidentClock(candidate));
      const done = clock && isOpen(clock) ? replace(completeMilestone(calendar, clock, at, actor, at)) : null;
      audit('incident-resolved', actor, { incidentId, severity: incident.severity, resolution: incident.resolution, breached: done?.breached ?? false, businessMinutesLate: done?.businessMinutesLate ?? null }, done ? [done] : []);
    },
    ({ incidentId }) => {
      if (openIncident(incidentId)) return null;
      return (state.incidents ?? []).some((incident) => incident.incidentId === incidentId) ? `incident ${incidentId} is already resolved` : `deal ${state.dealId} has no incident ${incidentId}`;
    },
  );

  // ---- the run ---------------------------------------------------------------------------------------

  await intake;
  // A handoff that ends with an incident still open keeps running until it is resolved (or its clock escalates).
  const running = () => (!isTerminalDealStage(state.stage) || incidentsOpen()) && !qbrHeldThisRun;

  await engine.runClocks({ running, pending: wakeUps, onWakeUp });
  await engine.settle();
  if (!isTerminalDealStage(state.stage)) {
    // After a repeated QBR (or a long history) a fresh run carries the deal's whole state.
    await continueAsNew<typeof dealWorkflow>({ ...input, carried: { ...state, run: state.run + 1 } });
  }
  await archive(finalArchive('deal', state.dealId, state.stage, state));
  return {
    dealId: state.dealId,
    stage: state.stage,
    milestones: state.milestones.map(({ key, due, doneAt, breached }) => ({ milestone: key, dueAt: due.at, doneAt, breached })),
  };
}

/**
 * Built before any handler runs: an update delivered with the first task already sees the milestones.
 * QBR 1 is promised from the start; later QBRs are added as each one is held.
 */
function initialState(input: DealWorkflowInput, dealPolicy: DealPolicy, calendar: BusinessCalendar): DealState {
  const { deal, policy } = input;
  const signedAt = new Date(deal.signedAt);
  const closedWonAt = new Date(deal.closedWonAt);
  if (Number.isNaN(signedAt.getTime()) || Number.isNaN(closedWonAt.getTime())) {
    throw ApplicationFailure.nonRetryable(`deal ${deal.dealId}: signedAt and closedWonAt must be ISO instants`, INVALID_DEAL_INPUT);
  }
  const milestones = [
    dossierMilestone(dealPolicy, calendar, closedWonAt),
    kickoffMilestone(dealPolicy, calendar, signedAt),
    qbrMilestone(dealPolicy, calendar, 1, signedAt),
  ];
  return {
    dealId: deal.dealId,
    stage: 'AWAITING_DOSSIER',
    accountName: deal.accountName,
    amount: deal.amount,
    currency: deal.currency,
    signedAt: signedAt.toISOString(),
    closedWonAt: closedWonAt.toISOString(),
    leadId: deal.leadId ?? null,
    salesOwnerId: deal.salesOwnerId,
    csOwnerId: deal.csOwnerId ?? null,
    csOwnerSource: deal.csOwnerId ? 'intake' : null,
    csQueueId: dealPolicy.csQueueId,
    handoffState: handoffStateOf(milestones),
    policyVersion: policy.version,
    calendarId: policy.defaultCalendarId,
    milestones,
    dossier: null,
    kickoff: null,
    qbrs: [],
    closeOut: null,
    run: 1,
    lastEventSeq: 0,
    notificationsSent: 0,
    recentRequests: [],
  };
}
