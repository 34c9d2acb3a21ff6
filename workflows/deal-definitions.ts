import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { DealHandoffState, MilestoneClock } from '../domain/deal-clocks.js';
import type { Dossier } from '../domain/deal-dossier.js';
import type { DealStage, IncidentSeverity } from '../domain/deal-lifecycle.js';
import type { Policy } from '../domain/policy.js';
import type { PendingDeadline } from './lead-definitions.js';
import type { AppliedRequest, StepAnswer, StepRequest } from './step-engine.js';

/** Queries and updates of the deal workflow; the API and the tests import these same objects. */

/** A closed-won deal as intake gives it. */
export interface DealIntake {
  dealId: string;
  accountName: string;
  amount: number;
  /** ISO 4217, e.g. 'EUR'. */
  currency: string;
  /** ISO instants. */
  signedAt: string;
  closedWonAt: string;
  salesOwnerId: string;
  /** The lead this deal was won from, when there was one. */
  leadId?: string;
  /** A CS owner chosen at intake; otherwise the workflow draws one from policy.deal.csQueueId. */
  csOwnerId?: string;
}

export interface DealWorkflowInput {
  deal: DealIntake;
  /** The policy snapshot the deal runs under; it must have a `deal` section. */
  policy: Policy;
  /** Who brought the deal in (API token's actor, or an integration such as the lead workflow). */
  actor: string;
  /** Set when a run continues as new (after each repeated QBR): the previous run's state, carried over whole. */
  carried?: DealState;
}

export interface KickoffRecord {
  heldAt: string;
  attendees: string[];
  notes?: string;
  actor: string;
}

export interface QbrRecord {
  number: number;
  heldAt: string;
  healthScore?: number;
  notes?: string;
  actor: string;
}

export interface IncidentRecord {
  /** INC-1, INC-2, ...: numbered by the deal, and the key of its resolution clock among the milestones. */
  incidentId: string;
  severity: IncidentSeverity;
  summary: string;
  openedAt: string;
  openedBy: string;
  /** The resolution deadline, or null for a severity the policy gives no clock. */
  dueAt: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  resolution: string | null;
}

export interface DealState {
  dealId: string;
  stage: DealStage;
  accountName: string;
  amount: number;
  currency: string;
  signedAt: string;
  closedWonAt: string;
  leadId: string | null;
  salesOwnerId: string;
  csOwnerId: string | null;
  /** How the CS owner was chosen: named at intake, or drawn from the CS queue. */
  csOwnerSource: 'intake' | 'queue' | null;
  csQueueId: string;
  handoffState: DealHandoffState;
  policyVersion: string;
  calendarId: string;
  /** Dossier, kickoff, then one per QBR, in the order they were promised. */
  milestones: MilestoneClock[];
  dossier: (Dossier & { deliveredAt: string; actor: string }) | null;
  kickoff: KickoffRecord | null;
  qbrs: QbrRecord[];
  closeOut: { reason: string; actor: string; at: string } | null;
  /** Incidents reported since the win, in the order they were opened; absent on runs from before incidents. */
  incidents?: IncidentRecord[];
  /** Workflow runs so far: 1 plus one per continue-as-new. */
  run: number;
  /** Sequence number of the last audit event; the timeline in Postgres ends at the same number. */
  lastEventSeq: number;
  /** Numbers each notification, so its idempotency key is unique and stable across retries and replays. */
  notificationsSent: number;
  /** The idempotency keys of the latest steps (step engine), so a retried step applies once across runs. */
  recentRequests?: AppliedRequest[];
}

/** What the query answers: the state plus its pending deadlines, derived rather than stored. */
export interface DealView extends DealState {
  deadlines: PendingDeadline[];
}

export interface DealResult {
  dealId: string;
  stage: DealStage;
  milestones: Array<{ milestone: string; dueAt: string; doneAt: string | null; breached: boolean }>;
}

/** Who sends a step and how to recognise its retries; the API fills it from the caller's token and headers. */
export type DealStepActor = StepRequest;

export type DeliverDossierInput = DealStepActor & Dossier;
export interface RecordKickoffInput extends DealStepActor {
  heldAt: string;
  attendees: string[];
  notes?: string;
}
export interface RecordQbrInput extends DealStepActor {
  heldAt: string;
  /** 0..100. */
  healthScore?: number;
  notes?: string;
}
export interface CloseOutDealInput extends DealStepActor {
  reason: string;
}

export const dealStateQuery = defineQuery<DealView>('dealState');
export const deliverDossierUpdate = defineUpdate<StepAnswer<DealView>, [DeliverDossierInput]>('deliverDossier');
export const recordKickoffUpdate = defineUpdate<StepAnswer<DealView>, [RecordKickoffInput]>('recordKickoff');
export const recordQbrUpdate = defineUpdate<StepAnswer<DealView>, [RecordQbrInput]>('recordQbr');
export interface OpenIncidentInput extends DealStepActor {
  severity: IncidentSeverity;
  summary: string;
}
export interface ResolveIncidentInput extends DealStepActor {
  incidentId: string;
  resolution?: string;
}
export const openIncidentUpdate = defineUpdate<StepAnswer<DealView>, [OpenIncidentInput]>('openIncident');
export const resolveIncidentUpdate = defineUpdate<StepAnswer<DealView>, [ResolveIncidentInput]>('resolveIncident');
export const closeOutDealUpdate = defineUpdate<StepAnswer<DealView>, [CloseOutDealInput]>('closeOutDeal');
