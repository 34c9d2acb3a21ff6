import type { ContactChannel, IcpTier, Policy } from './policy.js';
import { returnsFromNurture, type BandedScore, type ScoreBand, type ScoreComponents } from './scoring.js';

/** The rules of a lead's stages: which step is allowed when, and why not. Pure, so workflows and tests share them. */

export const leadStages = ['LEAD', 'MQL', 'SAL', 'SQL', 'NURTURE', 'WON', 'LOST'] as const;
export type LeadStage = (typeof leadStages)[number];

export const rejectionReasons = ['wrong-icp', 'no-budget', 'too-early', 'wrong-contact'] as const;
export type RejectionReason = (typeof rejectionReasons)[number];
/** Reasons the system itself gives when it returns a lead to marketing. */
export type NurtureReason = RejectionReason | 'unresponsive' | 'sla-expired' | 'cold-score';

export const contactOutcomes = ['no-answer', 'left-voicemail', 'replied', 'connected', 'bounced', 'not-interested'] as const;
export type ContactOutcome = (typeof contactOutcomes)[number];

export interface LeadProfile {
  leadId: string;
  email: string;
  company: string;
  icpTier: IcpTier;
  segment?: string;
  country?: string;
  region?: string;
  product?: string;
  /** Specialist skills the lead needs; routing rules can send it to a specialist queue. */
  skills?: string[];
  source?: string;
}

export interface ContactAttempt {
  number: number;
  channel: ContactChannel;
  outcome: ContactOutcome;
  at: string;
  actor: string;
  notes?: string;
}

export interface LeadScore extends ScoreComponents {
  total: number;
  band: ScoreBand;
}

export type LeadStep =
  | 'accept'
  | 'contact-attempt'
  | 'qualify'
  | 'reject'
  | 'engagement'
  | 'pause'
  | 'resume'
  | 'reassign'
  | 'close'
  | 'migrate-policy'
  | 'next-step'
  | 'opportunity';

const stepAllowedIn: Record<LeadStep, readonly LeadStage[]> = {
  accept: ['MQL'],
  'contact-attempt': ['SAL'],
  qualify: ['SAL'],
  reject: ['MQL', 'SAL'],
  engagement: ['LEAD', 'MQL', 'SAL', 'NURTURE'],
  pause: ['MQL', 'SAL'],
  resume: ['MQL', 'SAL'],
  reassign: ['MQL', 'SAL', 'SQL'],
  close: ['SQL'],
  'next-step': ['SQL'],
  opportunity: ['SQL'],
  'migrate-policy': ['LEAD', 'MQL', 'SAL', 'SQL', 'NURTURE'],
};

const stepDescription: Record<LeadStep, string> = {
  accept: 'accept',
  'contact-attempt': 'log a contact attempt on',
  qualify: 'qualify',
  reject: 'reject',
  engagement: 'record engagement on',
  pause: 'pause',
  resume: 'resume',
  reassign: 'reassign',
  close: 'close',
  'migrate-policy': 'migrate the policy of',
  'next-step': 'set the next step of',
  opportunity: 'update the opportunity of',
};

/** Why `step` cannot happen in `stage`, or null when it can. */
export function stepRefusal(step: LeadStep, stage: LeadStage): string | null {
  const allowed = stepAllowedIn[step];
  if (allowed.includes(stage)) return null;
  return `cannot ${stepDescription[step]} a lead in stage ${stage}; allowed in ${allowed.join(', ')}`;
}

/** Which team answers for a lead in each stage (seed 001): sales from acceptance until the close, marketing before and in nurture. */
export type StageOwnerTeam = 'marketing' | 'sales';

const stageOwnerTeams: Record<LeadStage, StageOwnerTeam | null> = {
  LEAD: 'marketing',
  MQL: 'marketing',
  SAL: 'sales',
  SQL: 'sales',
  NURTURE: 'marketing',
  WON: null,
  LOST: null,
};

/**
 * The team that owns the stage. A lead returned to marketing keeps its rep as `ownerId` (the relationship, and
 * whom it returns to when it re-engages) while marketing owns the nurture.
 */
export function stageOwnerTeam(stage: LeadStage): StageOwnerTeam | null {
  return stageOwnerTeams[stage];
}

export function isTerminal(stage: LeadStage): boolean {
  return stage === 'WON' || stage === 'LOST';
}

/** Who asks for a step: the caller's actor and role (absent for steps the system itself takes). */
export interface StepCaller {
  actor: string;
  role?: 'sales' | 'cs' | 'ops' | 'manager';
}

/**
 * Why `caller` may not take `step` on this lead, or null when they may. A sales rep acts only on the leads
 * they own; ops and managers act on any lead (which routes admit them is the API's rule).
 */
export function leadStepForbidden(step: LeadStep, lead: { leadId: string; ownerId: string | null }, caller: StepCaller): string | null {
  if (caller.role !== 'sales' || lead.ownerId === caller.actor) return null;
  const owner = lead.ownerId ? `is owned by ${lead.ownerId}` : 'has no owner yet';
  return `lead ${lead.leadId} ${owner}; ${caller.actor} may not ${stepDescription[step]} it (ask its owner, a manager or ops)`;
}

/** What an engagement that moved the score from `before` to `after` does to a lead in `stage`. */
export type EngagementMove = 'become-mql' | 'return-cold' | null;

/**
 * A lead crossing the MQL threshold becomes an MQL; a nurtured one returns under the policy's nurture-return rule;
 * an MQL whose score falls back to cold returns to nurture. The lead workflow and the policy simulator both ask here.
 */
export function engagementMove(stage: LeadStage, before: BandedScore, after: BandedScore, nurtureReturn: Policy['scoring']['nurtureReturn'] | undefined): EngagementMove {
  const crossedUp = before.band === 'cold' && after.band !== 'cold';
  if ((crossedUp && stage === 'LEAD') || (stage === 'NURTURE' && returnsFromNurture(nurtureReturn, before, after))) return 'become-mql';
  if (after.band === 'cold' && stage === 'MQL') return 'return-cold';
  return null;
}
