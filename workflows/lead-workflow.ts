import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { LeadAuditEvent } from '../activities/lead-audit.js';
import { addDuration } from '../domain/business-time.js';
import { isTerminal, stepRefusal, type LeadStage, type LeadStep } from '../domain/lead-lifecycle.js';
import { speedToLeadDeadline } from '../domain/policy.js';
import { scoreBand, totalScore } from '../domain/scoring.js';
import {
  acceptLeadUpdate,
  leadStateQuery,
  logContactAttemptUpdate,
  qualifyLeadUpdate,
  rejectLeadUpdate,
  STEP_REFUSED,
  type AcceptLeadInput,
  type ContactAttemptInput,
  type LeadResult,
  type LeadState,
  type LeadWorkflowInput,
  type QualifyLeadInput,
  type RejectLeadInput,
} from './lead-definitions.js';
import { LeadStageKey, LeadTierKey, PolicyVersionKey } from './search-attributes.js';

// Audit writes are idempotent and must never be lost, so they retry until the database answers.
const { recordLeadEvent } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** One lead from intake to close: every step validated against its stage, every change in the audit trail. */
export async function leadWorkflow(input: LeadWorkflowInput): Promise<LeadResult> {
  const { policy, profile } = input;
  const workflowId = workflowInfo().workflowId;
  const now = () => new Date(); // the workflow sandbox makes Date deterministic: it is the task's time
  const calendar = policy.calendars[policy.defaultCalendarId]!;

  const score = { ...input.score, total: totalScore(input.score), band: scoreBand(policy.scoring, input.score) };
  const state: LeadState = {
    leadId: profile.leadId,
    stage: score.band === 'cold' ? 'LEAD' : 'MQL',
    profile,
    ownerId: null,
    score,
    policyVersion: policy.version,
    deadlines: [],
    attempts: [],
    nurtureReason: null,
    enteredStageAt: now().toISOString(),
    lastEventSeq: 0,
  };

  function refuseUnlessAllowed(step: LeadStep): void {
    const refusal = stepRefusal(step, state.stage);
    if (refusal) throw ApplicationFailure.nonRetryable(refusal, STEP_REFUSED);
  }

  function enterStage(stage: LeadStage): void {
    state.stage = stage;
    state.enteredStageAt = now().toISOString();
    if (stage === 'MQL') {
      const due = addDuration(calendar, now(), speedToLeadDeadline(policy, profile.icpTier, score.band === 'hot'));
      state.deadlines = [{ kind: 'speed-to-lead', label: `Tier ${profile.icpTier} response deadline`, dueAt: due.toISOString() }];
    } else if (stage !== 'SAL') {
      state.deadlines = [];
    }
    upsertSearchAttributes([{ key: LeadStageKey, value: stage }]);
  }

  /** Assigns the event its sequence number now, so concurrent steps keep their order in the audit. */
  function record(type: string, actor: string, payload: Record<string, unknown>): Promise<void> {
    const seq = ++state.lastEventSeq;
    const event: LeadAuditEvent = {
      workflowId,
      leadId: profile.leadId,
      seq,
      stepKey: `${seq}-${type}`,
      type,
      at: now().toISOString(),
      actor,
      payload,
      projection: {
        email: profile.email,
        company: profile.company,
        icpTier: profile.icpTier,
        stage: state.stage,
        ownerId: state.ownerId,
        score: state.score.total,
        policyVersion: state.policyVersion,
      },
    };
    return recordLeadEvent(event);
  }

  setHandler(leadStateQuery, () => state);

  setHandler(
    acceptLeadUpdate,
    async ({ actor }) => {
      const from = state.stage;
      enterStage('SAL');
      if (policy.speedToLead.metBy === 'acceptance') state.deadlines = [];
      await record('accepted', actor, { from, to: 'SAL' });
      return state;
    },
    { validator: (_input: AcceptLeadInput) => refuseUnlessAllowed('accept') },
  );

  setHandler(
    logContactAttemptUpdate,
    async ({ actor, channel, outcome, notes }) => {
      const attempt = { number: state.attempts.length + 1, channel, outcome, at: now().toISOString(), actor, notes };
      state.attempts.push(attempt);
      state.deadlines = state.deadlines.filter((deadline) => deadline.kind !== 'speed-to-lead');
      await record('contact-attempted', actor, { ...attempt });
      return state;
    },
    { validator: (_input: ContactAttemptInput) => refuseUnlessAllowed('contact-attempt') },
  );

  setHandler(
    qualifyLeadUpdate,
    async ({ actor, need, budget, timing, notes }) => {
      const from = state.stage;
      enterStage('SQL');
      await record('qualified', actor, { from, to: 'SQL', need, budget, timing, notes });
      return state;
    },
    { validator: (_input: QualifyLeadInput) => refuseUnlessAllowed('qualify') },
  );

  setHandler(
    rejectLeadUpdate,
    async ({ actor, reason, notes }) => {
      const from = state.stage;
      state.nurtureReason = reason;
      enterStage('NURTURE');
      await record('rejected', actor, { from, to: 'NURTURE', reason, notes });
      return state;
    },
    { validator: (_input: RejectLeadInput) => refuseUnlessAllowed('reject') },
  );

  upsertSearchAttributes([
    { key: LeadTierKey, value: profile.icpTier },
    { key: PolicyVersionKey, value: policy.version },
  ]);
  enterStage(state.stage);
  await record('received', input.actor, { stage: state.stage, score: state.score, profile });

  await condition(() => isTerminal(state.stage));
  await condition(allHandlersFinished);
  return { leadId: profile.leadId, stage: state.stage };
}
