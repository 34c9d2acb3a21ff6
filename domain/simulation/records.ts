/**
 * What the audit recorded of one lead or deal, as the policy simulator reads it: the audit events in order
 * (lead_events), or the handoff milestones (deal_milestones) with the instant each completion was reported.
 * Plain data, so the simulator stays pure and tests can build records by hand.
 */

export interface RecordedEvent {
  seq: number;
  type: string;
  /** ISO instant (toISOString form), the workflow time the event happened at. */
  at: string;
  actor: string;
  payload: Record<string, unknown>;
}

export interface LeadRecord {
  leadId: string;
  /** The version the lead runs under now (leads.policy_version); see `startedUnderVersion` for the first one. */
  policyVersion: string;
  /** In seq order, starting with `received`. */
  events: RecordedEvent[];
}

export interface MilestoneRecordRow {
  milestone: string;
  kind: string;
  startedAt: string;
  dueAt: string;
  doneAt: string | null;
  /** When the system heard it was done (the completing event's time); a meeting may be reported after it was held. */
  reportedAt: string | null;
  breached: boolean;
}

export interface DealRecord {
  dealId: string;
  policyVersion: string;
  salesOwnerId: string;
  csOwnerId: string | null;
  closedWonAt: string;
  milestones: MilestoneRecordRow[];
}

/**
 * The version a lead started under: the `from` of its first policy migration, else the one it runs under now
 * (an unmigrated lead keeps its start version for life).
 */
export function startedUnderVersion(record: LeadRecord): string {
  const migration = record.events.find((event) => event.type === 'policy-migrated');
  return migration ? String(migration.payload.from) : record.policyVersion;
}

/** Every policy version a lead ran under, in order. */
export function versionsOf(record: LeadRecord): string[] {
  return [startedUnderVersion(record), ...record.events.filter((event) => event.type === 'policy-migrated').map((event) => String(event.payload.to))];
}
