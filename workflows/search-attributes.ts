import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Search attributes ops filter on in the Temporal UI and CLI; the worker registers them on start. */
export const LeadStageKey = defineSearchAttributeKey('LeadStage', SearchAttributeType.KEYWORD);
export const LeadTierKey = defineSearchAttributeKey('LeadTier', SearchAttributeType.INT);
export const OwnerIdKey = defineSearchAttributeKey('OwnerId', SearchAttributeType.KEYWORD);
export const SlaStateKey = defineSearchAttributeKey('SlaState', SearchAttributeType.KEYWORD);
export const EscalationLevelKey = defineSearchAttributeKey('EscalationLevel', SearchAttributeType.INT);
export const NextDeadlineKey = defineSearchAttributeKey('NextDeadline', SearchAttributeType.DATETIME);
export const PolicyVersionKey = defineSearchAttributeKey('PolicyVersion', SearchAttributeType.KEYWORD);

export const allSearchAttributeKeys = [
  LeadStageKey,
  LeadTierKey,
  OwnerIdKey,
  SlaStateKey,
  EscalationLevelKey,
  NextDeadlineKey,
  PolicyVersionKey,
] as const;
