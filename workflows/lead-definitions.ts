import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { NextStepType, Opportunity } from '../domain/opportunity-hygiene.js';
import type { CadenceClock, HygieneClock, PauseState, SlaBudget, SlaState, SpeedToLeadClock } from '../domain/lead-clocks.js';
import type {
  ContactAttempt,
  ContactOutcome,
  LeadProfile,
  LeadScore,
  LeadStage,
  NurtureReason,
  RejectionReason,
  StageOwnerTeam,
} from '../domain/lead-lifecycle.js';
import type { ContactChannel, Policy } from '../domain/policy.js';
import type { ScoreComponents } from '../domain/scoring.js';
import type { CycleOutcome } from './ui-metadata.js';
import type { AppliedRequest, StepAnswer, StepRequest } from './step-engine.js';

/** Signals, queries and updates of the lead workflow; the API and the tests import these same objects. */

export interface LeadWorkflowInput {
  profile: LeadProfile;
  score: ScoreComponents;
  policy: Policy;
  /** Who brought the lead in (API token's actor, or an integration). */
  actor: string;
  /** Set when a run continues as new: the previous run's state, carried over whole. */
  carried?: LeadState;
}

export interface PendingDeadline {
  kind: string;
  label: string;
  dueAt: string;
}

export interface LeadState {
  leadId: string;
  stage: LeadStage;
  profile: LeadProfile;
  ownerId: string | null;
  queueId: string | null;
  managerId: string | null;
  score: LeadScore;
  policyVersion: string;
  calendarId: string;
  attempts: ContactAttempt[];
  speedToLead: SpeedToLeadClock | null;
  cadence: CadenceClock | null;
  paused: PauseState | null;
  slaState: SlaState;
  /** When the response deadline turns due soon (patch 'lean-clocks'); the API tells due-soon from it (slaStateNow). */
  dueSoonAt?: string | null;
  /** Highest escalation level reached in this SLA episode (0 = none). */
  escalationLevel: number;
  nurtureReason: NurtureReason | null;
  flags: string[];
  enteredStageAt: string;
  /** How many times the lead has come back from nurture; each cycle is one workflow run. */
  cycle: number;
  /** How the latest earlier cycles ended (at most 10), shown in the Temporal UI of the runs after them. */
  pastCycles?: CycleOutcome[];
  dealId: string | null;
  /** The SQL's opportunity (stage, value, next step); absent before qualification and on runs from before it existed. */
  opportunity?: Opportunity | null;
  /** The weekly hygiene check while the lead is an SQL under a policy with `hygiene`. */
  hygiene?: HygieneClock | null;
  /** Sequence number of the last audit event; the timeline in Postgres ends at the same number. */
  lastEventSeq: number;
  /** Numbers each notification, so its idempotency key is unique and stable across retries and replays. */
  notificationsSent: number;
  /** The idempotency keys of the latest steps (step engine), so a retried step applies once across runs. */
  recentRequests?: AppliedRequest[];
}

/** What the query answers: the state plus its pending deadlines, derived rather than stored. */
export interface LeadView extends LeadState {
  deadlines: PendingDeadline[];
  sla: SlaBudget;
  /** The team that owns the stage (marketing in nurture, while `ownerId` keeps the rep); absent from runs before it existed. */
  stageOwner?: StageOwnerTeam | null;
}

export interface LeadResult {
  leadId: string;
  stage: LeadStage;
  dealId: string | null;
}

/** Who sends a step and how to recognise its retries; the API fills it from the caller's token and headers. */
export type StepActor = StepRequest;

export type AcceptLeadInput = StepActor;
export interface ContactAttemptInput extends StepActor {
  channel: ContactChannel;
  outcome: ContactOutcome;
  notes?: string;
}
export interface QualifyLeadInput extends StepActor {
  need: true;
  budget: true;
  timing: true;
  notes?: string;
}
export interface RejectLeadInput extends StepActor {
  reason: RejectionReason;
  notes?: string;
}
export interface EngagementInput extends StepActor {
  behavior?: number;
  intent?: number;
  negative?: number;
  signal?: string;
}
export interface PauseLeadInput extends StepActor {
  until?: string;
  reason: string;
}
export type ResumeLeadInput = StepActor;
export interface ReassignLeadInput extends StepActor {
  toRepId?: string;
  /** Another team's (region's) queue: the lead is routed there, and its clocks move to that team's calendar. */
  toQueueId?: string;
  reason: string;
}
/** The deal a won lead becomes; the rest of the deal's intake comes from the lead. */
export interface WonDeal {
  dealId: string;
  amount: number;
  currency: string;
  signedAt: string;
  closedWonAt?: string;
  accountName?: string;
  csOwnerId?: string;
}

export interface CloseLeadInput extends StepActor {
  outcome: 'won' | 'lost';
  reason?: string;
  /** With outcome `won`: starts the deal's handoff workflow, linked to this lead. */
  deal?: WonDeal;
}

export const leadStateQuery = defineQuery<LeadView>('leadState');
export const acceptLeadUpdate = defineUpdate<StepAnswer<LeadView>, [AcceptLeadInput]>('acceptLead');
export const logContactAttemptUpdate = defineUpdate<StepAnswer<LeadView>, [ContactAttemptInput]>('logContactAttempt');
export const qualifyLeadUpdate = defineUpdate<StepAnswer<LeadView>, [QualifyLeadInput]>('qualifyLead');
export const rejectLeadUpdate = defineUpdate<StepAnswer<LeadView>, [RejectLeadInput]>('rejectLead');
export const recordEngagementUpdate = defineUpdate<StepAnswer<LeadView>, [EngagementInput]>('recordEngagement');
export const pauseLeadUpdate = defineUpdate<StepAnswer<LeadView>, [PauseLeadInput]>('pauseLead');
export const resumeLeadUpdate = defineUpdate<StepAnswer<LeadView>, [ResumeLeadInput]>('resumeLead');
export const reassignLeadUpdate = defineUpdate<StepAnswer<LeadView>, [ReassignLeadInput]>('reassignLead');
export interface MigrateLeadPolicyInput extends StepActor {
  policy: Policy;
  note?: string;
}
export const migrateLeadPolicyUpdate = defineUpdate<StepAnswer<LeadView>, [MigrateLeadPolicyInput]>('migrateLeadPolicy');
export interface NextStepInput extends StepActor {
  dueAt: string;
  type: NextStepType;
}
export interface OpportunityInput extends StepActor {
  stage: string;
  amount: number;
}
export const setNextStepUpdate = defineUpdate<StepAnswer<LeadView>, [NextStepInput]>('setNextStep');
export const updateOpportunityUpdate = defineUpdate<StepAnswer<LeadView>, [OpportunityInput]>('updateOpportunity');
export const closeLeadUpdate = defineUpdate<StepAnswer<LeadView>, [CloseLeadInput]>('closeLead');

export { STEP_REFUSED } from '../domain/failures.js';
