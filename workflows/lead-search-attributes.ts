import type { SearchAttributePair, SearchAttributeUpdatePair, TypedSearchAttributes } from '@temporalio/common';
import { upsertSearchAttributes } from '@temporalio/workflow';
import {
  DueSoonAtKey,
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
  /** Absent for runs started before patch 'lean-clocks', which show due-soon in SlaState instead. */
  dueSoonAt?: Date | null;
}

type Shown = Partial<Record<keyof LeadVisibility | 'tier', string>>;

const fingerprint = (value: unknown): string => (value instanceof Date ? value.toISOString() : JSON.stringify(value ?? null));

/**
 * The search attributes a lead can be given when its workflow starts, where they cost no action: what intake
 * already knows (tier, entry stage, policy version, no escalation yet). The workflow upserts only what differs.
 */
export function leadStartSearchAttributes(lead: { icpTier: number; stage: string; policyVersion: string }): SearchAttributePair[] {
  return [
    { key: LeadTierKey, value: lead.icpTier },
    { key: LeadStageKey, value: lead.stage },
    { key: PolicyVersionKey, value: lead.policyVersion },
    { key: SlaStateKey, value: lead.stage === 'MQL' ? 'on-track' : 'none' },
    { key: EscalationLevelKey, value: 0 },
  ];
}

/** Keeps the lead's search attributes current, upserting only what changed: each upsert is a history event and a billed action. */
export class LeadSearchAttributes {
  private shown: Shown = {};

  /**
   * @param atStart the attributes the run started with (given at start, or carried over by continue-as-new),
   * counted as shown so they are not upserted again; absent ones count as null. Runs started before this
   * (patch 'one-task-step') pass nothing and upsert everything once.
   */
  constructor(atStart?: TypedSearchAttributes) {
    if (!atStart) return;
    const keys = { tier: LeadTierKey, stage: LeadStageKey, policyVersion: PolicyVersionKey, ownerId: OwnerIdKey, slaState: SlaStateKey, escalationLevel: EscalationLevelKey, nextDeadline: NextDeadlineKey, dueSoonAt: DueSoonAtKey };
    for (const [field, key] of Object.entries(keys)) this.shown[field as keyof Shown] = fingerprint(atStart.get(key));
  }

  applyTier(tier: number): void {
    if (this.shown.tier === fingerprint(tier)) return;
    this.shown.tier = fingerprint(tier);
    upsertSearchAttributes([{ key: LeadTierKey, value: tier }]);
  }

  apply(values: LeadVisibility): void {
    const changes: SearchAttributeUpdatePair[] = [];
    const changed = (field: keyof LeadVisibility, value: unknown): boolean => {
      if (this.shown[field] === fingerprint(value)) return false;
      this.shown[field] = fingerprint(value);
      return true;
    };
    if (changed('stage', values.stage)) changes.push({ key: LeadStageKey, value: values.stage });
    if (changed('policyVersion', values.policyVersion)) changes.push({ key: PolicyVersionKey, value: values.policyVersion });
    if (changed('ownerId', values.ownerId)) changes.push({ key: OwnerIdKey, value: values.ownerId });
    if (changed('slaState', values.slaState)) changes.push({ key: SlaStateKey, value: values.slaState });
    if (changed('escalationLevel', values.escalationLevel)) changes.push({ key: EscalationLevelKey, value: values.escalationLevel });
    if (changed('nextDeadline', values.nextDeadline)) changes.push({ key: NextDeadlineKey, value: values.nextDeadline });
    if (values.dueSoonAt !== undefined && changed('dueSoonAt', values.dueSoonAt)) changes.push({ key: DueSoonAtKey, value: values.dueSoonAt });
    if (changes.length > 0) upsertSearchAttributes(changes);
  }
}

/**
 * The visibility query clause for leads in SLA state `state` at `now`. Leads since patch 'lean-clocks' show
 * due soon as SlaState="on-track" with DueSoonAt passed; earlier runs set SlaState="due-soon" on a timer.
 */
export function slaStateClause(state: 'on-track' | 'due-soon' | 'breached', now: Date): string {
  const at = `"${now.toISOString()}"`;
  switch (state) {
    case 'breached':
      return 'SlaState="breached"';
    case 'due-soon':
      return `(SlaState="due-soon" OR (SlaState="on-track" AND DueSoonAt <= ${at}))`;
    case 'on-track':
      return `(SlaState="on-track" AND (DueSoonAt IS NULL OR DueSoonAt > ${at}))`;
  }
}
