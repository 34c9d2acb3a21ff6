import type { SearchAttributePair, SearchAttributeUpdatePair, TypedSearchAttributes } from '@temporalio/common';
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

const fingerprint = (value: unknown): string => (value instanceof Date ? value.toISOString() : JSON.stringify(value ?? null));

const keys = {
  stage: DealStageKey,
  salesOwnerId: OwnerIdKey,
  csOwnerId: CsOwnerIdKey,
  handoffState: HandoffStateKey,
  policyVersion: PolicyVersionKey,
  nextDeadline: NextDeadlineKey,
} as const;

/** What a deal's start already knows, given with the start where it costs no action: nothing is done or late yet. */
export function dealStartSearchAttributes(deal: { salesOwnerId: string; csOwnerId?: string | null; policyVersion: string }): SearchAttributePair[] {
  return [
    { key: DealStageKey, value: 'AWAITING_DOSSIER' },
    { key: OwnerIdKey, value: deal.salesOwnerId },
    ...(deal.csOwnerId ? [{ key: CsOwnerIdKey, value: deal.csOwnerId }] : []),
    { key: HandoffStateKey, value: 'on-track' },
    { key: PolicyVersionKey, value: deal.policyVersion },
  ];
}

/** Keeps the deal's search attributes current, upserting only what changed: each upsert is a history event and a billed action. */
export class DealSearchAttributes {
  private shown: Partial<Record<keyof DealVisibility, string>> = {};

  /** @param atStart the attributes the run started with, counted as shown (see LeadSearchAttributes). */
  constructor(atStart?: TypedSearchAttributes) {
    if (!atStart) return;
    for (const [field, key] of Object.entries(keys)) this.shown[field as keyof DealVisibility] = fingerprint(atStart.get(key));
  }

  apply(values: DealVisibility): void {
    const changes: SearchAttributeUpdatePair[] = [];
    const changed = (field: keyof DealVisibility, value: unknown): boolean => {
      if (this.shown[field] === fingerprint(value)) return false;
      this.shown[field] = fingerprint(value);
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
