import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Database } from '../db/client.js';
import { dataQuality, handoffPage, handoffReport, leadSlaReport, pipelineHygiene, planMeasures, type HandoffReport, type PlanMeasures } from '../db/reports.js';
import { backCalculatePlan, planStages, type Plan, type PlanRates } from '../domain/planner.js';
import { rounded, SHARE_DECIMALS, toCsv, type ByTier, type CsvValue, type LeadSlaReport } from '../domain/report-stats.js';
import { requireRole, type AppEnv } from './auth.js';
import { validationFailed, type ErrorBody } from './errors.js';
import { errorResponses } from './openapi.js';
import { cursorParam, decodeCursor, encodeCursor } from './lists.js';
import { currency, identifier, instant, isoDate, MONEY_MAX } from './primitives.js';

/**
 * Management reports over the audit in Postgres (never Temporal, whose retention forgets closed workflows):
 * deal handoff timeliness and lead SLAs, as JSON or, with `Accept: text/csv`, as CSV for a spreadsheet.
 */

export interface ReportRoutesDependencies {
  db: Database;
  /** The clock the default range ends at; tests pin it. */
  now?: () => Date;
}

const DEFAULT_RANGE_DAYS = 90;
const DAY_MS = 86_400_000;

const rangeBound = (name: 'from' | 'to', description: string) =>
  z
    .union([instant, isoDate], { error: `${name}: an ISO 8601 date-time with offset (2026-11-23T09:00:00Z) or a date (2026-11-23), in years 2000-2099` })
    .optional()
    .openapi({ param: { name, in: 'query' }, description, example: name === 'from' ? '2026-09-01' : '2026-12-01T00:00:00Z' });

const rangeQuery = {
  from: rangeBound('from', 'Start of the range, inclusive; a date is midnight UTC; must be before `to`. Default: `to` minus 90 days.'),
  to: rangeBound('to', 'End of the range, exclusive; a date is midnight UTC. Default: now.'),
};

const ownerIdQuery = (name: string, description: string) =>
  identifier.optional().openapi({ param: { name, in: 'query' }, description, example: name === 'csOwner' ? 'cs-anna' : 'rep-anna' });

export const HANDOFF_LIMIT_MAX = 500;
const HANDOFF_LIMIT_DEFAULT = 50;

const handoffQuery = z.object({
  ...rangeQuery,
  csOwner: ownerIdQuery('csOwner', "Only deals this CS rep owns (the deal's current CS owner)"),
  salesOwner: ownerIdQuery('salesOwner', 'Only deals this sales rep owns'),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(HANDOFF_LIMIT_MAX)
    .optional()
    .openapi({
      param: { name: 'limit', in: 'query' },
      type: 'integer',
      minimum: 1,
      maximum: HANDOFF_LIMIT_MAX,
      description: `Deals listed per page, 1 to ${HANDOFF_LIMIT_MAX}; default ${HANDOFF_LIMIT_DEFAULT}. The summary is always over every deal of the range. CSV ignores it and lists every deal.`,
      example: '50',
    }),
  cursor: cursorParam,
});
const leadSlaQuery = z.object(rangeQuery);

export const PLAN_MONTHS_MAX = 36;
/** A revenue goal may be the sum of many deals: a thousand times the largest deal. */
export const REVENUE_GOAL_MAX = MONEY_MAX * 1000;

const numberQuery = (name: string, schema: z.ZodNumber, openapi: Record<string, unknown>, description: string, example: string) =>
  z.coerce
    .number({ error: `${name}: a number` })
    .pipe(schema)
    .openapi({ param: { name, in: 'query' }, type: 'number', description, example, ...openapi });

const rateQuery = (name: keyof PlanRates, description: string) =>
  numberQuery(
    name,
    z.number().gt(0, `${name}: a share above 0`).max(1, `${name}: a share of at most 1`),
    { exclusiveMinimum: 0, maximum: 1 },
    `${description}, a share in (0, 1]. Default: the rate measured over [from, to).`,
    '0.3',
  ).optional();

export const planQuery = z.object({
  revenueGoal: numberQuery(
    'revenueGoal',
    z.number().gt(0, 'revenueGoal: above 0').max(REVENUE_GOAL_MAX, `revenueGoal: at most ${REVENUE_GOAL_MAX}`),
    { exclusiveMinimum: 0, maximum: REVENUE_GOAL_MAX },
    'New revenue to win over the period, in `currency`.',
    '1000000',
  ),
  months: numberQuery(
    'months',
    z.number().int('months: a whole number').min(1, 'months: at least 1').max(PLAN_MONTHS_MAX, `months: at most ${PLAN_MONTHS_MAX}`),
    { type: 'integer', minimum: 1, maximum: PLAN_MONTHS_MAX },
    `The goal's period in months, 1 to ${PLAN_MONTHS_MAX} (a quarter is 3). Default 3.`,
    '3',
  ).optional(),
  averageDealSize: numberQuery(
    'averageDealSize',
    z.number().gt(0, 'averageDealSize: above 0').max(MONEY_MAX, `averageDealSize: at most ${MONEY_MAX}`),
    { exclusiveMinimum: 0, maximum: MONEY_MAX },
    'Average won deal, in `currency`. Default: the mean amount of the deals won in [from, to) in that currency.',
    '100000',
  ).optional(),
  currency: currency.optional().openapi({ param: { name: 'currency', in: 'query' }, description: "The goal's currency. Default: the currency most deals won in [from, to) are in." }),
  leadToMql: rateQuery('leadToMql', 'Leads that become MQL'),
  mqlToSal: rateQuery('mqlToSal', 'MQLs accepted by sales (SAL)'),
  salToSql: rateQuery('salToSql', 'SALs qualified (SQL)'),
  winRate: rateQuery('winRate', 'SQLs won (won ÷ closed)'),
  ...rangeQuery,
});

// ---- response shapes (documentation; the handlers build them from db/reports.ts) ---------------------------

const distributionSchema = z.object({ count: z.number().int(), median: z.number().nullable(), p90: z.number().nullable() });

const handoffMilestoneSchema = z.object({
  milestone: z.string().openapi({ example: 'kickoff' }),
  kind: z.string().openapi({ example: 'kickoff' }),
  owner: z.enum(['sales', 'cs']),
  ownerId: z.string().nullable(),
  startedAt: z.string(),
  dueAt: z.string(),
  doneAt: z.string().nullable(),
  breached: z.boolean(),
  status: z.enum(['on-time', 'late', 'overdue', 'open']),
  delayBusinessHours: z.number().nullable().openapi({ description: "Business hours done after due on the deal's calendar; 0 on time; null while not done" }),
});

const handoffReportSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    csOwner: z.string().nullable(),
    salesOwner: z.string().nullable(),
    limit: z.number().int().openapi({ description: 'Deals per page, as asked (or the default)' }),
    nextCursor: z.string().nullable().openapi({ description: 'Pass as `cursor` (with the same range and filters) for the next page of deals; null on the last page.' }),
    deals: z.array(
      z.object({
        dealId: z.string(),
        accountName: z.string(),
        salesOwnerId: z.string(),
        csOwnerId: z.string().nullable(),
        stage: z.string(),
        policyVersion: z.string(),
        signedAt: z.string(),
        closedWonAt: z.string(),
        milestones: z.array(handoffMilestoneSchema),
      }),
    ),
    summary: z.object({
      deals: z.number().int(),
      milestones: z.array(
        z.object({
          kind: z.string(),
          total: z.number().int(),
          onTime: z.number().int(),
          late: z.number().int(),
          overdue: z.number().int(),
          open: z.number().int(),
          onTimeShare: z.number().nullable().openapi({ description: 'on time ÷ (on time + late + overdue), 0..1' }),
          delayBusinessHours: distributionSchema,
        }),
      ),
      breachesByOwner: z.object({
        sales: z.array(z.object({ ownerId: z.string().nullable(), milestones: z.number().int(), breaches: z.number().int() })),
        cs: z.array(z.object({ ownerId: z.string().nullable(), milestones: z.number().int(), breaches: z.number().int() })),
      }),
    }),
  })
  .openapi('HandoffReport');

const byTierSchema = <T extends z.ZodRawShape>(shape: T) => z.object({ all: z.object(shape), byTier: z.array(z.object({ tier: z.number().int(), ...shape })) });

const conversionShape = {
  mql: z.number().int(),
  sal: z.number().int(),
  sql: z.number().int(),
  won: z.number().int(),
  salPerMql: z.number().nullable(),
  sqlPerSal: z.number().nullable(),
  sqlPerMql: z.number().nullable(),
  wonPerSql: z.number().nullable(),
};

const stageAgingShape = { stays: z.number().int(), medianHours: z.number().nullable(), p90Hours: z.number().nullable() };

const leadSlaReportSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    speedToLead: byTierSchema({
      clocks: z.number().int(),
      metOnTime: z.number().int(),
      metLate: z.number().int(),
      breachedUnmet: z.number().int(),
      adherence: z.number().nullable(),
      medianBusinessMinutes: z.number().nullable(),
      p90BusinessMinutes: z.number().nullable(),
    }),
    attemptsPerLead: byTierSchema({ leads: z.number().int(), attempts: z.number().int(), mean: z.number().nullable(), median: z.number().nullable() }),
    conversion: byTierSchema(conversionShape),
    conversionBySource: z.array(z.object({ source: z.string().nullable(), ...conversionShape })),
    stageAging: z
      .object({ mql: byTierSchema(stageAgingShape), sal: byTierSchema(stageAgingShape), sql: byTierSchema(stageAgingShape) })
      .openapi({
        description:
          "Time spent in each stage, in wall-clock hours from entering it to moving on (MQL → accepted, SAL → qualified, SQL → closed); a stay counts in the range holding its end when it began in the range",
      }),
    salesCycle: byTierSchema({ won: z.number().int(), meanDays: z.number().nullable(), medianDays: z.number().nullable() }).openapi({
      description: "Days from a won lead's first MQL entry in the range to its win",
    }),
    winRate: byTierSchema({ closed: z.number().int(), won: z.number().int(), lost: z.number().int(), winRate: z.number().nullable() }).openapi({
      description: 'Leads won ÷ leads closed (won or lost) in the range',
    }),
    mqlToSql: z
      .object({ actual: z.number().nullable(), target: z.number().nullable(), meetsTarget: z.boolean().nullable() })
      .openapi({ description: "MQL → SQL over the range (SQLs ÷ MQLs) against the current policy's funnel.mqlToSqlTarget (seed 001: at least 0.30)" }),
    rejections: z.object({
      byReason: z.array(z.object({ reason: z.string(), count: z.number().int() })),
      bySource: z.array(z.object({ source: z.string().nullable(), reason: z.string(), count: z.number().int() })),
      byTier: z.array(z.object({ tier: z.number().int(), reason: z.string(), count: z.number().int() })),
    }),
    pipelineHygiene: z
      .object({
        asOf: z.string(),
        openOpportunities: z.number().int(),
        withNextStep: z.number().int(),
        updatedThisWeek: z.number().int(),
        maintained: z.number().int(),
        maintainedShare: z.number().nullable().openapi({ description: 'open opportunities (SQL now) with a next step not past due and a stage/value update in the last 7 days, 0..1' }),
      })
      .openapi({ description: 'Seed 000 pipeline hygiene, a snapshot as of the end of the range or now, whichever is sooner' }),
    dataQuality: z
      .object({
        records: z.number().int(),
        valid: z.number().int(),
        validShare: z.number().nullable(),
        target: z.number().nullable(),
        meetsTarget: z.boolean().nullable(),
      })
      .openapi({ description: 'Leads taken in during the range with a valid e-mail and a company name (no intake flag, no bounce), against the current policy\'s target' }),
  })
  .openapi('LeadSlaReport');

const nullableNumber = z.number().nullable();
const planRatesSchema = z.object({ leadToMql: nullableNumber, mqlToSal: nullableNumber, salToSql: nullableNumber, winRate: nullableNumber });

const planReportSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    currency: z.string().nullable(),
    measured: z.object({
      months: z.number().openapi({ description: 'Length of [from, to) in months (30.44 days)' }),
      leads: z.number().int(),
      mqls: z.number().int(),
      sals: z.number().int(),
      sqls: z.number().int(),
      closed: z.number().int(),
      won: z.number().int(),
      deals: z.number().int(),
      revenue: z.number(),
      averageDealSize: nullableNumber,
      rates: planRatesSchema,
    }),
    revenueGoal: z.number(),
    months: z.number().int(),
    averageDealSize: nullableNumber,
    rates: planRatesSchema.openapi({ description: 'The rates the plan used: each one given, else measured' }),
    mqlToSql: nullableNumber.openapi({ description: 'MQL → SAL × SAL → SQL (seed 001 target: at least 0.3)' }),
    stages: z.array(
      z.object({
        stage: z.enum(planStages),
        total: nullableNumber.openapi({ description: 'Needed over the period; null when a rate on the way is unknown' }),
        perMonth: nullableNumber,
        runRatePerMonth: nullableNumber,
        gapPerMonth: nullableNumber.openapi({ description: 'perMonth − runRatePerMonth; negative: ahead of plan' }),
      }),
    ),
    revenue: z.object({ goalPerMonth: z.number(), runRatePerMonth: nullableNumber, gapPerMonth: nullableNumber }),
  })
  .openapi('Plan');

const csvContent = (example: string) => ({ 'text/csv': { schema: z.string().openapi({ example }) } });

const handoffsRoute = createRoute({
  method: 'get',
  path: '/handoffs',
  tags: ['reports'],
  summary:
    'Deal handoff timeliness: on-time shares, delays and breaches per owner over every deal won in [from, to), and one page of those deals (ordered by closedWonAt, then dealId) with their milestones due vs done',
  middleware: [requireRole('manager', 'ops')] as const,
  request: { query: handoffQuery },
  responses: {
    200: {
      description: 'The summary and one page of deals; with `Accept: text/csv`, one CSV row per milestone of every deal of the range (no paging)',
      content: {
        'application/json': { schema: handoffReportSchema },
        ...csvContent('dealId,accountName,salesOwnerId,csOwnerId,dealStage,closedWonAt,milestone,kind,owner,ownerId,startedAt,dueAt,doneAt,status,breached,delayBusinessHours\r\n'),
      },
    },
    ...errorResponses(400, 401, 403),
  },
});

const leadSlaRoute = createRoute({
  method: 'get',
  path: '/lead-sla',
  tags: ['reports'],
  summary:
    'Lead SLAs in [from, to): speed-to-lead and adherence by tier, attempts per lead, MQL→SAL→SQL→won conversion by tier and source, stage aging, sales cycle, win rate, rejection reasons by source and tier, pipeline hygiene (open opportunities with a next step and an update in the last 7 days) and data quality (valid records against the target)',
  middleware: [requireRole('manager', 'ops')] as const,
  request: { query: leadSlaQuery },
  responses: {
    200: {
      description: 'The report; with `Accept: text/csv`, one CSV row per figure (section, tier, source, reason, metric, value)',
      content: { 'application/json': { schema: leadSlaReportSchema }, ...csvContent('section,tier,source,reason,metric,value\r\nspeed-to-lead,all,,,clocks,42\r\n') },
    },
    ...errorResponses(400, 401, 403),
  },
});

const planRoute = createRoute({
  method: 'get',
  path: '/plan',
  tags: ['reports'],
  summary:
    'The funnel back-calculated from a revenue goal (seed 001): deals at the average deal size, SQLs at the win rate, then SALs, MQLs and leads; per month, next to the run rate of [from, to) and the gap',
  middleware: [requireRole('manager', 'ops')] as const,
  request: { query: planQuery },
  responses: {
    200: { description: 'The plan; rates and the average deal size not given are the ones measured over [from, to) (default the last 90 days)', content: { 'application/json': { schema: planReportSchema } } },
    ...errorResponses(400, 401, 403),
  },
});

// ---- range and content negotiation -------------------------------------------------------------------

/** An accepted bound as an instant: a bare date is midnight UTC. */
const toInstant = (value: string) => new Date(value.length === 10 ? `${value}T00:00:00Z` : value);

/** [from, to) from the query, defaulting to the last 90 days; a 400 body when from is not before to. */
export function resolveRange(query: { from?: string; to?: string }, now: Date): { from: Date; to: Date } | ErrorBody {
  const to = query.to === undefined ? now : toInstant(query.to);
  const from = query.from === undefined ? new Date(to.getTime() - DEFAULT_RANGE_DAYS * DAY_MS) : toInstant(query.from);
  if (from.getTime() >= to.getTime()) {
    const message = `must be before to (${to.toISOString()}): the range is [from, to)`;
    return { error: 'invalid-request', message: `from: ${message}`, issues: [{ path: 'from', message }] };
  }
  return { from, to };
}

/** The q value the Accept header gives `type`, from its most specific matching range (RFC 9110 §12.5.1). */
function quality(accept: string, type: string): number {
  const [major] = type.split('/');
  let best = { specificity: -1, q: 0 };
  for (const part of accept.split(',')) {
    const [range = '', ...params] = part.trim().toLowerCase().split(';');
    const specificity = range === type ? 2 : range === `${major}/*` ? 1 : range === '*/*' ? 0 : -1;
    if (specificity <= best.specificity) continue;
    const q = params.map((param) => param.trim()).find((param) => param.startsWith('q='));
    const value = q === undefined ? 1 : Number(q.slice(2));
    best = { specificity, q: Number.isFinite(value) ? value : 0 };
  }
  return best.q;
}

/** CSV only when asked for it over JSON; JSON on a tie, on `*\/*` and without an Accept header. */
export function prefersCsv(accept: string | undefined): boolean {
  if (!accept) return false;
  const csv = quality(accept, 'text/csv');
  return csv > 0 && csv > quality(accept, 'application/json');
}

function csvResponse(c: Context, name: string, csv: string) {
  return c.body(csv, 200, {
    'content-type': 'text/csv; charset=utf-8; header=present',
    'content-disposition': `attachment; filename="${name}.csv"`,
    vary: 'Accept',
  });
}

// ---- CSV layouts -------------------------------------------------------------------------------------

const HANDOFF_CSV_HEADER = [
  'dealId',
  'accountName',
  'salesOwnerId',
  'csOwnerId',
  'dealStage',
  'closedWonAt',
  'milestone',
  'kind',
  'owner',
  'ownerId',
  'startedAt',
  'dueAt',
  'doneAt',
  'status',
  'breached',
  'delayBusinessHours',
];

export function handoffCsv(report: HandoffReport): string {
  const rows = report.deals.flatMap((deal) =>
    deal.milestones.map((m): CsvValue[] => [
      deal.dealId,
      deal.accountName,
      deal.salesOwnerId,
      deal.csOwnerId,
      deal.stage,
      deal.closedWonAt,
      m.milestone,
      m.kind,
      m.owner,
      m.ownerId,
      m.startedAt,
      m.dueAt,
      m.doneAt,
      m.status,
      m.breached,
      m.delayBusinessHours,
    ]),
  );
  return toCsv(HANDOFF_CSV_HEADER, rows);
}

const LEAD_SLA_CSV_HEADER = ['section', 'tier', 'source', 'reason', 'metric', 'value'];

/** Long format, one figure per row, so a pivot table takes it as it is. Tier "all" is the total over tiers. */
export function leadSlaCsv(report: LeadSlaReport): string {
  const rows: CsvValue[][] = [];
  function section<T extends object>(name: string, data: ByTier<T>): void {
    for (const { tier, values } of [{ tier: 'all' as string | number, values: data.all }, ...data.byTier.map(({ tier, ...values }) => ({ tier, values }))]) {
      for (const [metric, value] of Object.entries(values)) rows.push([name, tier, null, null, metric, value as CsvValue]);
    }
  }
  section('speed-to-lead', report.speedToLead);
  section('attempts-per-lead', report.attemptsPerLead);
  section('conversion', report.conversion);
  for (const [metric, value] of Object.entries(report.mqlToSql)) rows.push(['mql-to-sql-target', 'all', null, null, metric, value as CsvValue]);
  for (const { source, ...values } of report.conversionBySource) {
    for (const [metric, value] of Object.entries(values)) rows.push(['conversion-by-source', 'all', source, null, metric, value]);
  }
  section('stage-aging-mql', report.stageAging.mql);
  section('stage-aging-sal', report.stageAging.sal);
  section('stage-aging-sql', report.stageAging.sql);
  section('sales-cycle', report.salesCycle);
  section('win-rate', report.winRate);
  for (const row of report.rejections.byReason) rows.push(['rejections-by-reason', 'all', null, row.reason, 'count', row.count]);
  for (const row of report.rejections.bySource) rows.push(['rejections-by-source', 'all', row.source, row.reason, 'count', row.count]);
  for (const row of report.rejections.byTier) rows.push(['rejections-by-tier', row.tier, null, row.reason, 'count', row.count]);
  if (report.dataQuality) {
    for (const [metric, value] of Object.entries(report.dataQuality)) rows.push(['data-quality', 'all', null, null, metric, value as CsvValue]);
  }
  if (report.pipelineHygiene) {
    const { asOf: _asOf, ...figures } = report.pipelineHygiene;
    for (const [metric, value] of Object.entries(figures)) rows.push(['pipeline-hygiene', 'all', null, null, metric, value]);
  }
  return toCsv(LEAD_SLA_CSV_HEADER, rows);
}

// ---- the plan -----------------------------------------------------------------------------------------

const MONTH_MS = (365.25 / 12) * DAY_MS;

export interface PlanReport extends Plan {
  from: string;
  to: string;
  currency: string | null;
  measured: Omit<PlanMeasures, 'currency'> & { months: number; averageDealSize: number | null; rates: PlanRates };
}

export type PlanQuery = z.infer<typeof planQuery>;

/** A measured conversion as a planning rate: within (0, 1], else unknown (re-engaged leads can make MQLs outnumber leads). */
const measuredRate = (part: number, whole: number) => (whole === 0 || part === 0 ? null : Math.min(1, rounded(part / whole, SHARE_DECIMALS)!));

/** The plan for a query: what it gives, else what [from, to) measured. Shared by the API and the dashboard. */
export async function planReport(db: Database, query: PlanQuery, range: { from: Date; to: Date }): Promise<PlanReport> {
  const measures = await planMeasures(db, range, query.currency);
  const months = (range.to.getTime() - range.from.getTime()) / MONTH_MS;
  const measuredRates: PlanRates = {
    leadToMql: measuredRate(measures.mqls, measures.leads),
    mqlToSal: measuredRate(measures.sals, measures.mqls),
    salToSql: measuredRate(measures.sqls, measures.sals),
    winRate: measuredRate(measures.won, measures.closed),
  };
  const measuredDealSize = measures.deals === 0 ? null : rounded(measures.revenue / measures.deals, 2);
  const perMonth = (value: number) => value / months;
  const plan = backCalculatePlan(
    {
      revenueGoal: query.revenueGoal,
      months: query.months ?? 3,
      averageDealSize: query.averageDealSize ?? measuredDealSize,
      rates: {
        leadToMql: query.leadToMql ?? measuredRates.leadToMql,
        mqlToSal: query.mqlToSal ?? measuredRates.mqlToSal,
        salToSql: query.salToSql ?? measuredRates.salToSql,
        winRate: query.winRate ?? measuredRates.winRate,
      },
    },
    {
      leads: perMonth(measures.leads),
      mqls: perMonth(measures.mqls),
      sals: perMonth(measures.sals),
      sqls: perMonth(measures.sqls),
      deals: perMonth(measures.deals),
      revenue: measures.currency === null ? null : perMonth(measures.revenue),
    },
  );
  const { currency: measuredCurrency, ...counts } = measures;
  return {
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    currency: measuredCurrency,
    measured: { ...counts, months: rounded(months, 2)!, averageDealSize: measuredDealSize, rates: measuredRates },
    ...plan,
  };
}

// ---- routes ------------------------------------------------------------------------------------------

export function reportRoutes({ db, now = () => new Date() }: ReportRoutesDependencies) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: (result, c) => (result.success ? undefined : validationFailed(result.error, c)) });

  app.openapi(handoffsRoute, async (c) => {
    const query = c.req.valid('query');
    const range = resolveRange(query, now());
    if ('error' in range) return c.json(range, 400);
    const filters = { ...range, csOwner: query.csOwner, salesOwner: query.salesOwner };
    if (prefersCsv(c.req.header('accept'))) return csvResponse(c, 'handoffs', handoffCsv(await handoffReport(db, filters)));
    const limit = query.limit ?? HANDOFF_LIMIT_DEFAULT;
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const { deals, summary, next } = await handoffPage(db, filters, { limit, after });
    c.header('vary', 'Accept');
    return c.json(
      {
        from: range.from.toISOString(),
        to: range.to.toISOString(),
        csOwner: query.csOwner ?? null,
        salesOwner: query.salesOwner ?? null,
        limit,
        nextCursor: next === null ? null : encodeCursor(next),
        deals,
        summary,
      },
      200,
    );
  });

  app.openapi(leadSlaRoute, async (c) => {
    const range = resolveRange(c.req.valid('query'), now());
    if ('error' in range) return c.json(range, 400);
    const at = now();
    const asOf = new Date(Math.min(range.to.getTime(), at.getTime()));
    const current = range.to.getTime() >= at.getTime();
    const [sla, hygiene, quality] = await Promise.all([leadSlaReport(db, range), pipelineHygiene(db, asOf, { current }), dataQuality(db, range)]);
    const report = { ...sla, pipelineHygiene: hygiene, dataQuality: quality };
    if (prefersCsv(c.req.header('accept'))) return csvResponse(c, 'lead-sla', leadSlaCsv(report));
    c.header('vary', 'Accept');
    return c.json({ from: range.from.toISOString(), to: range.to.toISOString(), ...report }, 200);
  });

  app.openapi(planRoute, async (c) => {
    const query = c.req.valid('query');
    const range = resolveRange(query, now());
    if ('error' in range) return c.json(range, 400);
    return c.json(await planReport(db, query, range), 200);
  });

  return app;
}
