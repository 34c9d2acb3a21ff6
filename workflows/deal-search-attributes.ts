import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { upsertSearchAttributes } from '@temporalio/workflow';
import { CsOwnerIdKey, DealStageKey, HandoffStateKey, NextDeadlineKey, OwnerIdKey, PolicyVersionKey } from './search-attributes.js';

export interface DealVisibility {
  stage: string;
  /** The sales owner, under the same OwnerId attribute leads use: "everything rep X owns" is one query. */
  salesOwnerId: string;
  csOwnerId: string | null;
  handoffState: string;
  policyVersion: string;
  nextDeadline: Date | null;
}

/** Keeps the deal's search attributes current, upserting only what changed: each upsert is a history event. */
export class DealSearchAttributes {
  private shown: Partial<Record<keyof DealVisibility, string>> = {};

  apply(values: DealVisibility): void {
    const changes: SearchAttributeUpdatePair[] = [];
    const changed = (field: keyof DealVisibility, value: unknown): boolean => {
      const fingerprint = value instanceof Date ? value.toISOString() : JSON.stringify(value);
      if (this.shown[field] === fingerprint) return false;
      this.shown[field] = fingerprint;
      return true;
    };
    if (changed('stage', values.stage)) changes.push({ key: DealStageKey, value: values.stage });
    if (changed('salesOwnerId', values.salesOwnerId)) changes.push({ key: OwnerIdKey, value: values.salesOwnerId });
    if (changed('csOwnerId', values.csOwnerId)) changes.push({ key: CsOwnerIdKey, value: values.csOwnerId });
    if (changed('handoffState', values.handoffState)) changes.push({ key: HandoffStateKey, value: values.handoffState });
    if (changed('policyVersion', values.policyVersion)) changes.push({ key: PolicyVersionKey, value: values.policyVersion });
    if (changed('nextDeadline', values.nextDeadline)) changes.push({ key: NextDeadlineKey, value: values.nextDeadline });
    if (changes.length > 0) upsertSearchAttributes(changes);
  }
}
