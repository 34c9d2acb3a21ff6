import { sql, type SQL } from 'drizzle-orm';
import { resultRows, type Database } from './client.js';
import { reportPeriods, type ReportPeriodUnit } from '../domain/business-time.js';
import { icpTiers } from '../domain/policy.js';
import { invalidRecordFlags } from '../domain/data-quality.js';
import { factInWindowKnown, FigureTotals, SeriesTotals, type FigureRow, type SectionRow } from '../domain/lead-report-figures.js';
import { leadReportCopyOf, type LeadReportCopy } from './lead-report-copy.js';
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
  share,
  SHARE_DECIMALS,
  kindRank,
  speedToLeadRow,
  stageAgingRow,
  winRateRow,
  agingStages,
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
 * The lead report reads lead_report_leads, one row per lead with its figures resolved at write time
 * (migration 0012), in two statements run side by side; the raw statement over the window's facts
 * (rawLeadSlaQuery) remains its definition and reads the few leads the rollup cannot summarise. Aggregates,
 * percentiles included, run in SQL, so a window of a million events never travels to the API.
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
    // Room for a 90-day window's rows in memory (the materialized window and its sorts would spill to temporary
    // files without it); both settings in one round trip.
    await tx.execute(sql`select set_config('jit', 'off', true), set_config('work_mem', '32MB', true)`);
    return resultRows<T>(await tx.execute(query));
  });
}

/**
 * One round trip, no transaction and no settings: for a statement whose plan stays far below jit_above_cost and
 * whose sorts fit the default work_mem (the handoff report's, over thousands of milestones, not a million events).
 */
async function directRowsOf<T>(db: Database, query: SQL): Promise<T[]> {
  return resultRows<T>(await db.execute(query));
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

/** Where a page of the handoff report starts: after a deal (keyset, the API's cursor) or after `offset` deals (the dashboard's page numbers). */
export interface HandoffPageRequest {
  limit: number;
  /** The last deal of the previous page: its closed_won_at to the microsecond, as `exactInstant` writes it, and its ID. */
  after?: { at: string; id: string };
  offset?: number;
}

export interface HandoffPage extends HandoffReport {
  /** The page's last deal, when another page follows. */
  next: { at: string; id: string } | null;
}

/** An instant as JavaScript's toISOString writes it (milliseconds truncated, as a Date read from Postgres has them). */
const isoText = (column: SQL) => sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
/** An instant to the microsecond: a keyset position that matches its row exactly. */
const exactText = (column: SQL) => sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

interface HandoffSqlRow {
  deal_id: string;
  account_name: string;
  sales_owner_id: string;
  cs_owner_id: string | null;
  stage: string;
  policy_version: string;
  signed_at: string;
  closed_won_at: string;
  position_at: string;
  milestone: string;
  kind: string;
  started_at: string;
  due_at: string;
  done_at: string | null;
  breached: boolean;
  business_minutes_late: number | null;
}

/** The deals the filters select: won in the range (deals_closed_won_at_idx), by owner; only deals with a milestone, as the report lists them. */
function handoffDeals(filters: HandoffFilters): SQL {
  return sql`
    d.closed_won_at >= ${instant(filters.from)} and d.closed_won_at < ${instant(filters.to)}
    ${filters.csOwner === undefined ? sql`` : sql`and d.cs_owner_id = ${filters.csOwner}`}
    ${filters.salesOwner === undefined ? sql`` : sql`and d.sales_owner_id = ${filters.salesOwner}`}`;
}

/**
 * Each deal won in the range (closed_won_at, indexed) with its milestones due vs done, ordered by closed_won_at
 * then deal ID; the summary over every one of them. The delay is the business minutes past due the deal
 * workflow recorded on the deal's own calendar (the policy snapshot's default calendar) when the milestone was
 * done; nothing is recomputed here. Instants come back as the text the report shows (isoText).
 */
export async function handoffReport(db: Database, filters: HandoffFilters): Promise<HandoffReport> {
  const [deals, summary] = await Promise.all([handoffDealRows(db, filters), handoffSummary(db, filters)]);
  return { deals: deals.deals, summary };
}

/** One page of the report's deals (`page.limit` of them, from `page.after` or `page.offset`), with the summary over all of them. */
export async function handoffPage(db: Database, filters: HandoffFilters, page: HandoffPageRequest): Promise<HandoffPage> {
  const [deals, summary] = await Promise.all([handoffDealRows(db, filters, page), handoffSummary(db, filters)]);
  return { ...deals, summary };
}

async function handoffDealRows(db: Database, filters: HandoffFilters, page?: HandoffPageRequest): Promise<{ deals: HandoffDeal[]; next: HandoffPage['next'] }> {
  // A page reads its deals first (one more than asked: is there a next page?), then their milestones.
  const chosen = page
    ? sql`(
        select d.* from deals d
        where ${handoffDeals(filters)}
          ${page.after ? sql`and (d.closed_won_at, d.deal_id) > (${page.after.at}::timestamptz, ${page.after.id})` : sql``}
          and exists (select 1 from deal_milestones m where m.deal_id = d.deal_id)
        order by d.closed_won_at, d.deal_id
        limit ${page.limit + 1} offset ${page.offset ?? 0}
      )`
    : sql`deals`;
  const rows = await directRowsOf<HandoffSqlRow>(
    db,
    sql`
      select d.deal_id, d.account_name, d.sales_owner_id, d.cs_owner_id, d.stage, d.policy_version,
        ${isoText(sql`d.signed_at`)} as signed_at, ${isoText(sql`d.closed_won_at`)} as closed_won_at, ${exactText(sql`d.closed_won_at`)} as position_at,
        m.milestone, m.kind, ${isoText(sql`m.started_at`)} as started_at, ${isoText(sql`m.due_at`)} as due_at,
        ${isoText(sql`m.done_at`)} as done_at, m.breached, m.business_minutes_late
      from ${chosen} d
      join deal_milestones m on m.deal_id = d.deal_id
      where ${handoffDeals(filters)}
      order by d.closed_won_at, d.deal_id, m.due_at, m.milestone`,
  );

  const byDeal = new Map<string, HandoffDeal>();
  const positions = new Map<string, string>();
  for (const row of rows) {
    let deal = byDeal.get(row.deal_id);
    if (!deal) {
      deal = {
        dealId: row.deal_id,
        accountName: row.account_name,
        salesOwnerId: row.sales_owner_id,
        csOwnerId: row.cs_owner_id,
        stage: row.stage,
        policyVersion: row.policy_version,
        signedAt: row.signed_at,
        closedWonAt: row.closed_won_at,
        milestones: [],
      };
      byDeal.set(row.deal_id, deal);
      positions.set(row.deal_id, row.position_at);
    }
    const owner = milestoneOwnerRole(row.kind);
    const doneAt = row.done_at;
    const minutesLate = row.business_minutes_late === null ? 0 : Number(row.business_minutes_late);
    deal.milestones.push({
      milestone: row.milestone,
      kind: row.kind,
      owner,
      ownerId: owner === 'sales' ? row.sales_owner_id : row.cs_owner_id,
      startedAt: row.started_at,
      dueAt: row.due_at,
      doneAt,
      breached: row.breached,
      status: milestoneStatus({ doneAt, breached: row.breached }),
      delayBusinessHours: doneAt === null ? null : rounded(minutesLate / 60, HOUR_DECIMALS),
    });
  }
  const list = [...byDeal.values()];
  if (!page || list.length <= page.limit) return { deals: list, next: null };
  const shown = list.slice(0, page.limit);
  const last = shown[shown.length - 1]!;
  return { deals: shown, next: { at: positions.get(last.dealId)!, id: last.dealId } };
}

/** `x` rounded to HOUR_DECIMALS as domain/report-stats.ts rounded() does it in float8 (Math.round: halves up). */
const roundedHours = (x: SQL) => sql`(case when ${x} - floor(${x}) >= 0.5 then ceil(${x}) else floor(${x}) end) / ${10 ** HOUR_DECIMALS}::float8`;

interface HandoffSummarySqlRow {
  section: 'deals' | 'kind' | 'sales' | 'cs';
  key: string | null;
  total: number;
  on_time: number | null;
  late: number | null;
  overdue: number | null;
  open: number | null;
  delays: number | null;
  median: number | null;
  p90: number | null;
}

/**
 * The report's summary over every deal the filters select, in one statement: what summarizeHandoffs
 * (domain/report-stats.ts) computes from the listed deals, the delays rounded as the list shows them before
 * their percentiles are taken (test/api/report-rollup.test.ts holds the two equal).
 */
export async function handoffSummary(db: Database, filters: HandoffFilters): Promise<HandoffSummary> {
  const rows = await directRowsOf<HandoffSummarySqlRow>(
    db,
    sql`
      with m as materialized (
        select d.deal_id, d.sales_owner_id, d.cs_owner_id, m.kind, m.done_at is not null as done, m.breached,
          case when m.done_at is not null then ${roundedHours(sql`(coalesce(m.business_minutes_late, 0) / 60 * ${10 ** HOUR_DECIMALS}::float8)`)} end as delay
        from deals d join deal_milestones m on m.deal_id = d.deal_id
        where ${handoffDeals(filters)}
      ),
      kinds as (
        select kind, count(*) as total,
          count(*) filter (where done and not breached) as on_time, count(*) filter (where done and breached) as late,
          count(*) filter (where not done and breached) as overdue, count(*) filter (where not done and not breached) as open,
          count(delay) as delays, percentile_cont(array[0.5, 0.9]) within group (order by delay) as p
        from m group by kind
      )
      select 'deals' as section, null::text as key, count(*)::float8 as total,
        null::float8 as on_time, null::float8 as late, null::float8 as overdue, null::float8 as open, null::float8 as delays, null::float8 as median, null::float8 as p90
      from (select deal_id from m group by deal_id) listed
      union all
      select 'kind', kind, total::float8, on_time::float8, late::float8, overdue::float8, open::float8, delays::float8, p[1], p[2] from kinds
      union all
      select 'sales', sales_owner_id, count(*)::float8, (count(*) filter (where breached))::float8, null, null, null, null, null, null
      from m where kind = 'dossier' group by sales_owner_id
      union all
      select 'cs', cs_owner_id, count(*)::float8, (count(*) filter (where breached))::float8, null, null, null, null, null, null
      from m where kind <> 'dossier' group by cs_owner_id`,
  );
  return handoffSummaryOf(rows);
}

function handoffSummaryOf(rows: readonly HandoffSummarySqlRow[]): HandoffSummary {
  const n = (value: number | string | null) => Number(value ?? 0);
  const nullable = (value: number | string | null) => (value === null ? null : Number(value));
  const milestones = rows
    .filter((row) => row.section === 'kind')
    .map((row) => {
      const [onTime, late, overdue, open] = [n(row.on_time), n(row.late), n(row.overdue), n(row.open)];
      return {
        kind: row.key!,
        total: n(row.total),
        onTime,
        late,
        overdue,
        open,
        onTimeShare: rounded(share(onTime, onTime + late + overdue), SHARE_DECIMALS),
        delayBusinessHours: { count: n(row.delays), median: rounded(nullable(row.median), HOUR_DECIMALS), p90: rounded(nullable(row.p90), HOUR_DECIMALS) },
      };
    })
    .sort((a, b) => kindRank(a.kind) - kindRank(b.kind) || a.kind.localeCompare(b.kind));
  const owners = (section: 'sales' | 'cs') =>
    rows
      .filter((row) => row.section === section)
      .map((row) => ({ ownerId: row.key, milestones: n(row.total), breaches: n(row.on_time) }))
      .sort((a, b) => b.breaches - a.breaches || (a.ownerId ?? '').localeCompare(b.ownerId ?? ''));
  const deals = rows.find((row) => row.section === 'deals');
  return { deals: n(deals?.total ?? null), milestones, breachesByOwner: { sales: owners('sales'), cs: owners('cs') } };
}

// ---- GET /reports/lead-sla ---------------------------------------------------------------------------

/** One figure row of the lead query: `tier` null on a total over every tier; a..e as each section names them. */

/**
 * What the lead report counts, by definition (the raw statement below says it in SQL over the window's facts):
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
 * The window's report facts (`w`) and its speed-to-lead clocks (`clocks`), as the raw report and its per-period
 * series share them. `period`, for the series, buckets each clock by the instant it ended (met or breached);
 * a never-met clock then counts once per lead and period, as it would in a report over that period alone.
 * `leads`, when given, keeps only the facts of those leads (the rollup's leads it cannot summarise).
 */
function clockCtes(range: ReportRange, period?: (at: SQL) => SQL, leads?: SQL): SQL {
  const from = instant(range.from);
  const to = instant(range.to);
  const bucket = (at: SQL) => (period ? period(at) : sql`null::timestamptz`);
  return sql`
    w as materialized (
      select f.lead_id, f.tier, f.source, f.type, f.at, f.counts, f.business_minutes as minutes, f.met_late as flagged,
        f.clock_started_at as started_at, f.reason
      from lead_report_facts f
      where f.at >= ${from} and f.at < ${to}${leads ? sql` and f.lead_id in (${leads})` : sql``}
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

/** The raw statement's stays, cycles and per-lead flags over `w` (after clockCtes). */
const rawFigureCtes = sql`
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
    )`;

/** A speed-to-lead row's figures over `clocks`: met on time, met late, never met, median and p90 minutes. */
const clockFigures = sql`
  (count(*) filter (where met and not breached))::float8 as a,
  (count(*) filter (where met and breached))::float8 as b,
  (count(*) filter (where not met))::float8 as c,
  (percentile_cont(0.5) within group (order by minutes))::float8 as d,
  (percentile_cont(0.9) within group (order by minutes))::float8 as e`;

/**
 * The whole lead report in one statement over the window's report facts, joined to one another: what the
 * report answered before the rollup (migration 0012), kept as its definition. The rollup statement must give
 * the same figures for any window (test/api/report-rollup.test.ts), and the benchmark times this one over
 * facts derived from the events as its plain-SQL baseline.
 */
function rawLeadSlaQuery(range: ReportRange): SQL {
  return sql`
    with ${clockCtes(range)},
    ${rawFigureCtes}
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

/** The leads of the rollup a window [from, to) overlaps that it cannot summarise: their facts are read instead. */
const complexLeads = (range: ReportRange) =>
  sql`select c.lead_id from lead_report_leads c where not c.simple and c.first_at < ${instant(range.to)} and c.last_at >= ${instant(range.from)}`;

/**
 * Each summarised lead the window overlaps, with its figures in the window (null or false where one does not
 * count there): the conditions are the raw statement's, applied to the lead's one instance of each step.
 * `has_fact` says whether the lead has any fact in the window (its first or last one is in it, or, for a lead
 * spanning the whole window, a look-up says so): only such a lead makes a per-lead group, as in the raw statement.
 */
function simpleLeadFigures(range: ReportRange): SQL {
  const from = instant(range.from);
  const to = instant(range.to);
  const within = (at: SQL) => sql`(${at} >= ${from} and ${at} < ${to})`;
  return sql`
    select r.tier, r.source,
      (r.first_at >= ${from} or r.last_at < ${to}
        or exists (select 1 from lead_report_facts f where f.lead_id = r.lead_id and f.at >= ${from} and f.at < ${to})) as has_fact,
      coalesce(${within(sql`r.met_at`)}, false) as clock_met,
      coalesce(r.met_late, false) as late,
      case when ${within(sql`r.met_at`)} then r.met_minutes end as minutes,
      r.unmet_at is not null and exists (select 1 from unnest(r.unmet_at) b where ${within(sql`b`)}) as clock_unmet,
      case when ${within(sql`r.accepted_at`)} and r.mql_at >= ${from} then r.mql_hours end as mql_hours,
      case when ${within(sql`r.qualified_at`)} and r.accepted_at >= ${from} then r.sal_hours end as sal_hours,
      case when ${within(sql`r.closed_at`)} and r.qualified_at >= ${from} then r.sql_hours end as sql_hours,
      case when ${within(sql`r.closed_at`)} and r.mql_at >= ${from} then r.cycle_days end as cycle_days,
      coalesce(${within(sql`r.mql_at`)}, false) as mql,
      coalesce(${within(sql`r.accepted_at`)}, false) as sal,
      coalesce(${within(sql`r.qualified_at`)}, false) as qualified,
      coalesce(r.won and ${within(sql`r.closed_at`)}, false) as won,
      case when ${within(sql`r.accepted_at`)} then
        case when r.attempts = 0 or (r.first_attempt_at >= ${from} and r.last_attempt_at < ${to}) then r.attempts
          else (select count(*) from unnest(r.attempt_at) a where ${within(sql`a`)})::int end
      end as attempts
    from lead_report_leads r
    where r.last_at >= ${from} and r.first_at < ${to} and r.simple`;
}

/** The same figure columns from the raw statement's sections, for the leads the rollup cannot summarise. */
const complexLeadFigures = sql`
    select tier, null::text as source, false as has_fact, met as clock_met, breached as late, minutes, not met as clock_unmet,
      null::float8 as mql_hours, null::float8 as sal_hours, null::float8 as sql_hours, null::numeric as cycle_days,
      false as mql, false as sal, false as qualified, false as won, null::int as attempts
    from clocks
    union all
    select tier, null, false, false, false, null, false,
      case when stage = 'MQL' then hours::float8 end, case when stage = 'SAL' then hours::float8 end, case when stage = 'SQL' then hours::float8 end, null,
      false, false, false, false, null
    from stays
    union all
    select tier, null, false, false, false, null, false, null, null, null, days, false, false, false, false, null
    from cycles
    union all
    select tier, source, true, false, false, null, false, null, null, null, null, mql, sal, qualified, won, case when sal then attempts::int end
    from per_lead`;

/** The window's figure rows: the summarised leads' and, from the raw statement's sections, the others'. */
function figureCtes(range: ReportRange): SQL {
  return sql`
    ${clockCtes(range, undefined, complexLeads(range))},
    ${rawFigureCtes},
    figures as not materialized (
      ${simpleLeadFigures(range)}
      union all
      ${complexLeadFigures}
    )`;
}

const tierOf = sql`case when grouping(tier) = 1 then null else tier end`;

/**
 * The lead report over the rollup, in three statements the report runs side by side (each one pass over the
 * window's lead rows, plus the raw sections of the few leads the rollup cannot summarise): speed-to-lead,
 * attempts and conversion here; stays, cycles, closes and rejections in leadStaysQuery; conversion per source
 * in leadSourcesQuery. The answer has the raw
 * statement's rows: a section's tier row is kept only where the raw statement would have one (`present`), the
 * totals always (a missing total reads as zeros, as an empty one does).
 */
function leadClocksQuery(range: ReportRange): SQL {
  return sql`
    with ${figureCtes(range)},
    by_tier as (
      select ${tierOf} as tier,
        count(*) filter (where clock_met or clock_unmet) as clocks,
        count(*) filter (where clock_met and not late) as met_on_time,
        count(*) filter (where clock_met and late) as met_late,
        count(*) filter (where clock_unmet) as unmet,
        percentile_cont(array[0.5, 0.9]) within group (order by minutes) as minutes,
        count(*) filter (where sal) as accepted,
        sum(attempts) filter (where sal) as attempts,
        avg(attempts) filter (where sal) as attempts_mean,
        percentile_cont(0.5) within group (order by attempts) filter (where sal) as attempts_median,
        count(*) filter (where has_fact) as leads,
        count(*) filter (where mql) as mql,
        count(*) filter (where qualified) as qualified,
        count(*) filter (where won) as won
      from figures
      group by grouping sets ((tier), ())
    )
    select v.section, t.tier, null::text as source, null::text as reason, v.a, v.b, v.c, v.d, v.e
    from by_tier t cross join lateral (values
      ('speed-to-lead', t.clocks, t.met_on_time::float8, t.met_late::float8, t.unmet::float8, t.minutes[1], t.minutes[2]),
      ('attempts', t.accepted, t.accepted::float8, coalesce(t.attempts, 0)::float8, t.attempts_mean::float8, t.attempts_median, null),
      ('conversion', t.leads, t.mql::float8, t.accepted::float8, t.qualified::float8, t.won::float8, null)
    ) v(section, present, a, b, c, d, e)
    where t.tier is null or v.present > 0`;
}

/** Conversion per lead source (each lead with a fact in the window makes its source's group); see leadClocksQuery. */
function leadSourcesQuery(range: ReportRange): SQL {
  return sql`
    with ${figureCtes(range)}
    select 'conversion-by-source' as section, null::int as tier, source, null::text as reason,
      (count(*) filter (where mql))::float8 as a, (count(*) filter (where sal))::float8 as b,
      (count(*) filter (where qualified))::float8 as c, (count(*) filter (where won))::float8 as d, null::float8 as e
    from figures
    where has_fact
    group by source`;
}

/** Stays, cycles (from the same figure rows), closes and rejections (the facts' partial indexes); see leadClocksQuery. */
function leadStaysQuery(range: ReportRange): SQL {
  return sql`
    with ${figureCtes(range)},
    by_tier as (
      select ${tierOf} as tier,
        count(mql_hours) as mql_stays, percentile_cont(array[0.5, 0.9]) within group (order by mql_hours) as mql_hours,
        count(sal_hours) as sal_stays, percentile_cont(array[0.5, 0.9]) within group (order by sal_hours) as sal_hours,
        count(sql_hours) as sql_stays, percentile_cont(array[0.5, 0.9]) within group (order by sql_hours) as sql_hours,
        count(cycle_days) as cycles, avg(cycle_days) as cycle_mean, percentile_cont(0.5) within group (order by cycle_days) as cycle_median
      from figures
      where mql_hours is not null or sal_hours is not null or sql_hours is not null or cycle_days is not null
      group by grouping sets ((tier), ())
    )
    select v.section, t.tier, null::text as source, v.reason, v.a, v.b, v.c, v.d, v.e
    from by_tier t cross join lateral (values
      ('stage-aging', 'MQL', t.mql_stays, t.mql_stays::float8, t.mql_hours[1], t.mql_hours[2], null::float8, null::float8),
      ('stage-aging', 'SAL', t.sal_stays, t.sal_stays::float8, t.sal_hours[1], t.sal_hours[2], null, null),
      ('stage-aging', 'SQL', t.sql_stays, t.sql_stays::float8, t.sql_hours[1], t.sql_hours[2], null, null),
      ('cycle', null, t.cycles, t.cycles::float8, t.cycle_mean::float8, t.cycle_median, null, null)
    ) v(section, reason, present, a, b, c, d, e)
    where t.tier is null or v.present > 0
    union all
    ${factCountsQuery(range)}`;
}

/** Closes and rejections, counted straight from the facts by time (their partial indexes, no table visit). */
function factCountsQuery(range: ReportRange): SQL {
  const from = instant(range.from);
  const to = instant(range.to);
  return sql`
    select 'closes' as section, ${tierOf} as tier, null::text as source, null::text as reason,
      count(*)::float8 as a, (count(*) filter (where counts))::float8 as b, null::float8 as c, null::float8 as d, null::float8 as e
    from lead_report_facts
    where type = 'closed' and at >= ${from} and at < ${to}
    group by grouping sets ((tier), ())
    union all
    select 'rejections', tier, source, reason, count(*)::float8, null, null, null, null
    from lead_report_facts
    where type = 'returned-to-nurture' and at >= ${from} and at < ${to}
    group by tier, source, reason`;
}

/** The total and tiers 1, 2, 3 (and any other tier found) of one section, zeros where nothing happened. */
function byTier<T>(
  rows: readonly SectionRow[],
  section: SectionRow['section'],
  shape: (row: SectionRow | undefined) => T,
  only: (row: SectionRow) => boolean = () => true,
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

/**
 * GET /reports/lead-sla's figures: from this process's copy of the rollup (copiedLeadSlaReport), or for a window
 * that starts before the copy's horizon, from the rollup in SQL (rollupLeadSlaReport).
 */
export async function leadSlaReport(db: Database, range: ReportRange): Promise<LeadSlaReport> {
  const copy = leadReportCopyOf(db);
  return copy.covers(range.from.getTime()) ? copiedLeadSlaReport(db, copy, range) : rollupLeadSlaReport(db, range);
}

/**
 * The report with the window's summarised leads read from `copy` (db/lead-report-copy.ts), brought to the
 * report's own snapshot; the leads the rollup cannot summarise and the spanning leads' fact look-ups in SQL in
 * that same snapshot; the policy's target in SQL beside it.
 */
export async function copiedLeadSlaReport(db: Database, copy: LeadReportCopy, range: ReportRange): Promise<LeadSlaReport> {
  copy.mustCover(range.from);
  const [figures, conversionTarget] = await Promise.all([copiedFigureSections(db, copy, range), currentConversionTarget(db)]);
  return leadReportFrom(figures, conversionTarget);
}

/**
 * The report's sections as of one snapshot: the copy's leads, and the facts of the others. Closes and returns to
 * nurture come from the copy too (migration 0018), so they are of the same snapshot as every other section;
 * counted in SQL beside it, they were a statement of their own, 4-6 ms of Postgres work over the bench's million
 * events (grouping 14,000 returns by tier, source and reason).
 */
async function copiedFigureSections(db: Database, copy: LeadReportCopy, range: ReportRange): Promise<SectionRow[]> {
  const window = { from: range.from.getTime(), to: range.to.getTime() };
  return copy.inSnapshot(db, async (tx, read) => {
    const totals = new FigureTotals();
    const { spanning, complex } = await read(({ columns, overlapping, complexOverlapping }) => {
      const spanningSlots: number[] = [];
      for (const slot of overlapping(window)) {
        if (factInWindowKnown(columns, slot, window)) totals.addLead(columns, slot, window, true);
        else spanningSlots.push(slot);
      }
      // Leads that span the whole window: whether they have a fact in it is looked up below, after the read,
      // when the copy may have moved on; so they are copied.
      return { spanning: columns.copyOf(spanningSlots), complex: complexOverlapping(window) };
    });
    const spanningIds = spanning.leadId as string[];
    if (spanningIds.length > 0) {
      const withFacts = new Set(
        resultRows<{ lead_id: string }>(
          await tx.execute(sql`
            select distinct f.lead_id from lead_report_facts f
            where f.lead_id in (select jsonb_array_elements_text(${JSON.stringify(spanningIds)}::jsonb)) and f.at >= ${instant(range.from)} and f.at < ${instant(range.to)}`),
        ).map((row) => row.lead_id),
      );
      spanningIds.forEach((leadId, slot) => totals.addLead(spanning, slot, window, withFacts.has(leadId)));
    }
    // The leads the rollup cannot summarise, from their facts in the copy's snapshot: each lead counted once.
    if (complex.length > 0) {
      const [figureRows, countedFacts] = await Promise.all([tx.execute(complexLeadFiguresQuery(range, complex)), tx.execute(complexLeadCountedFactsQuery(range, complex))]);
      for (const row of resultRows<ComplexFigureSqlRow>(figureRows)) totals.add(figureRowOf(row));
      for (const fact of resultRows<{ type: string; tier: number; source: string | null; reason: string | null; counts: boolean }>(countedFacts)) {
        if (fact.type === 'closed') totals.addClose(fact.tier, fact.counts);
        else totals.addRejection(fact.tier, fact.source, fact.reason);
      }
    }
    return totals.sections();
  });
}

/** The closes and returns to nurture in the range of these leads the rollup cannot summarise, one row per fact (factCountsQuery counts them). */
function complexLeadCountedFactsQuery(range: ReportRange, leadIds: readonly string[]): SQL {
  return sql`
    select f.type, f.tier, f.source, f.reason, f.counts from lead_report_facts f
    where f.lead_id in (select jsonb_array_elements_text(${JSON.stringify(leadIds)}::jsonb)) and f.type in ('closed', 'returned-to-nurture')
      and f.at >= ${instant(range.from)} and f.at < ${instant(range.to)}`;
}

/** The same report from the rollup in SQL: three statements side by side (windows older than the copy reaches). */
export async function rollupLeadSlaReport(db: Database, range: ReportRange): Promise<LeadSlaReport> {
  return leadReportOf(db, [leadClocksQuery(range), leadStaysQuery(range), leadSourcesQuery(range)]);
}

/** The same report from the raw statement over the window's facts: the definition the rollup is held to. */
export async function rawLeadSlaReport(db: Database, range: ReportRange): Promise<LeadSlaReport> {
  return leadReportOf(db, [rawLeadSlaQuery(range)]);
}

interface ComplexFigureSqlRow {
  tier: number;
  source: string | null;
  has_fact: boolean;
  clock_met: boolean;
  late: boolean;
  minutes: number | null;
  clock_unmet: boolean;
  mql_hours: number | null;
  sal_hours: number | null;
  sql_hours: number | null;
  cycle_days: number | string | null;
  mql: boolean;
  sal: boolean;
  qualified: boolean;
  won: boolean;
  attempts: number | null;
}

/** SQL's null as the figure rows' NaN (does not count). */
const figureOf = (value: number | string | null) => (value === null ? NaN : Number(value));

function figureRowOf(row: ComplexFigureSqlRow): FigureRow {
  return {
    tier: Number(row.tier),
    source: row.source,
    hasFact: row.has_fact,
    clockMet: row.clock_met,
    late: row.late,
    minutes: figureOf(row.minutes),
    clockUnmet: row.clock_unmet,
    mqlHours: figureOf(row.mql_hours),
    salHours: figureOf(row.sal_hours),
    sqlHours: figureOf(row.sql_hours),
    cycleDays: figureOf(row.cycle_days),
    mql: row.mql,
    sal: row.sal,
    qualified: row.qualified,
    won: row.won,
    attempts: figureOf(row.attempts),
  };
}

/** The figure rows of these leads the rollup cannot summarise, from their facts (the raw statement's sections). */
function complexLeadFiguresQuery(range: ReportRange, leadIds: readonly string[]): SQL {
  return sql`
    with ${clockCtes(range, undefined, sql`select jsonb_array_elements_text(${JSON.stringify(leadIds)}::jsonb)`)},
    ${rawFigureCtes}
    select tier, source, has_fact, clock_met, late, minutes, clock_unmet, mql_hours, sal_hours, sql_hours, cycle_days::float8 as cycle_days,
      mql, sal, qualified, won, attempts
    from (${complexLeadFigures}) figures`;
}

const conversionTargetQuery = sql`select (document->'funnel'->>'mqlToSqlTarget')::float8 as target from policies order by created_at desc, version desc limit 1`;

async function currentConversionTarget(db: Database): Promise<number | null> {
  const [policy] = await directRowsOf<{ target: number | string | null }>(db, conversionTargetQuery);
  return policy?.target === null || policy?.target === undefined ? null : Number(policy.target);
}

/** The report from its statements' rows (run side by side, each on a connection of its own from the pool). */
async function leadReportOf(db: Database, queries: readonly SQL[]): Promise<LeadSlaReport> {
  const [parts, target] = await Promise.all([Promise.all(queries.map((query) => rowsOf<SectionRow>(db, query))), currentConversionTarget(db)]);
  return leadReportFrom(parts.flat(), target);
}

/** The report's shape from its section rows and the current policy's MQL → SQL target. */
function leadReportFrom(rows: readonly SectionRow[], target: number | null): LeadSlaReport {
  const conversion = byTier(rows, 'conversion', (row) => conversionRow({ mql: count(row?.a), sal: count(row?.b), sql: count(row?.c), won: count(row?.d) }));
  return {
    speedToLead: byTier(rows, 'speed-to-lead', (row) =>
      speedToLeadRow({ metOnTime: count(row?.a), metLate: count(row?.b), breachedUnmet: count(row?.c), median: row?.d ?? null, p90: row?.e ?? null }),
    ),
    attemptsPerLead: byTier(rows, 'attempts', (row) => attemptsRow({ leads: count(row?.a), attempts: count(row?.b), mean: row?.c ?? null, median: row?.d ?? null })),
    conversion,
    mqlToSql: conversionTargetRow(conversion.all.sqlPerMql, target),
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
 * the projection knows the stage now, not in the past. "Updated" is read from the week's update events
 * (lead_events_type_at_idx) rather than a latest-update look-up per open opportunity: one of them in
 * [asOf - 7 days, asOf] is the same as the latest one up to asOf falling there.
 *
 * `current`: asOf is now (a report that runs to the present), so each opportunity's latest next step is the one
 * the projection holds (leads.next_step_due_at, read from leads_stage_lead_idx with the opportunities); for an
 * earlier asOf it is looked up in the audit, one probe per open opportunity.
 */
export async function pipelineHygiene(db: Database, asOf: Date, { current = false }: { current?: boolean } = {}): Promise<PipelineHygiene> {
  const freshSince = new Date(asOf.getTime() - HYGIENE_FRESH_MS);
  const latestNextStep = current
    ? sql`(select l.next_step_due_at as due_at) ns on true`
    : sql`(
        select (e.payload->>'dueAt')::timestamptz as due_at from lead_events e
        where e.lead_id = l.lead_id and e.type = 'next-step-set' and e.at <= ${instant(asOf)}
        order by e.seq desc limit 1
      ) ns on true`;
  const [row] = await rowsOf<{ open: number; with_next_step: number; updated: number; maintained: number }>(
    db,
    sql`
      with recent as (
        select distinct e.lead_id from lead_events e
        where e.type in ('qualified', 'opportunity-updated') and e.at >= ${instant(freshSince)} and e.at <= ${instant(asOf)}
      )
      select count(*)::int as open,
        (count(*) filter (where ns.due_at >= ${instant(asOf)}))::int as with_next_step,
        (count(*) filter (where r.lead_id is not null))::int as updated,
        (count(*) filter (where ns.due_at >= ${instant(asOf)} and r.lead_id is not null))::int as maintained
      from leads l
      left join recent r on r.lead_id = l.lead_id
      left join lateral ${latestNextStep}
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
  // The flagged leads are few: the range's leads counted on leads_created_at_idx (index only), less those among
  // them that have a flag event (lead_events_type_at_idx, each looked up by key), without materializing the range.
  const taken = sql`l.created_at >= ${instant(range.from)} and l.created_at < ${instant(range.to)}`;
  // The valid records are subtracted here: a column of the statement naming `records` twice would have Postgres
  // count the range twice (it copies a scalar subquery into every expression that uses it).
  const [row] = await directRowsOf<{ records: number; flagged: number; target: number | string | null }>(
    db,
    sql`
      select (select count(*) from leads l where ${taken})::int as records,
        (select count(*) from leads l
          where ${taken} and l.lead_id in (select e.lead_id from lead_events e where e.type = 'record-flagged' and e.payload->>'flag' in (${flags})))::int as flagged,
        (select (p.document->'dataQuality'->>'validRecordsTarget')::float8 from policies p order by p.created_at desc, p.version desc limit 1) as target
    `,
  );
  const target = row?.target === null || row?.target === undefined ? null : Number(row.target);
  return dataQualityRow({ records: count(row?.records), valid: count(row?.records) - count(row?.flagged), target });
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
  const within = (at: SQL) => sql`(${at} >= ${from} and ${at} < ${to})`;
  // The rollup's summarised leads by their step instants, the others (complexLeads) from their facts.
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
          and lead_id in (${complexLeads(range)})
        group by lead_id
        union all
        select ${within(sql`r.received_at`)}, ${within(sql`r.mql_at`)}, ${within(sql`r.accepted_at`)}, ${within(sql`r.qualified_at`)}
        from lead_report_leads r
        where r.last_at >= ${from} and r.first_at < ${to} and r.simple
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
 * lead's latest routing before it (lead_events_routed_idx), since reassignments stay in their queue.
 */
const breachEventsInRange = (range: ReportRange) => sql`
  select b.id, b.lead_id, b.workflow_id, b.at, b.seq, b.payload->>'ownerId' as owner_id
  from lead_events b
  where b.type = 'sla-breached' and b.at >= ${instant(range.from)} and b.at < ${instant(range.to)} and b.payload->>'deadline' = 'speed-to-lead'`;

/** `breaches` (rows of breachEventsInRange) with the queue each was routed through. */
const withRoutedQueue = (breaches: SQL) => sql`
  select b.id, b.lead_id, b.workflow_id, b.at, b.owner_id, r.queue_id
  from (${breaches}) b
  left join lateral (
    select x.payload->>'queueId' as queue_id from lead_events x
    where x.lead_id = b.lead_id and x.type = 'routed' and x.seq < b.seq
    order by x.seq desc limit 1
  ) r on true`;

export async function leadBreachBreakdown(db: Database, range: ReportRange): Promise<LeadBreachBreakdown> {
  type BreakdownRow = { section: 'owner' | 'queue' | 'escalation'; key: string | null; level: number | null; a: number; b: number | null };
  // Side by side: the breaches with their routings, and the escalations, read different rows of lead_events.
  const [breachRows, escalationRows] = await Promise.all([
    directRowsOf<BreakdownRow>(
      db,
      sql`
        with breaches as materialized (${withRoutedQueue(breachEventsInRange(range))})
        select 'owner' as section, owner_id as key, null::int as level, count(*)::float8 as a, null::float8 as b from breaches group by owner_id
        union all
        select 'queue', queue_id, null, count(*)::float8, null from breaches group by queue_id`,
    ),
    directRowsOf<BreakdownRow>(
      db,
      sql`
        select 'escalation' as section, payload->>'action' as key, case when payload->>'level' ~ '^[0-9]{1,4}$' then (payload->>'level')::int end as level,
          count(*)::float8 as a, count(distinct lead_id)::float8 as b
        from lead_events
        where type = 'escalated' and at >= ${instant(range.from)} and at < ${instant(range.to)}
        group by 2, 3`,
    ),
  ]);
  const rows = [...breachRows, ...escalationRows];
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
      from (${withRoutedQueue(sql`${breachEventsInRange(range)} order by b.at desc, b.id desc limit ${page.limit} offset ${page.offset}`)}) b
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
 * Speed-to-lead and conversion per UTC week or month of the range: each period's figures are those
 * GET /reports/lead-sla gives for that period alone (test/api/reports-api.test.ts holds them equal). From this
 * process's copy of the rollup (copiedLeadSlaSeries), or for a range that starts before the copy's horizon, from
 * the rollup in SQL (rollupLeadSlaSeries).
 */
export async function leadSlaSeries(db: Database, range: ReportRange, unit: ReportPeriodUnit): Promise<LeadSlaPeriod[]> {
  const copy = leadReportCopyOf(db);
  return copy.covers(range.from.getTime()) ? copiedLeadSlaSeries(db, copy, range, unit) : rollupLeadSlaSeries(db, range, unit);
}

/** The bucket of an instant in the series: the start of its UTC week or month, or of the range where that is later. */
const periodStart = (range: ReportRange, unit: ReportPeriodUnit) => (at: SQL) =>
  sql`greatest(date_trunc(${unit}, ${at} at time zone 'UTC') at time zone 'UTC', ${instant(range.from)})`;

/**
 * The series with the range's summarised leads read from `copy` as of the statement's snapshot, and the leads
 * the rollup cannot summarise from their facts in that snapshot, as rollupLeadSlaSeries reads them.
 */
export async function copiedLeadSlaSeries(db: Database, copy: LeadReportCopy, range: ReportRange, unit: ReportPeriodUnit): Promise<LeadSlaPeriod[]> {
  copy.mustCover(range.from);
  const periods = reportPeriods(range.from, range.to, unit);
  const totals = new SeriesTotals(periods);
  const window = { from: range.from.getTime(), to: range.to.getTime() };
  const truncated = periodStart(range, unit);
  const complexRows = await copy.inSnapshot(db, async (tx, read) => {
    const complex = await read(({ columns, overlapping, complexOverlapping }) => {
      for (const slot of overlapping(window)) totals.addLead(columns, slot);
      return complexOverlapping(window);
    });
    if (complex.length === 0) return [];
    const leadIds = sql`select jsonb_array_elements_text(${JSON.stringify(complex)}::jsonb)`;
    return resultRows<{ kind: 'clock' | 'steps'; period: Date | string; tier: number; minutes: number | null; met: boolean; breached: boolean; mql: number; sal: number; qualified: number; won: number }>(
      await tx.execute(sql`
        with ${clockCtes(range, truncated, leadIds)},
        per_lead as (${seriesStepsPerLead(truncated)})
        select 'clock' as kind, period, tier, minutes, met, breached, 0 as mql, 0 as sal, 0 as qualified, 0 as won from clocks
        union all
        select 'steps', period, tier, null, null, null,
          count(*) filter (where mql), count(*) filter (where sal), count(*) filter (where qualified), count(*) filter (where won)
        from per_lead
        group by period, tier`),
    );
  });
  const indexOf = new Map(periods.map((period, index) => [period.from.getTime(), index]));
  for (const row of complexRows) {
    const period = indexOf.get(new Date(row.period).getTime())!;
    if (row.kind === 'clock') totals.addClock(period, Number(row.tier), row.minutes === null ? NaN : Number(row.minutes), row.met, row.breached);
    else totals.addSteps(period, Number(row.tier), Number(row.mql), Number(row.sal), Number(row.qualified), Number(row.won));
  }
  return seriesFrom(range, unit, totals.rows().map((row) => ({ ...row, period: periods[row.period]!.from })));
}

/** Per lead and period, which conversion steps its facts in `w` (clockCtes) make in that period. */
function seriesStepsPerLead(truncated: (at: SQL) => SQL): SQL {
  return sql`
    select ${truncated(sql`at`)} as period, min(tier) as tier,
      bool_or(type in ('received', 'stage-changed') and counts) as mql,
      bool_or(type = 'accepted') as sal,
      bool_or(type = 'qualified') as qualified,
      bool_or(type = 'closed' and counts) as won
    from w
    group by lead_id, 1`;
}

/** The series from the rollup in SQL, in one statement: the definition copiedLeadSlaSeries is held to. */
export async function rollupLeadSlaSeries(db: Database, range: ReportRange, unit: ReportPeriodUnit): Promise<LeadSlaPeriod[]> {
  const from = instant(range.from);
  const to = instant(range.to);
  const truncated = periodStart(range, unit);
  const within = (at: SQL) => sql`(${at} >= ${from} and ${at} < ${to})`;
  // The rollup's summarised leads as in leadSlaQuery, each figure in the period holding its instant; the leads it
  // cannot summarise through the raw statement's clocks and per-lead flags, per period.
  const rows = await rowsOf<SectionRow & { period: Date | string }>(
    db,
    sql`
      with ${clockCtes(range, truncated, complexLeads(range))},
      simple as materialized (
        select r.lead_id, r.tier, r.met_at, r.met_minutes, r.met_late, r.unmet_at, r.mql_at, r.accepted_at, r.qualified_at, r.closed_at, r.won
        from lead_report_leads r
        where r.last_at >= ${from} and r.first_at < ${to} and r.simple
      ),
      all_clocks as (
        select tier, minutes, met, breached, period from clocks
        union all
        select tier, met_minutes, true, coalesce(met_late, false), ${truncated(sql`met_at`)} from simple where ${within(sql`met_at`)}
        union all
        select tier, null::float8, false, true, period
        from (
          select distinct r.lead_id, r.tier, ${truncated(sql`b`)} as period
          from simple r cross join lateral unnest(r.unmet_at) b
          where r.unmet_at is not null and ${within(sql`b`)}
        ) unmet_in_period
      ),
      per_lead as (${seriesStepsPerLead(truncated)}),
      -- Conversion counts distinct leads per period; a summarised lead has one instant per step, so its steps are
      -- counted per (period, tier) directly, and added to the other leads' per-lead flags.
      steps as (
        select period, tier, count(*) filter (where mql) as mql, count(*) filter (where sal) as sal,
          count(*) filter (where qualified) as qualified, count(*) filter (where won) as won
        from per_lead
        group by period, tier
        union all
        select ${truncated(sql`mql_at`)}, tier, count(*), 0, 0, 0 from simple where ${within(sql`mql_at`)} group by 1, 2
        union all
        select ${truncated(sql`accepted_at`)}, tier, 0, count(*), 0, 0 from simple where ${within(sql`accepted_at`)} group by 1, 2
        union all
        select ${truncated(sql`qualified_at`)}, tier, 0, 0, count(*), 0 from simple where ${within(sql`qualified_at`)} group by 1, 2
        union all
        select ${truncated(sql`closed_at`)}, tier, 0, 0, 0, count(*) from simple where won and ${within(sql`closed_at`)} group by 1, 2
      )
      select 'speed-to-lead' as section, period, case when grouping(tier) = 1 then null else tier end as tier, null::text as source, null::text as reason, ${clockFigures}
      from all_clocks
      group by grouping sets ((period, tier), (period))
      union all
      select 'conversion', period, case when grouping(tier) = 1 then null else tier end, null, null,
        sum(mql)::float8, sum(sal)::float8, sum(qualified)::float8, sum(won)::float8, null
      from steps
      group by grouping sets ((period, tier), (period))`,
  );
  return seriesFrom(range, unit, rows);
}

/** The statement's rows (or the copy's, alike) as the periods of the range, every period present. */
function seriesFrom(range: ReportRange, unit: ReportPeriodUnit, rows: ReadonlyArray<SectionRow & { period: Date | string }>): LeadSlaPeriod[] {
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
