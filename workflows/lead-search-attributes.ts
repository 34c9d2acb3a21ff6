import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { upsertSearchAttributes } from '@temporalio/workflow';
import {
  EscalationLevelKey,
  LeadStageKey,
  LeadTierKey,
  NextDeadlineKey,
  OwnerIdKey,
  PolicyVersionKey,
  SlaStateKey,
} from './search-attributes.js';

export interface LeadVisibility {
  stage: string;
  policyVersion: string;
  ownerId: string | null;
  slaState: string;
  escalationLevel: number;
  nextDeadline: Date | null;
}

/** Keeps the lead's search attributes current, upserting only what changed: each upsert is a history event. */
export class LeadSearchAttributes {
  private shown: Partial<Record<keyof LeadVisibility, string>> = {};

  applyTier(tier: number): void {
    upsertSearchAttributes([{ key: LeadTierKey, value: tier }]);
  }

  apply(values: LeadVisibility): void {
    const changes: SearchAttributeUpdatePair[] = [];
    const changed = (field: keyof LeadVisibility, value: unknown): boolean => {
      const fingerprint = value instanceof Date ? value.toISOString() : JSON.stringify(value);
      if (this.shown[field] === fingerprint) return false;
      this.shown[field] = fingerprint;
      return true;
    };
    if (changed('stage', values.stage)) changes.push({ key: LeadStageKey, value: values.stage });
    if (changed('policyVersion', values.policyVersion)) changes.push({ key: PolicyVersionKey, value: values.policyVersion });
    if (changed('ownerId', values.ownerId)) changes.push({ key: OwnerIdKey, value: values.ownerId });
    if (changed('slaState', values.slaState)) changes.push({ key: SlaStateKey, value: values.slaState });
    if (changed('escalationLevel', values.escalationLevel)) changes.push({ key: EscalationLevelKey, value: values.escalationLevel });
    if (changed('nextDeadline', values.nextDeadline)) changes.push({ key: NextDeadlineKey, value: values.nextDeadline });
    if (changes.length > 0) upsertSearchAttributes(changes);
  }
}
