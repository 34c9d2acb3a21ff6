import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { sql } from 'drizzle-orm';
import { recordLeadEvents, type LeadAuditEvent } from '../../activities/lead-audit.js';
import { generateLead, random } from '../../bench/seed-events.js';
import { copiedLeadSlaReport, copiedLeadSlaSeries, handoffPage, handoffReport, handoffSummary, rawLeadSlaReport, rollupLeadSlaReport, rollupLeadSlaSeries, type HandoffFilters, type ReportRange } from '../../db/reports.js';
import { LeadReportCopy } from '../../db/lead-report-copy.js';
import { dealMilestones, deals } from '../../db/schema.js';
import { summarizeHandoffs } from '../../domain/report-stats.js';
import { reportPeriods } from '../../domain/business-time.js';
import { eraseLead } from '../../privacy/erasure.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createTimeSkippingEnvironment } from '../support/temporal.js';

/**
 * The lead SLA report over the rollup (lead_report_leads, migration 0012), both from the process's copy of it
 * (db/lead-report-copy.ts, caught up from the rollup's revisions before each report) and in SQL, gives the raw
 * statement's figures (db/reports.ts rawLeadSlaReport: the window's facts joined to one another, what the report
 * is defined as) for any window: random leads shaped like the benchmark's, re-engaged and otherwise irregular leads the rollup
 * leaves to the raw path, events written through the audit writer out of order (late arrivals), windows cut at
 * any instant (mid-day, on an event's instant, a second wide), then erasures and a deleted history.
 *
 * The handoff report's summary, computed in SQL over every deal of the range (db/reports.ts handoffSummary),
 * equals summarizeHandoffs (domain/report-stats.ts) over the full deal list, and its pages list that deal list.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const SEED = Number(process.env.ROLLUP_SEED ?? 20261206);
const SPAN_FROM = Date.parse('2024-03-01T00:00:00Z');
const SPAN_DAYS = 60;
const RANDOM_LEADS = 160;

interface PlannedEvent {
  type: string;
  at: number;
  payload: Record<string, unknown>;
  /** The projection's source for this event (a lead whose events disagree is one the rollup cannot summarise). */
  source?: string | null;
}

interface PlannedLead {
  leadId: string;
  tier: number;
  source: string | null;
  events: PlannedEvent[];
}

const iso = (at: number) => new Date(at).toISOString();

/** Irregular lifecycles, each one a reason for the rollup to step aside or a corner of its resolution. */
function irregularLeads(prefix: string): PlannedLead[] {
  const t = SPAN_FROM + 20 * DAY + 9 * HOUR + 17 * MINUTE;
  const met = (started: number, at: number, minutes: number, breached = false) => ({
    type: 'speed-to-lead-met',
    at,
    payload: { by: 'first-attempt', startedAt: iso(started), dueAt: iso(started + 15 * MINUTE), breached, businessMinutes: minutes },
  });
  const breach = (at: number) => ({ type: 'sla-breached', at, payload: { deadline: 'speed-to-lead', dueAt: iso(at) } });
  const step = (type: string, at: number, payload: Record<string, unknown> = {}) => ({ type, at, payload });
  return [
    // Re-engaged: two MQL entries, two acceptances and two met clocks, won on the second round.
    {
      leadId: `${prefix}reengaged`,
      tier: 1,
      source: 'web',
      events: [
        step('received', t, { stage: 'MQL', profile: { source: 'web' } }),
        step('accepted', t + 10 * MINUTE),
        step('contact-attempted', t + 12 * MINUTE),
        met(t, t + 12 * MINUTE, 12),
        step('returned-to-nurture', t + 3 * DAY, { to: 'NURTURE', reason: 'too-early' }),
        step('stage-changed', t + 9 * DAY, { from: 'NURTURE', to: 'MQL' }),
        breach(t + 9 * DAY + 15 * MINUTE),
        step('accepted', t + 9 * DAY + HOUR),
        step('contact-attempted', t + 9 * DAY + 2 * HOUR),
        met(t + 9 * DAY, t + 9 * DAY + 2 * HOUR, 120),
        step('qualified', t + 11 * DAY),
        step('closed', t + 25 * DAY, { outcome: 'won' }),
      ],
    },
    // Two acceptances at the same instant (a duplicate step): one stay, as the raw statement groups them.
    {
      leadId: `${prefix}twice`,
      tier: 2,
      source: 'event',
      events: [
        step('received', t + HOUR, { stage: 'MQL', profile: { source: 'event' } }),
        step('accepted', t + 2 * HOUR),
        step('accepted', t + 2 * HOUR),
        step('contact-attempted', t + 3 * HOUR),
        met(t + HOUR, t + 3 * HOUR, 120),
      ],
    },
    // A breach after its clock was met (no clock covers it) and a met clock without a start: one of each kind.
    {
      leadId: `${prefix}uncovered`,
      tier: 3,
      source: 'partner',
      events: [
        step('received', t + 2 * DAY, { stage: 'MQL', profile: { source: 'partner' } }),
        step('accepted', t + 2 * DAY + HOUR),
        { type: 'speed-to-lead-met', at: t + 2 * DAY + 2 * HOUR, payload: { by: 'first-attempt', businessMinutes: 60 } },
        breach(t + 3 * DAY),
        breach(t + 4 * DAY + 30 * MINUTE),
        step('contact-attempted', t + 4 * DAY + HOUR),
      ],
    },
    // Never met: three breaches over days, then returned when the ladder ran out.
    {
      leadId: `${prefix}expired`,
      tier: 1,
      source: null,
      events: [
        step('received', t - 5 * HOUR, { stage: 'MQL', profile: {} }),
        breach(t - 5 * HOUR + 15 * MINUTE),
        breach(t + DAY),
        breach(t + 2 * DAY + 7 * HOUR),
        step('returned-to-nurture', t + 2 * DAY + 8 * HOUR, { to: 'NURTURE', reason: 'sla-expired' }),
      ],
    },
    // Returned to nurture three times, twice at one instant, then lost: one lead the rollup still summarises.
    {
      leadId: `${prefix}nurtured`,
      tier: 2,
      source: 'partner',
      events: [
        step('received', t + 4 * DAY, { stage: 'MQL', profile: { source: 'partner' } }),
        step('returned-to-nurture', t + 5 * DAY, { to: 'NURTURE', reason: 'unresponsive' }),
        step('returned-to-nurture', t + 5 * DAY, { to: 'NURTURE', reason: 'sla-expired' }),
        step('returned-to-nurture', t + 8 * DAY + 3 * HOUR, { to: 'NURTURE', reason: 'too-early' }),
        step('closed', t + 12 * DAY, { outcome: 'lost' }),
      ],
    },
    // Sources that disagree between events (the rollup leaves the lead to the raw path).
    {
      leadId: `${prefix}mixed`,
      tier: 2,
      source: 'web',
      events: [
        step('received', t + 5 * DAY, { stage: 'MQL', profile: { source: 'web' } }),
        { type: 'accepted', at: t + 5 * DAY + HOUR, payload: {}, source: 'outbound' },
        { type: 'contact-attempted', at: t + 5 * DAY + 2 * HOUR, payload: {}, source: 'outbound' },
        { ...met(t + 5 * DAY, t + 5 * DAY + 2 * HOUR, 120), source: 'outbound' },
      ],
    },
    // A lifecycle longer than most windows: in before them, qualified long after, nothing in between.
    {
      leadId: `${prefix}long`,
      tier: 3,
      source: 'outbound',
      events: [
        step('received', SPAN_FROM - 30 * DAY, { stage: 'LEAD', profile: { source: 'outbound' } }),
        step('stage-changed', SPAN_FROM - 29 * DAY, { from: 'LEAD', to: 'MQL' }),
        step('accepted', SPAN_FROM - 28 * DAY),
        step('contact-attempted', SPAN_FROM - 28 * DAY + HOUR),
        step('contact-attempted', SPAN_FROM + 30 * DAY + 5 * HOUR),
        step('qualified', SPAN_FROM + (SPAN_DAYS + 20) * DAY),
        step('closed', SPAN_FROM + (SPAN_DAYS + 40) * DAY, { outcome: 'lost' }),
      ],
    },
  ];
}

/** A lead's events as the audit writer takes them, numbered in the order planned. */
function auditEvents(lead: PlannedLead): LeadAuditEvent[] {
  return lead.events.map(
    (event, index): LeadAuditEvent => ({
      workflowId: `lead-${lead.leadId}`,
      leadId: lead.leadId,
      seq: index + 1,
      stepKey: `${index + 1}-${event.type}`,
      type: event.type,
      at: iso(event.at),
      actor: 'rollup-test',
      payload: event.payload,
      projection: {
        email: `${lead.leadId}@example.com`,
        company: `Company ${lead.leadId}`,
        icpTier: lead.tier,
        source: event.source === undefined ? lead.source : event.source,
        stage: 'MQL',
        ownerId: null,
        score: 50,
        policyVersion: 'rollup-test',
      },
    }),
  );
}

/** Each lead's events as audit steps of one to three events, in time order or, for some, shuffled (late arrivals). */
function auditBatches(lead: PlannedLead, rand: () => number): LeadAuditEvent[][] {
  const events = auditEvents(lead);
  const batches: LeadAuditEvent[][] = [];
  for (let i = 0; i < events.length; ) {
    const size = 1 + Math.floor(rand() * 3);
    batches.push(events.slice(i, i + size));
    i += size;
  }
  if (rand() < 0.35) {
    for (let i = batches.length - 1; i > 0; i -= 1) {
      const j = Math.floor(rand() * (i + 1));
      [batches[i], batches[j]] = [batches[j]!, batches[i]!];
    }
  }
  return batches;
}

describe('the lead report rollup equals the raw statement over the audit', () => {
  let database: TestDatabase;
  let env: TestWorkflowEnvironment;
  const rand = random(SEED);
  const prefix = `rollup-${SEED}-`;
  const leads: PlannedLead[] = [];
  let instants: number[] = [];
  // One copy for the whole file: each test's writes reach it as revisions since its last report, as in a live API.
  // Loaded "at" the span's end, so its horizon reaches every window below.
  const copy = new LeadReportCopy(SPAN_FROM + SPAN_DAYS * DAY, { orderAfterWrites: 3 });
  /** The report as the API answers it (from the copy), after checking that the rollup in SQL answers the same. */
  async function leadSlaReport(range: ReportRange) {
    const fromCopy = await copiedLeadSlaReport(database.db, copy, range);
    assert.deepEqual(fromCopy, await rollupLeadSlaReport(database.db, range), `copy and SQL rollup agree on [${range.from.toISOString()}, ${range.to.toISOString()})`);
    return fromCopy;
  }

  before(async () => {
    [database, env] = await Promise.all([createTestDatabase(), createTimeSkippingEnvironment()]);
    for (let n = 0; n < RANDOM_LEADS; n += 1) {
      const generated = generateLead(`${prefix}${n}`, rand, SPAN_FROM, SPAN_FROM + SPAN_DAYS * DAY);
      leads.push({ leadId: generated.leadId, tier: generated.tier, source: generated.source, events: generated.events });
    }
    leads.push(...irregularLeads(prefix));
    const batches = leads.flatMap((lead) => auditBatches(lead, rand).map((batch) => ({ batch, order: rand() })));
    // Leads interleave as they do live; within a lead, a shuffled lead's later steps may carry earlier times.
    batches.sort((a, b) => a.order - b.order);
    for (const { batch } of batches) await recordLeadEvents(database.db, batch);
    instants = leads.flatMap((lead) => lead.events.map((event) => event.at));
  });
  after(async () => {
    await Promise.all([database?.drop(), env?.teardown()]);
  });

  /** Windows of every kind: whole days, cut mid-day, on an event's instant, a second wide, the whole span. */
  function windows(count: number): ReportRange[] {
    const pick = () => instants[Math.floor(rand() * instants.length)]!;
    const list: ReportRange[] = [
      { from: new Date(SPAN_FROM - 60 * DAY), to: new Date(SPAN_FROM + 120 * DAY) },
      { from: new Date(SPAN_FROM + 7 * DAY), to: new Date(SPAN_FROM + 37 * DAY) },
    ];
    while (list.length < count) {
      const kind = list.length % 4;
      const start = kind === 0 ? pick() : SPAN_FROM + Math.floor(rand() * SPAN_DAYS * DAY);
      const length = kind === 1 ? 1000 : kind === 2 ? Math.floor(rand() * 3 * DAY) : Math.floor(rand() * 40 * DAY);
      const end = kind === 3 ? pick() : start + Math.max(1, length);
      list.push(end > start ? { from: new Date(start), to: new Date(end) } : { from: new Date(end), to: new Date(start + 1) });
    }
    return list;
  }

  async function assertSameAsRaw(ranges: readonly ReportRange[], what: string): Promise<void> {
    for (const range of ranges) {
      const label = `${what}: [${range.from.toISOString()}, ${range.to.toISOString()})`;
      assert.deepEqual(await leadSlaReport(range), await rawLeadSlaReport(database.db, range), label);
    }
  }

  /** The rollup's rows as migration 0012's function derives them afresh from every fact: a trigger that missed a change shows here. */
  async function assertRollupCurrent(): Promise<void> {
    const rows = (result: unknown) => (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows);
    const stored = rows(await database.db.execute(sql`select * from lead_report_leads order by lead_id`));
    const fresh = rows(
      await database.db.execute(sql`select * from revops_lead_report_rows(array(select distinct lead_id from lead_report_facts)) order by lead_id`),
    );
    assert.deepEqual(stored, fresh, 'the stored rollup is what the facts resolve to now');
  }

  test('the irregular leads are left to the raw path, the rest are summarised', async () => {
    const result = await database.db.execute(sql`select lead_id, simple from lead_report_leads where lead_id like ${`${prefix}%`}`);
    const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Array<{ lead_id: string; simple: boolean }>;
    const complex = rows.filter((row) => !row.simple).map((row) => row.lead_id.slice(prefix.length)).sort();
    assert.deepEqual(complex, ['mixed', 'reengaged', 'twice']);
    assert.equal(rows.length, leads.length);
    const nurtured = await database.db.execute(sql`select simple, nurture_reason from lead_report_leads where lead_id = ${`${prefix}nurtured`}`);
    assert.deepEqual((Array.isArray(nurtured) ? nurtured : (nurtured as { rows: unknown[] }).rows)[0], { simple: true, nurture_reason: ['sla-expired', 'unresponsive', 'too-early'] });
  });

  test('any window, written out of order: the same report as the raw statement, and the rollup is current', async () => {
    await assertRollupCurrent();
    await assertSameAsRaw(windows(60), 'after out-of-order writes');
  });

  test("the dashboard's series, weekly and monthly: each period as the raw statement answers for that period alone, from the copy as from SQL", async () => {
    for (const [index, range] of windows(8).entries()) {
      const unit = index % 2 === 0 ? 'week' : 'month';
      const series = await copiedLeadSlaSeries(database.db, copy, range, unit);
      assert.deepEqual(series, await rollupLeadSlaSeries(database.db, range, unit), `copy and SQL rollup agree, per ${unit} in [${range.from.toISOString()}, ${range.to.toISOString()})`);
      assert.deepEqual(
        series.map((period) => period.from.getTime()),
        reportPeriods(range.from, range.to, unit).map((period) => period.from.getTime()),
      );
      for (const period of series) {
        const alone = await rawLeadSlaReport(database.db, period);
        const label = `${unit} of ${period.from.toISOString()} in [${range.from.toISOString()}, ${range.to.toISOString()})`;
        assert.deepEqual(period.speedToLead, alone.speedToLead, label);
        assert.deepEqual(period.conversion, alone.conversion, label);
      }
    }
  });

  test('a late breach re-resolves a met clock as late; a late met clock covers the breach', async () => {
    const leadId = `${prefix}late-breach`;
    const t = SPAN_FROM + 30 * DAY + 13 * HOUR;
    const lead: PlannedLead = {
      leadId,
      tier: 1,
      source: 'web',
      events: [
        { type: 'received', at: t, payload: { stage: 'MQL', profile: { source: 'web' } } },
        { type: 'accepted', at: t + 5 * MINUTE, payload: {} },
        { type: 'contact-attempted', at: t + 40 * MINUTE, payload: {} },
        { type: 'speed-to-lead-met', at: t + 40 * MINUTE, payload: { startedAt: iso(t), breached: false, businessMinutes: 40 } },
        { type: 'sla-breached', at: t + 15 * MINUTE, payload: { deadline: 'speed-to-lead' } },
      ],
    };
    leads.push(lead);
    const [received, accepted, attempt, metEvent, breachEvent] = auditEvents(lead);
    const range = { from: new Date(t - HOUR), to: new Date(t + DAY) };
    await recordLeadEvents(database.db, [received!, accepted!]);
    await recordLeadEvents(database.db, [breachEvent!]);
    let report = await leadSlaReport(range);
    assert.equal(report.speedToLead.byTier[0]!.breachedUnmet, 1, 'breached and not (yet) met');
    await recordLeadEvents(database.db, [attempt!, metEvent!]);
    report = await leadSlaReport(range);
    assert.deepEqual([report.speedToLead.byTier[0]!.metLate, report.speedToLead.byTier[0]!.breachedUnmet], [1, 0], 'the met clock covers the breach, late');
    assert.deepEqual(report, await rawLeadSlaReport(database.db, range));
    await assertRollupCurrent();
  });

  test('erasure anonymises the audit and changes no figure; the rollup holds no personal data', async () => {
    const ranges = windows(12);
    const before = await Promise.all(ranges.map((range) => leadSlaReport(range)));
    const erased = [`${prefix}3`, `${prefix}reengaged`, `${prefix}uncovered`, `${prefix}17`];
    for (const leadId of erased) {
      await eraseLead({ db: database.db, client: env.client }, leadId, { actor: 'ops-test', reason: 'DSR', at: new Date() });
    }
    const after = await Promise.all(ranges.map((range) => leadSlaReport(range)));
    assert.deepEqual(after, before, 'every figure as before the erasure');
    await assertSameAsRaw(ranges, 'after erasure');
    const holding = await database.db.execute(
      sql`select count(*)::int as n from lead_report_leads r where r::text like '%example.com%' or r::text like '%Company %'`,
    );
    const [row] = (Array.isArray(holding) ? holding : (holding as { rows: unknown[] }).rows) as Array<{ n: number }>;
    assert.equal(row!.n, 0, 'no e-mail or company in the rollup');
  });

  test('a write still uncommitted when the copy caught up reaches it once committed, though a later write was seen first', async () => {
    const t = SPAN_FROM + 45 * DAY + 10 * HOUR;
    const range = { from: new Date(t - DAY), to: new Date(t + 2 * DAY) };
    const planned = (name: string): PlannedLead => ({
      leadId: `${prefix}${name}`,
      tier: 2,
      source: 'event',
      events: [
        { type: 'received', at: t, payload: { stage: 'MQL', profile: { source: 'event' } } },
        { type: 'accepted', at: t + HOUR, payload: {} },
      ],
    });
    const [early, late] = [planned('open-early'), planned('committed-late')];
    leads.push(early, late);
    const before = await leadSlaReport(range);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let written!: () => void;
    const earlyWritten = new Promise<void>((resolve) => (written = resolve));
    // The early lead's transaction takes its transaction ID first and commits last.
    const earlyCommit = database.db.transaction(async (tx) => {
      await recordLeadEvents(tx as unknown as typeof database.db, auditEvents(early));
      written();
      await held;
    });
    await earlyWritten;
    await recordLeadEvents(database.db, auditEvents(late));
    const seenLateOnly = await leadSlaReport(range);
    assert.equal(seenLateOnly.conversion.all.mql, before.conversion.all.mql + 1, 'the committed lead counts, the open one not yet');
    assert.deepEqual(seenLateOnly, await rawLeadSlaReport(database.db, range));
    release();
    await earlyCommit;
    const seenBoth = await leadSlaReport(range);
    assert.equal(seenBoth.conversion.all.mql, before.conversion.all.mql + 2, 'the early transaction\'s lead counts once it committed');
    assert.deepEqual(seenBoth, await rawLeadSlaReport(database.db, range));
  });

  test('a deleted history takes its lead out of the rollup and out of the report', async () => {
    const gone = [`${prefix}5`, `${prefix}twice`, `${prefix}long`];
    await database.db.execute(sql`delete from lead_events where lead_id in (${sql.join(gone.map((id) => sql`${id}`), sql`, `)})`);
    const left = await database.db.execute(sql`select count(*)::int as n from lead_report_leads where lead_id in (${sql.join(gone.map((id) => sql`${id}`), sql`, `)})`);
    const [row] = (Array.isArray(left) ? left : (left as { rows: unknown[] }).rows) as Array<{ n: number }>;
    assert.equal(row!.n, 0);
    await assertRollupCurrent();
    await assertSameAsRaw(windows(16), 'after deleting histories');
  });
});

describe('the handoff summary in SQL equals the summary of the listed deals', () => {
  let database: TestDatabase;
  const rand = random(SEED + 1);
  const SALES = ['rep-a', 'rep-b', 'rep-c', 'Rep-B'];
  const CS = ['cs-a', 'cs-b', null];
  // Delays whose hours land on a tie at 4 decimals, or next to one, and zeros: the rounding before the percentile must match the list's.
  const DELAYS = [0, 0, 0, 0.003, 0.009, 0.015, 0.027, 0.0030000001, 1.5, 0.75, 90.003, 59.997, 1e-9, 1234.5678, null];
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;

  before(async () => {
    database = await createTestDatabase();
    const dealRows = [];
    const milestoneRows: Array<typeof dealMilestones.$inferInsert> = [];
    for (let i = 0; i < 400; i += 1) {
      const dealId = `hd-${String(i).padStart(4, '0')}`;
      // Some deals share their win instant (the page's keyset must order them by ID); some are won to the microsecond apart.
      const won = new Date(SPAN_FROM + (i % 7 === 0 ? 10 * DAY : Math.floor(rand() * SPAN_DAYS * DAY)));
      dealRows.push({
        dealId,
        workflowId: `deal-${dealId}`,
        accountName: `Account ${i}`,
        amount: 1000,
        currency: 'EUR',
        salesOwnerId: pick(SALES),
        csOwnerId: pick(CS),
        stage: 'ONBOARDING',
        handoffState: 'on-track',
        policyVersion: 'test',
        signedAt: won,
        closedWonAt: won,
        lastEventSeq: 1,
        createdAt: won,
        updatedAt: won,
      });
      // A few deals have no milestone yet (the report lists only deals with one); one has an incident milestone.
      const kinds = i % 23 === 0 ? [] : i % 31 === 0 ? (['dossier', 'kickoff', 'incident-critical'] as const) : (['dossier', 'kickoff', 'qbr'] as const);
      kinds.forEach((kind, index) => {
        const due = new Date(won.getTime() + (index + 1) * 2 * DAY);
        const roll = rand();
        const done = roll < 0.75;
        const late = pick(DELAYS);
        milestoneRows.push({
          dealId,
          milestone: kind === 'qbr' ? 'qbr-1' : kind,
          kind,
          workflowId: `deal-${dealId}`,
          startedAt: won,
          dueAt: due,
          doneAt: done ? new Date(due.getTime() + (late ?? 0) * MINUTE) : null,
          actor: done ? 'test' : null,
          breached: done ? (late ?? 0) > 0 : roll < 0.9,
          businessMinutesTaken: null,
          businessMinutesLate: done ? late : null,
          lastEventSeq: 1,
          updatedAt: won,
        });
      });
    }
    await database.db.insert(deals).values(dealRows);
    await database.db.insert(dealMilestones).values(milestoneRows);
  });
  after(async () => {
    await database?.drop();
  });

  function filters(count: number): HandoffFilters[] {
    const list: HandoffFilters[] = [
      { from: new Date(SPAN_FROM - DAY), to: new Date(SPAN_FROM + 2 * SPAN_DAYS * DAY) },
      { from: new Date(SPAN_FROM + 10 * DAY), to: new Date(SPAN_FROM + 10 * DAY + 1) },
      { from: new Date(SPAN_FROM - 9 * DAY), to: new Date(SPAN_FROM - 8 * DAY) },
    ];
    while (list.length < count) {
      const start = SPAN_FROM + Math.floor(rand() * SPAN_DAYS * DAY);
      const range = { from: new Date(start), to: new Date(start + 1 + Math.floor(rand() * 30 * DAY)) };
      const roll = rand();
      list.push(roll < 0.2 ? { ...range, salesOwner: pick(SALES) } : roll < 0.4 ? { ...range, csOwner: pick(CS) ?? 'cs-none' } : range);
    }
    return list;
  }

  test('any range and owner filter: the SQL summary is the summary of every deal listed', async () => {
    let delays = 0;
    for (const filter of filters(40)) {
      const label = JSON.stringify(filter);
      const report = await handoffReport(database.db, filter);
      assert.deepEqual(report.summary, summarizeHandoffs(report.deals), label);
      assert.deepEqual(await handoffSummary(database.db, filter), report.summary, label);
      delays += report.summary.milestones.reduce((sum, kind) => sum + kind.delayBusinessHours.count, 0);
    }
    assert.ok(delays > 500, 'the ranges held delays to take percentiles of');
  });

  test('pages by cursor or offset list the same deals in the same order, with the summary over all of them', async () => {
    for (const filter of filters(12)) {
      const full = await handoffReport(database.db, filter);
      for (const limit of [1, 7, 50]) {
        const byCursor = [];
        let after: { at: string; id: string } | undefined;
        for (;;) {
          const page = await handoffPage(database.db, filter, { limit, after });
          assert.ok(page.deals.length <= limit);
          assert.deepEqual(page.summary, full.summary);
          byCursor.push(...page.deals);
          if (page.next === null) break;
          assert.equal(page.deals.length, limit, 'a page followed by another is full');
          after = page.next;
        }
        assert.deepEqual(byCursor, full.deals, `${JSON.stringify(filter)} by ${limit}`);
        const third = await handoffPage(database.db, filter, { limit, offset: 2 * limit });
        assert.deepEqual(third.deals, full.deals.slice(2 * limit, 3 * limit));
        assert.equal(third.next === null, full.deals.length <= 3 * limit);
      }
    }
  });
});
