import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, customType, doublePrecision, index, integer, jsonb, numeric, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/** Projection of each lead's latest state, for lists and reports; the workflow stays the source of truth. */
export const leads = pgTable(
  'leads',
  {
    leadId: text('lead_id').primaryKey(),
    workflowId: text('workflow_id').notNull(),
    email: text('email').notNull(),
    company: text('company').notNull(),
    icpTier: integer('icp_tier').notNull(),
    /** Where the lead came from (web, event, partner, ...), as given at intake. */
    source: text('source'),
    stage: text('stage').notNull(),
    ownerId: text('owner_id'),
    score: integer('score').notNull(),
    policyVersion: text('policy_version').notNull(),
    /** Sequence number of the event this row reflects; a late or replayed event never rolls it back. */
    lastEventSeq: integer('last_event_seq').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
    /**
     * When the latest next step set on the opportunity is due, and that event's seq: kept apart from
     * last_event_seq, so a batch of audit rows written late still moves it forward (activities/lead-audit.ts).
     */
    nextStepDueAt: timestamp('next_step_due_at', { withTimezone: true }),
    nextStepSeq: integer('next_step_seq'),
  },
  (table) => [
    // By stage, holding the lead IDs and next-step due dates: pipeline hygiene as of now counts the open
    // opportunities and their next steps without visiting the table.
    index('leads_stage_lead_idx').on(table.stage, table.leadId, table.nextStepDueAt),
    index('leads_company_idx').on(table.company),
    // GET /leads pages in (updated_at, lead_id) order and filters by updatedSince.
    index('leads_updated_at_idx').on(table.updatedAt, table.leadId),
    // Routing looks up the account owner by company, case-insensitively, and counts each member's open leads.
    index('leads_company_lower_idx').on(sql`lower(${table.company})`),
    index('leads_owner_stage_idx').on(table.ownerId, table.stage),
    // Data quality counts the leads taken in during a range.
    index('leads_created_at_idx').on(table.createdAt, table.leadId),
  ],
);

/** Append-only audit of everything that happened to a lead. */
export const leadEvents = pgTable(
  'lead_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    leadId: text('lead_id').notNull(),
    workflowId: text('workflow_id').notNull(),
    /** Workflow ID + step key: a retried activity finds its row and writes nothing. */
    idempotencyKey: text('idempotency_key').notNull().unique(),
    seq: integer('seq').notNull(),
    type: text('type').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    actor: text('actor').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('lead_events_lead_seq_idx').on(table.leadId, table.seq),
    index('lead_events_type_at_idx').on(table.type, table.at),
    // Pipeline hygiene looks up, per open opportunity, its latest next step, and reads the week's stage/value
    // updates by time (a range of this index, which holds the lead IDs: no table visit).
    index('lead_events_next_step_idx').on(table.leadId, table.seq).where(sql`${table.type} = 'next-step-set'`),
    index('lead_events_opportunity_update_at_idx').on(table.at, table.leadId).where(sql`${table.type} in ('qualified', 'opportunity-updated')`),
    // The dashboard's breaches by queue take each breach's latest routing before it: one entry, not a walk back
    // over the lead's other events.
    index('lead_events_routed_idx').on(table.leadId, table.seq).where(sql`${table.type} = 'routed'`),
  ],
);

/**
 * One narrow, typed row per lead event that GET /reports/lead-sla reads (domain/report-stats.ts
 * leadReportFact), written with the event in the same transaction: the report scans these by time instead
 * of the events' JSON, and needs no join for the lead's tier or source.
 */
export const leadReportFacts = pgTable(
  'lead_report_facts',
  {
    eventId: bigint('event_id', { mode: 'number' })
      .primaryKey()
      .references(() => leadEvents.id, { onDelete: 'cascade' }),
    leadId: text('lead_id').notNull(),
    tier: integer('tier').notNull(),
    source: text('source'),
    type: text('type').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    counts: boolean('counts').notNull(),
    businessMinutes: doublePrecision('business_minutes'),
    metLate: boolean('met_late'),
    clockStartedAt: timestamp('clock_started_at', { withTimezone: true }),
    reason: text('reason'),
  },
  (table) => [
    index('lead_report_facts_at_idx').on(table.at),
    // Migration 0012's triggers re-derive a lead's report row (lead_report_leads) from all of its facts.
    index('lead_report_facts_lead_at_idx').on(table.leadId, table.at),
  ],
);

/**
 * One row per lead holding its lead SLA report figures, resolved at write time from all of its report facts
 * by migration 0012's triggers on lead_report_facts (so a late-arriving or deleted fact re-resolves its lead):
 * the instant of each stage step (its single MQL entry, acceptance, qualification, close, speed-to-lead met),
 * the stays between them, the met clock's lateness (a breach between its start and the met), the breaches no
 * clock met, the contact attempts and the returns to nurture. A window then reads these narrow rows by their
 * span instead of the window's facts joined to one another. `simple` is false for a lead with more than one of a stage step or
 * met clock (a re-engaged lead) or with facts of different tiers or sources: the report reads that lead's
 * facts instead, as it did before. No personal data: IDs, tiers, sources, times and figures only.
 */
export const leadReportLeads = pgTable(
  'lead_report_leads',
  {
    leadId: text('lead_id').primaryKey(),
    simple: boolean('simple').notNull(),
    /** The first and last instant of the lead's report facts: the row matters to a window it overlaps. */
    firstAt: timestamp('first_at', { withTimezone: true }).notNull(),
    lastAt: timestamp('last_at', { withTimezone: true }).notNull(),
    tier: integer('tier').notNull(),
    source: text('source'),
    receivedAt: timestamp('received_at', { withTimezone: true }),
    /** Its MQL entry: intake as MQL or a later change to MQL. */
    mqlAt: timestamp('mql_at', { withTimezone: true }),
    acceptedAt: timestamp('accepted_at', { withTimezone: true }),
    qualifiedAt: timestamp('qualified_at', { withTimezone: true }),
    closedAt: timestamp('closed_at', { withTimezone: true }),
    won: boolean('won'),
    metAt: timestamp('met_at', { withTimezone: true }),
    metMinutes: doublePrecision('met_minutes'),
    /** Met late: flagged so by the met event, or a speed-to-lead breach falls between the clock's start and the met. */
    metLate: boolean('met_late'),
    /** Speed-to-lead breaches no met clock covers, in order. */
    unmetAt: timestamp('unmet_at', { withTimezone: true }).array(),
    /** Wall-clock hours in MQL (entry → accepted), SAL (accepted → qualified), SQL (qualified → closed). */
    mqlHours: doublePrecision('mql_hours'),
    salHours: doublePrecision('sal_hours'),
    sqlHours: doublePrecision('sql_hours'),
    /** A win's days from the MQL entry, numeric as the report's mean is taken in numeric. */
    cycleDays: numeric('cycle_days'),
    attempts: integer('attempts').notNull(),
    firstAttemptAt: timestamp('first_attempt_at', { withTimezone: true }),
    lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true }),
    attemptAt: timestamp('attempt_at', { withTimezone: true }).array(),
    /** Its returns to nurture and the reason of each, side by side in the order of (instant, reason) (migration 0018). */
    nurtureAt: timestamp('nurture_at', { withTimezone: true }).array(),
    nurtureReason: text('nurture_reason').array(),
  },
  (table) => [
    // The leads a window [from, to) overlaps: last_at >= from bounds the scan, first_at < to filters it.
    index('lead_report_leads_last_at_idx').on(table.lastAt),
    index('lead_report_leads_complex_idx').on(table.firstAt).where(sql`not ${table.simple}`),
  ],
);

/** A transaction ID (Postgres' xid8), as text: comparable with pg_snapshot_xmin and tested with pg_visible_in_snapshot. */
const transactionId = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' });

/**
 * The rollup's change log: each lead whose lead_report_leads row was written or removed, with the transaction
 * that did it (migration 0014's refresh). A process's copy of the rollup (db/lead-report-copy.ts) reads only
 * the leads changed by transactions its last snapshot did not see, so it stays exactly the table. A lead
 * whose row is gone keeps its entry: that is how the copy learns of an erasure.
 */
export const leadReportRevisions = pgTable(
  'lead_report_revisions',
  {
    leadId: text('lead_id').primaryKey(),
    revision: transactionId('revision').notNull(),
  },
  (table) => [index('lead_report_revisions_revision_idx').on(table.revision)],
);

export const reps = pgTable('reps', {
  repId: text('rep_id').primaryKey(),
  name: text('name').notNull(),
  email: text('email'),
  seniority: text('seniority').notNull(),
  active: boolean('active').notNull().default(true),
  managerId: text('manager_id'),
  outOfOffice: jsonb('out_of_office').$type<Array<{ from: string; to: string }>>().notNull().default([]),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const queues = pgTable('queues', {
  queueId: text('queue_id').primaryKey(),
  name: text('name').notNull(),
  strategy: text('strategy').notNull(),
  managerId: text('manager_id'),
  lastAssignedRepId: text('last_assigned_rep_id'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const queueMembers = pgTable(
  'queue_members',
  {
    queueId: text('queue_id')
      .notNull()
      .references(() => queues.queueId, { onDelete: 'cascade' }),
    repId: text('rep_id')
      .notNull()
      .references(() => reps.repId, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
  },
  (table) => [primaryKey({ columns: [table.queueId, table.repId] })],
);

/** Every published policy version, with who published it and why: the framework's changelog. */
export const policies = pgTable('policies', {
  version: text('version').primaryKey(),
  document: jsonb('document').notNull(),
  author: text('author').notNull(),
  note: text('note').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Which rep a routing step chose; keyed like audit events so a retried routing activity returns the same rep. */
export const leadAssignments = pgTable('lead_assignments', {
  idempotencyKey: text('idempotency_key').primaryKey(),
  leadId: text('lead_id').notNull(),
  queueId: text('queue_id').notNull(),
  repId: text('rep_id').notNull(),
  reason: text('reason').notNull(),
  managerId: text('manager_id'),
  assignedAt: timestamp('assigned_at', { withTimezone: true }).notNull(),
});

/** Which CS rep a deal's CS-owner draw chose; keyed by the deal's workflow so a retried draw returns the same rep. */
export const dealCsAssignments = pgTable('deal_cs_assignments', {
  idempotencyKey: text('idempotency_key').primaryKey(),
  dealId: text('deal_id').notNull(),
  queueId: text('queue_id').notNull(),
  repId: text('rep_id').notNull(),
  reason: text('reason').notNull(),
  managerId: text('manager_id'),
  assignedAt: timestamp('assigned_at', { withTimezone: true }).notNull(),
});

/** Every notification the notifier sent or logged, once per idempotency key. */
export const notifications = pgTable(
  'notifications',
  {
    idempotencyKey: text('idempotency_key').primaryKey(),
    type: text('type').notNull(),
    subjectId: text('subject_id').notNull(),
    recipients: jsonb('recipients').$type<string[]>().notNull(),
    body: jsonb('body').$type<Record<string, unknown>>().notNull(),
    /** 'delivered' after a 2xx from the webhook, 'logged' when no webhook is configured. */
    status: text('status').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (table) => [index('notifications_subject_idx').on(table.subjectId)],
);

/** Projection of each closed-won deal's latest handoff state; the deal workflow stays the source of truth. */
export const deals = pgTable(
  'deals',
  {
    dealId: text('deal_id').primaryKey(),
    workflowId: text('workflow_id').notNull(),
    accountName: text('account_name').notNull(),
    amount: numeric('amount', { precision: 18, scale: 2, mode: 'number' }).notNull(),
    /** ISO 4217 code. */
    currency: text('currency').notNull(),
    salesOwnerId: text('sales_owner_id').notNull(),
    csOwnerId: text('cs_owner_id'),
    leadId: text('lead_id'),
    stage: text('stage').notNull(),
    /** 'breached' while a milestone is overdue and not done, else 'on-track'. */
    handoffState: text('handoff_state').notNull(),
    policyVersion: text('policy_version').notNull(),
    signedAt: timestamp('signed_at', { withTimezone: true }).notNull(),
    closedWonAt: timestamp('closed_won_at', { withTimezone: true }).notNull(),
    /** Sequence number of the event this row reflects; a late or replayed event never rolls it back. */
    lastEventSeq: integer('last_event_seq').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (table) => [
    index('deals_stage_idx').on(table.stage),
    index('deals_cs_owner_idx').on(table.csOwnerId),
    // GET /reports/handoffs selects the deals won in a range.
    index('deals_closed_won_at_idx').on(table.closedWonAt),
    // GET /deals pages in (updated_at, deal_id) order and filters by updatedSince.
    index('deals_updated_at_idx').on(table.updatedAt, table.dealId),
  ],
);

/** Append-only audit of everything that happened in a deal's handoff. */
export const dealEvents = pgTable(
  'deal_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    dealId: text('deal_id').notNull(),
    workflowId: text('workflow_id').notNull(),
    /** Workflow ID + step key: a retried activity finds its row and writes nothing. */
    idempotencyKey: text('idempotency_key').notNull().unique(),
    seq: integer('seq').notNull(),
    type: text('type').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    actor: text('actor').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('deal_events_deal_seq_idx').on(table.dealId, table.seq)],
);

/** Each handoff milestone of a deal (dossier, kickoff, qbr-1, qbr-2, ...): when it was due, when it was done, whether it breached. */
export const dealMilestones = pgTable(
  'deal_milestones',
  {
    dealId: text('deal_id').notNull(),
    /** 'dossier' | 'kickoff' | 'qbr-1' | 'qbr-2' | ... */
    milestone: text('milestone').notNull(),
    kind: text('kind').notNull(),
    workflowId: text('workflow_id').notNull(),
    /** The instant the allowance counts from: the win, the signature or the previous QBR. */
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    dueAt: timestamp('due_at', { withTimezone: true }).notNull(),
    doneAt: timestamp('done_at', { withTimezone: true }),
    actor: text('actor'),
    breached: boolean('breached').notNull(),
    /** Business minutes from started_at to done_at, on the deal policy's default calendar. */
    businessMinutesTaken: doublePrecision('business_minutes_taken'),
    /** Business minutes from due_at to done_at; 0 when done on time. */
    businessMinutesLate: doublePrecision('business_minutes_late'),
    /** Sequence number of the deal event that last wrote this row; a retried or older write never rolls it back. */
    lastEventSeq: integer('last_event_seq').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.dealId, table.milestone] }), index('deal_milestones_due_idx').on(table.dueAt)],
);

/**
 * The final state of every closed lead and deal workflow, written as it closes, so reports stay complete
 * after Temporal's retention purges closed executions.
 */
export const workflowArchives = pgTable(
  'workflow_archives',
  {
    workflowId: text('workflow_id').primaryKey(),
    kind: text('kind').notNull(),
    subjectId: text('subject_id').notNull(),
    runId: text('run_id').notNull(),
    outcome: text('outcome').notNull(),
    closedAt: timestamp('closed_at', { withTimezone: true }).notNull(),
    finalState: jsonb('final_state').$type<Record<string, unknown>>().notNull(),
    archivedAt: timestamp('archived_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('workflow_archives_kind_closed_idx').on(table.kind, table.closedAt)],
);

/**
 * One data key per lead or deal workflow (privacy/record-keys.ts), wrapped by a master key. Erasure sets
 * `wrapped_key` to null and keeps the row, so the record can never get a new key and its history stays unreadable.
 */
export const recordKeys = pgTable('record_keys', {
  subject: text('subject').primaryKey(),
  wrappingKeyId: text('wrapping_key_id').notNull(),
  wrappedKey: text('wrapped_key'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  destroyedAt: timestamp('destroyed_at', { withTimezone: true }),
});

/**
 * Every erasure of a person's data (privacy/erasure.ts): who, when and why, never the data itself. A row here
 * also stops any late write of the record's personal data (migration 0009's triggers).
 */
export const erasures = pgTable('erasures', {
  /** The record's workflow ID (lead-…), the same name its data key has. */
  subject: text('subject').primaryKey(),
  kind: text('kind').notNull(),
  subjectId: text('subject_id').notNull(),
  erasedAt: timestamp('erased_at', { withTimezone: true }).notNull(),
  erasedBy: text('erased_by').notNull(),
  reason: text('reason').notNull(),
  /** What became of the workflow: 'terminated', 'was-closed' or 'none'. */
  workflow: text('workflow').notNull(),
});
