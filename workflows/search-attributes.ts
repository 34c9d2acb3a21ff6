import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Search attributes ops filter on in the Temporal UI and CLI; the worker registers them on start. */
export const LeadStageKey = defineSearchAttributeKey('LeadStage', SearchAttributeType.KEYWORD);
export const LeadTierKey = defineSearchAttributeKey('LeadTier', SearchAttributeType.INT);
export const OwnerIdKey = defineSearchAttributeKey('OwnerId', SearchAttributeType.KEYWORD);
export const SlaStateKey = defineSearchAttributeKey('SlaState', SearchAttributeType.KEYWORD);
export const EscalationLevelKey = defineSearchAttributeKey('EscalationLevel', SearchAttributeType.INT);
export const NextDeadlineKey = defineSearchAttributeKey('NextDeadline', SearchAttributeType.DATETIME);
/**
 * Leads: when the response deadline turns due soon. Visibility reads "due soon" as SlaState="on-track" AND
 * DueSoonAt <= now, so no timer has to wake the lead just to change how it is shown (patch 'lean-clocks').
 */
export const DueSoonAtKey = defineSearchAttributeKey('DueSoonAt', SearchAttributeType.DATETIME);
export const PolicyVersionKey = defineSearchAttributeKey('PolicyVersion', SearchAttributeType.KEYWORD);
/** Deals: the handoff stage, the CS owner, and whether a milestone is overdue now ('on-track' | 'breached'). */
export const DealStageKey = defineSearchAttributeKey('DealStage', SearchAttributeType.KEYWORD);
export const CsOwnerIdKey = defineSearchAttributeKey('CsOwnerId', SearchAttributeType.KEYWORD);
export const HandoffStateKey = defineSearchAttributeKey('HandoffState', SearchAttributeType.KEYWORD);

export const allSearchAttributeKeys = [
  LeadStageKey,
  LeadTierKey,
  OwnerIdKey,
  SlaStateKey,
  EscalationLevelKey,
  NextDeadlineKey,
  DueSoonAtKey,
  PolicyVersionKey,
  DealStageKey,
  CsOwnerIdKey,
  HandoffStateKey,
] as const;
