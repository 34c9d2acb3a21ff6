import { and, asc, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import type { Database } from './client.js';
import { dealMilestones, deals } from './schema.js';
import { reportPeriods, type ReportPeriodUnit } from '../domain/business-time.js';
import { icpTiers } from '../domain/policy.js';
import { invalidRecordFlags } from '../domain/data-quality.js';
import {
  attemptsRow,
  conversionRow,
  conversionTargetRow,
  HOUR_DECIMALS,
  milestoneOwnerRole,
  milestoneStatus,
  rejectionCounts,
  rounded,
  salesCycleRow,
  speedToLeadRow,
  stageAgingRow,
  winRateRow,
  agingStages,
  summarizeHandoffs,
  type ByTier,
  type HandoffMilestone,
  type HandoffSummary,
  type LeadSlaReport,
  type PipelineHygiene,
  type DataQuality,
  dataQualityRow,
  pipelineHygieneRow,
} from '../domain/report-stats.js';

/**
 * The management reports, read from the audit in Postgres only: deals + deal_milestones for handoffs,
 * lead_report_facts (written with each lead event) for lead SLAs. Never Temporal: closed workflows are
 * purged after the namespace's retention, the audit is kept.
 *
 * The lead report is one statement over the window's report facts (their `at` index), with per-lead
 * look-ups on lead_events only at the range's edges; aggregates, percentiles included, run in SQL, so a
 * window of a million events never travels to the API.
 */

export interface ReportRange {
  /** Inclusive. */
  from: Date;
  /** Exclusive. */
  to: Date;
}

/**
 * Runs one report query in a transaction of its own with JIT off: the planner's estimates for these
 * aggregates pass jit_above_cost, and compiling them cost more (~0.5-1 s) than running them. postgres.js
 * answers raw SQL with an array, PGlite (npm start) with { rows }.
 */
async function rowsOf<T>(db: Database, query: SQL): Promise<T[]> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`set local jit = off`);
    // Room for a 90-day window's facts (about 200k narrow rows per million events) in memory: without it the
    // materialized window and the per-lead aggregate spill to temporary files.
    await tx.execute(sql`set local work_mem = '32MB'`);
    const result = (await tx.execute(query)) as unknown as T[] | { rows: T[] };
    return Array.isArray(result) ? result : result.rows;
  });
}

const instant = (date: Date) => sql`${date.toISOString()}::timestamptz`;

// ---- GET /reports/handoffs ---------------------------------------------------------------------------

export interface HandoffFilters extends ReportRange {
  csOwner?: string;
  salesOwner?: string;
}

export interface HandoffDeal {
  dealId: string;
  accountName: string;
  salesOwnerId: string;
  csOwnerId: string | null;
  stage: string;
  policyVersion: string;
  signedAt: string;
  closedWonAt: string;
  milestones: HandoffMilestone[];
}

export interface HandoffReport {
  deals: HandoffDeal[];
  summary: HandoffSummary;
}

/**
 * Each deal won in the range (closed_won_at, indexed) with its milestones due vs done. The delay is the
 * business minutes past due the deal workflow recorded on the deal's own calendar (the policy snapshot's
 * default calendar) when the milestone was done; nothing is recomputed here.
 */
export async function handoffReport(db: Database, filters: HandoffFilters): Promise<HandoffReport> {
  const rows = await db
    .select({
      dealId: deals.dealId,
      accountName: deals.accountName,
      salesOwnerId: deals.salesOwnerId,
      csOwnerId: deals.csOwnerId,
      stage: deals.stage,
      policyVersion: deals.policyVersion,
      signedAt: deals.signedAt,
      closedWonAt: deals.closedWonAt,
      milestone: dealMilestones.milestone,
      kind: dealMilestones.kind,
      startedAt: dealMilestones.startedAt,
      dueAt: dealMilestones.dueAt,
      doneAt: dealMilestones.doneAt,
      breached: dealMilestones.breached,
      businessMinutesLate: dealMilestones.businessMinutesLate,
    })
    .from(deals)
    .innerJoin(dealMilestones, eq(dealMilestones.dealId, deals.dealId))
    .where(
      and(
        gte(deals.closedWonAt, filters.from),
        lt(deals.closedWonAt, filters.to),
        filters.csOwner === undefined ? undefined : eq(deals.csOwnerId, filters.csOwner),
        filters.salesOwner === undefined ? undefined : eq(deals.salesOwnerId, filters.salesOwner),
      ),
    )
    .orderBy(asc(deals.closedWonAt), asc(deals.dealId), asc(dealMilestones.dueAt), asc(dealMilestones.milestone));

  const byDeal = new Map<string, HandoffDeal>();
  for (const row of rows) {
    let deal = byDeal.get(row.dealId);
    if (!deal) {
      deal = {
        dealId: row.dealId,
        accountName: row.accountName,
        salesOwnerId: row.salesOwnerId,
        csOwnerId: row.csOwnerId,
        stage: row.stage,
        policyVersion: row.policyVersion,
        signedAt: row.signedAt.toISOString(),
        closedWonAt: row.closedWonAt.toISOString(),
        milestones: [],
      };
      byDeal.set(row.dealId, deal);
    }
    const owner = milestoneOwnerRole(row.kind);
    const doneAt = row.doneAt?.toISOString() ?? null;
    deal.milestones.push({
      milestone: row.milestone,
      kind: row.kind,
      owner,
      ownerId: owner === 'sales' ? row.salesOwnerId : row.csOwnerId,
      startedAt: row.startedAt.toISOString(),
      dueAt: row.dueAt.toISOString(),
      doneAt,
      breached: row.breached,
      status: milestoneStatus({ doneAt, breached: row.breached }),
      delayBusinessHours: doneAt === null ? null : rounded((row.businessMinutesLate ?? 0) / 60, HOUR_DECIMALS),
    });
  }
  const list = [...byDeal.values()];
  return { deals: list, summary: summarizeHandoffs(list) };
}

// ---- GET /reports/lead-sla ---------------------------------------------------------------------------

/** One figure row of the lead query: `tier` null on a total over every tier; a..e as each section names them. */
interface LeadSqlRow {
  section: 'speed-to-lead' | 'attempts' | 'conversion' | 'conversion-by-source' | 'rejections' | 'stage-aging' | 'cycle' | 'closes';
  tier: number | null;
  source: string | null;
  reason: string | null;
  a: number | null;
  b: number | null;
  c: number | null;
  d: number | null;
  e: number | null;
}

/**
 * The whole lead report in one statement, so every section reads one snapshot and the window's events are
 * fetched once: `w` takes the window's report facts (lead_report_facts: the nine event types that matter,
 * typed, with the lead's tier and source) by time, and every section aggregates `w`. Per-lead look-ups on
 * lead_events remain only where a clock crosses the range's edges.
 *
 * A speed-to-lead clock counts once, in the range holding its end: its `speed-to-lead-met` event (late when
 * the event says so, or when a speed-to-lead breach of the lead falls between the clock's start and the met:
 * a reassignment resets the flag, not the fact); or, for a clock never met, its breach (once per lead).
 * Attempts per lead: the contact attempts logged in the range by each lead accepted in the range.
 * Conversion: distinct leads that became MQL (at intake or later), were accepted, qualified, won in the range.
 * Stage aging: a stay in MQL, SAL or SQL counts in the range holding its end (accepted, qualified, closed),
 * measured from the lead's latest entry into that stage in the range (wall-clock hours; a stay that began
 * before the range is left out rather than cut short). Sales cycle: a win's days from the lead's first MQL
 * entry in the range. Win rate: won ÷ closed (won or lost) in the range.
 */
/**
 * The window's report facts (`w`) and its speed-to-lead clocks (`clocks`), as the report and its per-period
 * series share them. `period`, for the series, buckets each clock by the instant it ended (met or breached);
 * a never-met clock then counts once per lead and period, as it would in a report over that period alone.
 */
function clockCtes(range: ReportRange, period?: (at: SQL) => SQL): SQL {
  const from = instant(range.from);
  const to = instant(range.to);
  const bucket = (at: SQL) => (period ? period(at) : sql`null::timestamptz`);
  return sql`
    w as materialized (
      select f.lead_id, f.tier, f.source, f.type, f.at, f.counts, f.business_minutes as minutes, f.met_late as flagged,
        f.clock_started_at as started_at, f.reason
      from lead_report_facts f
      where f.at >= ${from} and f.at < ${to}
    ),
    met as (
      select m.tier, m.minutes, true as met,
        m.flagged or bool_or(b.lead_id is not null) or (m.started_at < ${from} and exists (
          select 1 from lead_events x
          where x.lead_id = m.lead_id and x.type = 'sla-breached' and x.payload->>'deadline' = 'speed-to-lead'
            and x.at >= m.started_at and x.at < ${from}
        )) as breached,
        ${bucket(sql`m.at`)} as period
      from w m
      left join w b on b.lead_id = m.lead_id and b.type = 'sla-breached' and b.counts and b.at >= m.started_at and b.at <= m.at
      where m.type = 'speed-to-lead-met'
      group by m.lead_id, m.at, m.tier, m.minutes, m.flagged, m.started_at
    ),
    unmet as (
      select distinct on (lead_id, period) tier, null::float8 as minutes, false as met, true as breached, period
      from (
        select b.lead_id, b.tier, b.at, ${bucket(sql`b.at`)} as period
        from w b
        left join w m on m.lead_id = b.lead_id and m.type = 'speed-to-lead-met' and m.started_at <= b.at and m.at >= b.at
        where b.type = 'sla-breached' and b.counts and m.lead_id is null
          and not exists (
            select 1 from lead_events x
            where x.lead_id = b.lead_id and x.type = 'speed-to-lead-met' and x.at >= ${to} and (x.payload->>'startedAt')::timestamptz <= b.at
          )
      ) breaches
      order by lead_id, period, at
    ),
    clocks as (select * from met union all select * from unmet)`;
}

/** A speed-to-lead row's figures over `clocks`: met on time, met late, never met, median and p90 minutes. */
const clockFigures = sql`
  (count(*) filter (where met and not breached))::float8 as a,
  (count(*) filter (where met and breached))::float8 as b,
  (count(*) filter (where not met))::float8 as c,
  (percentile_cont(0.5) within group (order by minutes))::float8 as d,
  (percentile_cont(0.9) within group (order by minutes))::float8 as e`;

function leadSlaQuery(range: ReportRange): SQL {
  return sql`
    with ${clockCtes(range)},
    stays as (
      select x.tier, 'MQL' as stage, extract(epoch from x.at - max(e.at)) / 3600 as hours
      from w x join w e on e.lead_id = x.lead_id and e.type in ('received', 'stage-changed') and e.counts and e.at <= x.at
      where x.type = 'accepted'
      group by x.lead_id, x.at, x.tier
      union all
      select x.tier, 'SAL', extract(epoch from x.at - max(e.at)) / 3600
      from w x join w e on e.lead_id = x.lead_id and e.type = 'accepted' and e.at <= x.at
      where x.type = 'qualified'
      group by x.lead_id, x.at, x.tier
      union all
      select x.tier, 'SQL', extract(epoch from x.at - max(e.at)) / 3600
      from w x join w e on e.lead_id = x.lead_id and e.type = 'qualified' and e.at <= x.at
      where x.type = 'closed'
      group by x.lead_id, x.at, x.tier
    ),
    cycles as (
      select x.tier, extract(epoch from x.at - min(e.at)) / 86400 as days
      from w x join w e on e.lead_id = x.lead_id and e.type in ('received', 'stage-changed') and e.counts and e.at <= x.at
      where x.type = 'closed' and x.counts
      group by x.lead_id, x.at, x.tier
    ),
    per_lead as (
      select min(tier) as tier, min(source) as source,
        bool_or(type in ('received', 'stage-changed') and counts) as mql,
        bool_or(type = 'accepted') as sal,
        bool_or(type = 'qualified') as qualified,
        bool_or(type = 'closed' and counts) as won,
        count(*) filter (where type = 'contact-attempted') as attempts
      from w
      group by lead_id
    )
    select 'speed-to-lead' as section, case when grouping(tier) = 1 then null else tier end as tier, null::text as source, null::text as reason, ${clockFigures}
    from clocks
    group by grouping sets ((tier), ())
    union all
    select 'attempts', case when grouping(tier) = 1 then null else tier end, null, null,
      count(*)::float8, coalesce(sum(attempts), 0)::float8, avg(attempts)::float8, (percentile_cont(0.5) within group (order by attempts))::float8, null
    from per_lead
    where sal
    group by grouping sets ((tier), ())
    union all
    select 'conversion', case when grouping(tier) = 1 then null else tier end, null, null,
      (count(*) filter (where mql))::float8, (count(*) filter (where sal))::float8, (count(*) filter (where qualified))::float8, (count(*) filter (where won))::float8, null
    from per_lead
    group by grouping sets ((tier), ())
    union all
    select 'conversion-by-source', null, source, null,
      (count(*) filter (where mql))::float8, (count(*) filter (where sal))::float8, (count(*) filter (where qualified))::float8, (count(*) filter (where won))::float8, null
    from per_lead
    group by source
    union all
    select 'stage-aging', case when grouping(tier) = 1 then null else tier end, null, stage,
      count(*)::float8, (percentile_cont(0.5) within group (order by hours))::float8, (percentile_cont(0.9) within group (order by hours))::float8, null, null
    from stays
    group by grouping sets ((stage, tier), (stage))
    union all
    select 'cycle', case when grouping(tier) = 1 then null else tier end, null, null,
      count(*)::float8, avg(days)::float8, (percentile_cont(0.5) within group (order by days))::float8, null, null
    from cycles
    group by grouping sets ((tier), ())
    union all
    select 'closes', case when grouping(tier) = 1 then null else tier end, null, null,
      count(*)::float8, (count(*) filter (where counts))::float8, null, null, null
    from w
    where type = 'closed'
    group by grouping sets ((tier), ())
    union all
    select 'rejections', tier, source, reason, count(*)::float8, null, null, null, null
    from w
    where type = 'returned-to-nurture'
    group by tier, source, reason`;
}

/** The total and tiers 1, 2, 3 (and any other tier found) of one section, zeros where nothing happened. */
function byTier<T>(
  rows: readonly LeadSqlRow[],
  section: LeadSqlRow['section'],
  shape: (row: LeadSqlRow | undefined) => T,
  only: (row: LeadSqlRow) => boolean = () => true,
): ByTier<T> {
  const ofSection = rows.filter((row) => row.section === section && only(row));
  const found = ofSection.flatMap((row) => (row.tier === null ? [] : [row.tier]));
  const tiers = [...new Set<number>([...icpTiers, ...found])].sort((a, b) => a - b);
  return {
    all: shape(ofSection.find((row) => row.tier === null)),
    byTier: tiers.map((tier) => ({ tier, ...shape(ofSection.find((row) => row.tier === tier)) })),
  };
}

const count = (value: number | null | undefined) => value ?? 0;

export async function leadSlaReport(db: Database, range: ReportRange): Promise<LeadSlaReport> {
  const [rows, [policy]] = await Promise.all([
    rowsOf<LeadSqlRow>(db, leadSlaQuery(range)),
    rowsOf<{ target: number | string | null }>(
      db,
      sql`select (document->'funnel'->>'mqlToSqlTarget')::float8 as target from policies order by created_at desc, version desc limit 1`,
    ),
  ]);
  const conversion = byTier(rows, 'conversion', (row) => conversionRow({ mql: count(row?.a), sal: count(row?.b), sql: count(row?.c), won: count(row?.d) }));
  return {
    speedToLead: byTier(rows, 'speed-to-lead', (row) =>
      speedToLeadRow({ metOnTime: count(row?.a), metLate: count(row?.b), breachedUnmet: count(row?.c), median: row?.d ?? null, p90: row?.e ?? null }),
    ),
    attemptsPerLead: byTier(rows, 'attempts', (row) => attemptsRow({ leads: count(row?.a), attempts: count(row?.b), mean: row?.c ?? null, median: row?.d ?? null })),
    conversion,
    mqlToSql: conversionTargetRow(conversion.all.sqlPerMql, policy?.target === null || policy?.target === undefined ? null : Number(policy.target)),
    conversionBySource: rows
      .filter((row) => row.section === 'conversion-by-source')
      .map((row) => ({ source: row.source, ...conversionRow({ mql: count(row.a), sal: count(row.b), sql: count(row.c), won: count(row.d) }) }))
      .sort((a, b) => b.mql - a.mql || (a.source ?? '').localeCompare(b.source ?? '')),
    stageAging: Object.fromEntries(
      agingStages.map((stage) => [
        stage.toLowerCase(),
        byTier(rows, 'stage-aging', (row) => stageAgingRow({ stays: count(row?.a), median: row?.b ?? null, p90: row?.c ?? null }), (row) => row.reason === stage),
      ]),
    ) as LeadSlaReport['stageAging'],
    salesCycle: byTier(rows, 'cycle', (row) => salesCycleRow({ won: count(row?.a), mean: row?.b ?? null, median: row?.c ?? null })),
    winRate: byTier(rows, 'closes', (row) => winRateRow({ closed: count(row?.a), won: count(row?.b) })),
    rejections: rejectionCounts(
      rows.filter((row) => row.section === 'rejections').map((row) => ({ tier: row.tier!, source: row.source, reason: row.reason!, count: count(row.a) })),
    ),
  };
}

// ---- pipeline hygiene (part of GET /reports/lead-sla) --------------------------------------------------

/** Seed 000's measure: an opportunity counts as maintained when its stage and value were reported within a week. */
const HYGIENE_FRESH_MS = 7 * 86_400_000;

/**
 * The open opportunities (leads in SQL now, from the projection) and how many have a next step that is not past
 * due and a stage/value update (or the qualification itself) within the last 7 days, as of `asOf`. A snapshot:
 * the projection knows the stage now, not in the past.
 */
export async function pipelineHygiene(db: Database, asOf: Date): Promise<PipelineHygiene> {
  const freshSince = new Date(asOf.getTime() - HYGIENE_FRESH_MS);
  const [row] = await rowsOf<{ open: number; with_next_step: number; updated: number; maintained: number }>(
    db,
    sql`
      select count(*)::int as open,
        (count(*) filter (where ns.due_at >= ${instant(asOf)}))::int as with_next_step,
        (count(*) filter (where up.at >= ${instant(freshSince)}))::int as updated,
        (count(*) filter (where ns.due_at >= ${instant(asOf)} and up.at >= ${instant(freshSince)}))::int as maintained
      from leads l
      left join lateral (
        select (e.payload->>'dueAt')::timestamptz as due_at from lead_events e
        where e.lead_id = l.lead_id and e.type = 'next-step-set' and e.at <= ${instant(asOf)}
        order by e.seq desc limit 1
      ) ns on true
      left join lateral (
        select max(e.at) as at from lead_events e
        where e.lead_id = l.lead_id and e.type in ('qualified', 'opportunity-updated') and e.at <= ${instant(asOf)}
      ) up on true
      where l.stage = 'SQL'
    `,
  );
  return pipelineHygieneRow({ asOf, open: count(row?.open), withNextStep: count(row?.with_next_step), updatedThisWeek: count(row?.updated), maintained: count(row?.maintained) });
}

// ---- data quality (part of GET /reports/lead-sla) -------------------------------------------------------

/**
 * The leads taken in during the range and how many are valid records: no intake flag (`email-invalid`,
 * `company-missing`) and no bounced e-mail since. The target is the current policy's (`dataQuality`), null when
 * it sets none.
 */
export async function dataQuality(db: Database, range: ReportRange): Promise<DataQuality> {
  const flags = sql.join(
    invalidRecordFlags.map((flag) => sql`${flag}`),
    sql`, `,
  );
  const [row] = await rowsOf<{ records: number; valid: number; target: number | string | null }>(
    db,
    sql`
      select count(l.lead_id)::int as records,
        (count(l.lead_id) filter (where not exists (
          select 1 from lead_events e
          where e.lead_id = l.lead_id and e.type = 'record-flagged' and e.payload->>'flag' in (${flags})
        )))::int as valid,
        (select (p.document->'dataQuality'->>'validRecordsTarget')::float8 from policies p order by p.created_at desc, p.version desc limit 1) as target
      from leads l
      where l.created_at >= ${instant(range.from)} and l.created_at < ${instant(range.to)}
    `,
  );
  const target = row?.target === null || row?.target === undefined ? null : Number(row.target);
  return dataQualityRow({ records: count(row?.records), valid: count(row?.valid), target });
}

// ---- GET /reports/plan --------------------------------------------------------------------------------

/** What the funnel did in a window: the planner's measured defaults and the run rate it compares against. */
export interface PlanMeasures {
  /** Leads that came in (intake) in the window, MQL or not. */
  leads: number;
  mqls: number;
  sals: number;
  sqls: number;
  /** Leads closed in the window, and how many of them won. */
  closed: number;
  won: number;
  /** The currency the deal figures are in: the one asked for, or the window's most frequent. */
  currency: string | null;
  /** Deals won in the window in that currency, their amounts summed. */
  deals: number;
  revenue: number;
}

/**
 * The window's funnel in one statement over the report facts (counted as GET /reports/lead-sla counts its
 * conversion: distinct leads per stage reached) and the deals won in it (deals_closed_won_at_idx).
 */
export async function planMeasures(db: Database, range: ReportRange, currency?: string): Promise<PlanMeasures> {
  const from = instant(range.from);
  const to = instant(range.to);
  const [funnel] = await rowsOf<{ leads: number; mqls: number; sals: number; sqls: number; closed: number; won: number }>(
    db,
    sql`
      with per_lead as (
        select bool_or(type = 'received') as received,
          bool_or(type in ('received', 'stage-changed') and counts) as mql,
          bool_or(type = 'accepted') as sal,
          bool_or(type = 'qualified') as qualified
        from lead_report_facts
        where at >= ${from} and at < ${to} and type in ('received', 'stage-changed', 'accepted', 'qualified')
        group by lead_id
      ),
      closes as (
        select count(*)::float8 as closed, (count(*) filter (where counts))::float8 as won
        from lead_report_facts
        where at >= ${from} and at < ${to} and type = 'closed'
      )
      select (count(*) filter (where received))::float8 as leads, (count(*) filter (where mql))::float8 as mqls,
        (count(*) filter (where sal))::float8 as sals, (count(*) filter (where qualified))::float8 as sqls,
        (select closed from closes) as closed, (select won from closes) as won
      from per_lead`,
  );
  const won = await rowsOf<{ currency: string; deals: number; revenue: number }>(
    db,
    sql`
      select currency, count(*)::float8 as deals, sum(amount)::float8 as revenue
      from deals
      where closed_won_at >= ${from} and closed_won_at < ${to}
      group by currency
      order by count(*) desc, currency`,
  );
  const chosen = currency === undefined ? won[0] : won.find((row) => row.currency === currency);
  return {
    leads: count(funnel?.leads),
    mqls: count(funnel?.mqls),
    sals: count(funnel?.sals),
    sqls: count(funnel?.sqls),
    closed: count(funnel?.closed),
    won: count(funnel?.won),
    currency: currency ?? chosen?.currency ?? null,
    deals: count(chosen?.deals),
    revenue: count(chosen?.revenue),
  };
}

// ---- the dashboard's lead breakdowns -------------------------------------------------------------------

/** Speed-to-lead breaches in a range by the owner at the time and the queue the lead was routed through, and the escalation levels reached. */
export interface LeadBreachBreakdown {
  byOwner: Array<{ ownerId: string | null; breaches: number }>;
  byQueue: Array<{ queueId: string | null; breaches: number }>;
  escalations: Array<{ level: number; action: string | null; escalations: number; leads: number }>;
}

export interface LeadBreachRow {
  leadId: string;
  workflowId: string;
  at: string;
  ownerId: string | null;
  queueId: string | null;
  tier: number | null;
  stage: string | null;
}

/**
 * The breaches come from lead_events by type and time (lead_events_type_at_idx); each one's queue is the
 * lead's latest routing before it (lead_events_lead_seq_idx), since reassignments stay in their queue.
 */
const breachesInRange = (range: ReportRange) => sql`
  select b.id, b.lead_id, b.workflow_id, b.at, b.payload->>'ownerId' as owner_id, r.queue_id
  from lead_events b
  left join lateral (
    select x.payload->>'queueId' as queue_id from lead_events x
    where x.lead_id = b.lead_id and x.type = 'routed' and x.seq < b.seq
    order by x.seq desc limit 1
  ) r on true
  where b.type = 'sla-breached' and b.at >= ${instant(range.from)} and b.at < ${instant(range.to)} and b.payload->>'deadline' = 'speed-to-lead'`;

export async function leadBreachBreakdown(db: Database, range: ReportRange): Promise<LeadBreachBreakdown> {
  const rows = await rowsOf<{ section: 'owner' | 'queue' | 'escalation'; key: string | null; level: number | null; a: number; b: number | null }>(
    db,
    sql`
      with breaches as materialized (${breachesInRange(range)})
      select 'owner' as section, owner_id as key, null::int as level, count(*)::float8 as a, null::float8 as b from breaches group by owner_id
      union all
      select 'queue', queue_id, null, count(*)::float8, null from breaches group by queue_id
      union all
      select 'escalation', payload->>'action', case when payload->>'level' ~ '^[0-9]{1,4}$' then (payload->>'level')::int end,
        count(*)::float8, count(distinct lead_id)::float8
      from lead_events
      where type = 'escalated' and at >= ${instant(range.from)} and at < ${instant(range.to)}
      group by 2, 3`,
  );
  const most = <T extends { breaches: number }>(key: (row: T) => string) => (a: T, b: T) => b.breaches - a.breaches || key(a).localeCompare(key(b));
  return {
    byOwner: rows
      .filter((row) => row.section === 'owner')
      .map((row) => ({ ownerId: row.key, breaches: row.a }))
      .sort(most((row) => row.ownerId ?? '')),
    byQueue: rows
      .filter((row) => row.section === 'queue')
      .map((row) => ({ queueId: row.key, breaches: row.a }))
      .sort(most((row) => row.queueId ?? '')),
    escalations: rows
      .filter((row) => row.section === 'escalation' && row.level !== null)
      .map((row) => ({ level: row.level!, action: row.key, escalations: row.a, leads: count(row.b) }))
      .sort((a, b) => a.level - b.level || (a.action ?? '').localeCompare(b.action ?? '')),
  };
}

/** One page of the range's breaches, newest first, with the lead's tier and current stage. */
export async function leadBreachPage(db: Database, range: ReportRange, page: { offset: number; limit: number }): Promise<LeadBreachRow[]> {
  const rows = await rowsOf<{ lead_id: string; workflow_id: string; at: Date | string; owner_id: string | null; queue_id: string | null; tier: number | null; stage: string | null }>(
    db,
    sql`
      select b.lead_id, b.workflow_id, b.at, b.owner_id, b.queue_id, l.icp_tier as tier, l.stage
      from (${breachesInRange(range)} order by b.at desc, b.id desc limit ${page.limit} offset ${page.offset}) b
      left join leads l on l.lead_id = b.lead_id
      order by b.at desc, b.id desc`,
  );
  return rows.map((row) => ({
    leadId: row.lead_id,
    workflowId: row.workflow_id,
    at: new Date(row.at).toISOString(),
    ownerId: row.owner_id,
    queueId: row.queue_id,
    tier: row.tier,
    stage: row.stage,
  }));
}

// ---- the lead report per period (the dashboard's series) ----------------------------------------------

export interface LeadSlaPeriod extends ReportRange {
  speedToLead: LeadSlaReport['speedToLead'];
  conversion: LeadSlaReport['conversion'];
}

/**
 * Speed-to-lead and conversion per UTC week or month of the range, in one statement: each period's figures
 * are those GET /reports/lead-sla gives for that period alone (test/api/reports-api.test.ts holds them equal).
 */
export async function leadSlaSeries(db: Database, range: ReportRange, unit: ReportPeriodUnit): Promise<LeadSlaPeriod[]> {
  const truncated = (at: SQL) => sql`greatest(date_trunc(${unit}, ${at} at time zone 'UTC') at time zone 'UTC', ${instant(range.from)})`;
  const rows = await rowsOf<LeadSqlRow & { period: Date | string }>(
    db,
    sql`
      with ${clockCtes(range, truncated)},
      per_lead as (
        select ${truncated(sql`at`)} as period, min(tier) as tier,
          bool_or(type in ('received', 'stage-changed') and counts) as mql,
          bool_or(type = 'accepted') as sal,
          bool_or(type = 'qualified') as qualified,
          bool_or(type = 'closed' and counts) as won
        from w
        group by lead_id, 1
      )
      select 'speed-to-lead' as section, period, case when grouping(tier) = 1 then null else tier end as tier, null::text as source, null::text as reason, ${clockFigures}
      from clocks
      group by grouping sets ((period, tier), (period))
      union all
      select 'conversion', period, case when grouping(tier) = 1 then null else tier end, null, null,
        (count(*) filter (where mql))::float8, (count(*) filter (where sal))::float8, (count(*) filter (where qualified))::float8, (count(*) filter (where won))::float8, null
      from per_lead
      group by grouping sets ((period, tier), (period))`,
  );
  return reportPeriods(range.from, range.to, unit).map((period) => {
    const ofPeriod = rows.filter((row) => new Date(row.period).getTime() === period.from.getTime());
    return {
      ...period,
      speedToLead: byTier(ofPeriod, 'speed-to-lead', (row) =>
        speedToLeadRow({ metOnTime: count(row?.a), metLate: count(row?.b), breachedUnmet: count(row?.c), median: row?.d ?? null, p90: row?.e ?? null }),
      ),
      conversion: byTier(ofPeriod, 'conversion', (row) => conversionRow({ mql: count(row?.a), sal: count(row?.b), sql: count(row?.c), won: count(row?.d) })),
    };
  });
}
