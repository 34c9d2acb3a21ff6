import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type {
  ContactAttempt,
  ContactOutcome,
  LeadProfile,
  LeadScore,
  LeadStage,
  NurtureReason,
  RejectionReason,
} from '../domain/lead-lifecycle.js';
import type { ContactChannel, Policy } from '../domain/policy.js';
import type { ScoreComponents } from '../domain/scoring.js';

/** Signals, queries and updates of the lead workflow; the API and the tests import these same objects. */

export interface LeadWorkflowInput {
  profile: LeadProfile;
  score: ScoreComponents;
  policy: Policy;
  /** Who brought the lead in (API token's actor, or an integration). */
  actor: string;
}

export interface PendingDeadline {
  kind: 'speed-to-lead';
  label: string;
  dueAt: string;
}

export interface LeadState {
  leadId: string;
  stage: LeadStage;
  profile: LeadProfile;
  ownerId: string | null;
  score: LeadScore;
  policyVersion: string;
  deadlines: PendingDeadline[];
  attempts: ContactAttempt[];
  nurtureReason: NurtureReason | null;
  enteredStageAt: string;
  /** Sequence number of the last audit event; the timeline in Postgres ends at the same number. */
  lastEventSeq: number;
}

export interface LeadResult {
  leadId: string;
  stage: LeadStage;
}

export interface StepActor {
  actor: string;
}

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

export const leadStateQuery = defineQuery<LeadState>('leadState');
export const acceptLeadUpdate = defineUpdate<LeadState, [AcceptLeadInput]>('acceptLead');
export const logContactAttemptUpdate = defineUpdate<LeadState, [ContactAttemptInput]>('logContactAttempt');
export const qualifyLeadUpdate = defineUpdate<LeadState, [QualifyLeadInput]>('qualifyLead');
export const rejectLeadUpdate = defineUpdate<LeadState, [RejectLeadInput]>('rejectLead');

/** The failure type a refused step carries, so callers can tell "not now" from a crash. */
export const STEP_REFUSED = 'StepRefused';
