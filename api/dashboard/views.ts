import { z } from '@hono/zod-openapi';
import { and, asc, desc, eq } from 'drizzle-orm';
import { html } from 'hono/html';
import type { Database } from '../../db/client.js';
import { handoffPage, leadBreachBreakdown, leadBreachPage, leadSlaReport, leadSlaSeries, type ReportRange } from '../../db/reports.js';
import { dealEvents, dealMilestones, deals, leadEvents, leads } from '../../db/schema.js';
import { addDuration, businessMinutesBetween, nextWorkingInstant, reportPeriods, type ReportPeriodUnit } from '../../domain/business-time.js';
import type { Policy } from '../../domain/policy.js';
import type { ByTier, ConversionRow, LeadSlaReport, SalesCycleRow, StageAgingRow, WinRateRow } from '../../domain/report-stats.js';
import type { ApiKey } from '../../service.config.js';
import { planQuery, planReport, resolveRange } from '../reports.js';
import { identifier, instant, isoDate } from '../primitives.js';
import { chart, dataTable, display, filterForm, kpis, layout, pager, percent, type Column, type Html } from './html.js';

/**
 * The dashboard's pages. Each reads the same functions the /reports API answers with (db/reports.ts), so a
 * figure on a page is the figure in the API for the same range; aggregation happens in Postgres, and lists
 * are paged on the server.
 */

export interface PageContext {
  db: Database;
  caller: ApiKey;
  query: URLSearchParams;
  now: Date;
  currentPolicy: () => Promise<Policy>;
  /** The workflow in the Temporal UI, when its URL is configured. */
  workflowLink: (workflowId: string) => string | undefined;
}

type Page = Promise<{ status: 200 | 400 | 404; body: Html }>;

const DEALS_PER_PAGE = 25;
const BREACHES_PER_PAGE = 25;
const PAGE_MAX = 10_000;
/** A dashboard range holds at most two years: its per-period statements stay few and its answer quick. */
const RANGE_DAYS_MAX = 731;
const PERIODS_MAX = 60;
const DAY_MS = 86_400_000;

const bound = z.union([instant, isoDate], { error: 'a date (2026-11-23) or an ISO date-time with offset, in years 2000-2099' });
const rangeFields = { from: bound.optional(), to: bound.optional() };
const pageField = z.coerce.number().int('a whole number').min(1, 'at least 1').max(PAGE_MAX, `at most ${PAGE_MAX}`).optional();
const periodField = z.enum(['week', 'month']).optional();

/** The query as a plain object without the fields left empty in a form. */
const queryObject = (query: URLSearchParams) => Object.fromEntries([...query.entries()].filter(([, value]) => value !== ''));

type Parsed<T> = { ok: true; value: T; range: ReportRange } | { ok: false; problems: string[] };

function parse<T extends { from?: string; to?: string }>(schema: z.ZodType<T>, ctx: PageContext): Parsed<T> {
  const result = schema.safeParse(queryObject(ctx.query));
  if (!result.success) return { ok: false, problems: result.error.issues.map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`) };
  const range = resolveRange(result.data, ctx.now);
  if ('error' in range) return { ok: false, problems: [range.message] };
  if (range.to.getTime() - range.from.getTime() > RANGE_DAYS_MAX * DAY_MS) return { ok: false, problems: [`from: the range may span at most ${RANGE_DAYS_MAX} days`] };
  return { ok: true, value: result.data, range };
}

const invalid = (ctx: PageContext, title: string, active: string, problems: string[], form: Html): Awaited<Page> => ({
  status: 400,
  body: layout({ title, caller: ctx.caller, active, body: html`${form}<ul class="error" role="alert">${problems.map((problem) => html`<li>${problem}</li>`)}</ul>` }),
});

const value = (ctx: PageContext, name: string) => ctx.query.get(name) ?? '';
const rangeInputs = (ctx: PageContext) => [
  { name: 'from', label: 'From', value: value(ctx, 'from'), type: 'date' },
  { name: 'to', label: 'To (exclusive)', value: value(ctx, 'to'), type: 'date' },
];
const rangeNote = (range: ReportRange) => html`<p class="range" data-from="${range.from.toISOString()}" data-to="${range.to.toISOString()}">From ${range.from.toISOString()} to ${range.to.toISOString()} (exclusive; default the last 90 days).</p>`;

const day = (iso: string | null) => (iso === null ? '—' : iso.slice(0, 16).replace('T', ' '));

function links(ctx: PageContext, path: string, workflowId: string, label: string): Html {
  const temporal = ctx.workflowLink(workflowId);
  return html`<a href="${path}">${label}</a>${temporal ? html` <a class="temporal" href="${temporal}" target="_blank" rel="noopener noreferrer">workflow ↗</a>` : ''}`;
}
const leadLinks = (ctx: PageContext, leadId: string, workflowId: string) => links(ctx, `/dashboard/leads/${encodeURIComponent(leadId)}`, workflowId, leadId);
const dealLinks = (ctx: PageContext, dealId: string, workflowId: string) => links(ctx, `/dashboard/deals/${encodeURIComponent(dealId)}`, workflowId, dealId);

/** Business minutes a duration spans on the policy's default calendar, from the start of a working day. */
function deadlineMinutes(policy: Policy, duration: Policy['speedToLead']['tier1']): number {
  const calendar = policy.calendars[policy.defaultCalendarId]!;
  const start = nextWorkingInstant(calendar, new Date('2026-01-05T00:00:00Z'));
  return businessMinutesBetween(calendar, start, addDuration(calendar, start, duration));
}

/** Weeks for a range of up to two months, months beyond; the page's `period` field overrides. */
function periodsFor(range: ReportRange, unit: ReportPeriodUnit | undefined): { unit: ReportPeriodUnit; periods: ReportRange[] } | string {
  const chosen = unit ?? (range.to.getTime() - range.from.getTime() <= 62 * DAY_MS ? 'week' : 'month');
  const periods = reportPeriods(range.from, range.to, chosen);
  if (periods.length > PERIODS_MAX) return `period: ${periods.length} ${chosen}s is more than ${PERIODS_MAX}; choose month or a shorter range`;
  return { unit: chosen, periods };
}
const periodLabel = (period: ReportRange) => period.from.toISOString().slice(0, 10);

// ---- Handoff timelines ---------------------------------------------------------------------------------

const handoffQuery = z.object({ ...rangeFields, salesOwner: identifier.optional(), csOwner: identifier.optional(), page: pageField });

export async function handoffsPage(ctx: PageContext): Page {
  const title = 'Handoff timelines';
  const active = '/dashboard/handoffs';
  const form = filterForm(active, [
    ...rangeInputs(ctx),
    { name: 'salesOwner', label: 'Sales owner', value: value(ctx, 'salesOwner') },
    { name: 'csOwner', label: 'CS owner', value: value(ctx, 'csOwner') },
  ]);
  const parsed = parse(handoffQuery, ctx);
  if (!parsed.ok) return invalid(ctx, title, active, parsed.problems, form);
  const { range, value: query } = parsed;
  const page = query.page ?? 1;
  // The summary over every deal of the range, and only this page's deals read (db/reports.ts handoffPage).
  const report = await handoffPage(
    ctx.db,
    { ...range, salesOwner: query.salesOwner, csOwner: query.csOwner },
    { limit: DEALS_PER_PAGE, offset: (page - 1) * DEALS_PER_PAGE },
  );
  const { summary } = report;
  const shown = report.deals;
  const milestoneNames = [...new Set(shown.flatMap((deal) => deal.milestones.map((m) => m.milestone)))];

  type Kind = (typeof summary.milestones)[number];
  const kindColumns: Array<Column<Kind>> = [
    { key: 'kind', label: 'Milestone', value: (row) => row.kind },
    { key: 'total', label: 'Total', value: (row) => row.total },
    { key: 'onTime', label: 'On time', value: (row) => row.onTime },
    { key: 'late', label: 'Late', value: (row) => row.late },
    { key: 'overdue', label: 'Overdue', value: (row) => row.overdue },
    { key: 'open', label: 'Open', value: (row) => row.open },
    { key: 'onTimeShare', label: 'On-time share', value: (row) => row.onTimeShare, show: (row) => percent(row.onTimeShare) },
    { key: 'delayMedian', label: 'Median delay (business h)', value: (row) => row.delayBusinessHours.median },
    { key: 'delayP90', label: 'p90 delay (business h)', value: (row) => row.delayBusinessHours.p90 },
  ];
  type Owner = (typeof summary.breachesByOwner.sales)[number];
  const ownerColumns: Array<Column<Owner>> = [
    { key: 'ownerId', label: 'Owner', value: (row) => row.ownerId },
    { key: 'milestones', label: 'Milestones', value: (row) => row.milestones },
    { key: 'breaches', label: 'Breaches', value: (row) => row.breaches },
  ];
  type Deal = (typeof report.deals)[number];
  const dealColumns: Array<Column<Deal>> = [
    { key: 'dealId', label: 'Deal', value: (deal) => deal.dealId, show: (deal) => dealLinks(ctx, deal.dealId, `deal-${deal.dealId}`) },
    { key: 'accountName', label: 'Account', value: (deal) => deal.accountName },
    { key: 'salesOwnerId', label: 'Sales owner', value: (deal) => deal.salesOwnerId },
    { key: 'csOwnerId', label: 'CS owner', value: (deal) => deal.csOwnerId },
    { key: 'closedWonAt', label: 'Won', value: (deal) => deal.closedWonAt, show: (deal) => day(deal.closedWonAt) },
    ...milestoneNames.map(
      (name): Column<Deal> => ({
        key: `status-${name}`,
        label: name,
        value: (deal) => deal.milestones.find((m) => m.milestone === name)?.status ?? null,
        show: (deal) => {
          const m = deal.milestones.find((candidate) => candidate.milestone === name);
          return m ? html`<span class="status ${m.status}">${m.status}</span><br><small>due ${day(m.dueAt)}${m.doneAt ? html`, done ${day(m.doneAt)}` : ''}</small>` : '—';
        },
      }),
    ),
  ];

  const timelinePoints = (pick: (m: Deal['milestones'][number]) => { at: string | null; ok: boolean }) =>
    shown.flatMap((deal) =>
      deal.milestones.flatMap((m) => {
        const { at, ok } = pick(m);
        return at === null || !ok ? [] : [{ x: Date.parse(at), y: deal.dealId, status: `${m.milestone}: ${m.status}` }];
      }),
    );
  const timeline = chart(
    'handoff-timeline',
    `Milestones of the deals on this page on one time axis: won, due, done on time, done late, overdue (${shown.length} deals)`,
    {
      type: 'timeline',
      labels: shown.map((deal) => deal.dealId),
      datasets: [
        { label: 'won', data: shown.map((deal) => ({ x: Date.parse(deal.closedWonAt), y: deal.dealId, status: 'won' })) },
        { label: 'due', data: timelinePoints((m) => ({ at: m.dueAt, ok: true })) },
        { label: 'done on time', data: timelinePoints((m) => ({ at: m.doneAt, ok: m.status === 'on-time' })) },
        { label: 'done late (breach)', data: timelinePoints((m) => ({ at: m.doneAt, ok: m.status === 'late' })) },
        { label: 'overdue (breach)', data: timelinePoints((m) => ({ at: m.dueAt, ok: m.status === 'overdue' })) },
      ],
      x: 'time (UTC)',
    },
    Math.max(160, 40 + shown.length * 22),
  );

  const body = html`${form}${rangeNote(range)}
${kpis([
  { id: 'kpi-deals', label: 'Deals won in range', value: summary.deals, show: display(summary.deals) },
  ...summary.milestones.map((m) => ({ id: `kpi-on-time-${m.kind}`, label: `${m.kind} on time`, value: m.onTimeShare, show: percent(m.onTimeShare) })),
])}
<section><h2>On time, per milestone</h2>
${chart('handoff-on-time', 'On-time share per milestone (of those whose outcome is known)', {
  type: 'bar',
  labels: summary.milestones.map((m) => m.kind),
  datasets: [{ label: 'on-time share', data: summary.milestones.map((m) => m.onTimeShare) }],
  percent: true,
})}
${chart('handoff-delay', 'Median and p90 delay per milestone, business hours past due (0 when on time)', {
  type: 'bar',
  labels: summary.milestones.map((m) => m.kind),
  datasets: [
    { label: 'median delay (business h)', data: summary.milestones.map((m) => m.delayBusinessHours.median) },
    { label: 'p90 delay (business h)', data: summary.milestones.map((m) => m.delayBusinessHours.p90) },
  ],
})}
${dataTable('handoff-milestones', 'Milestones by kind', kindColumns, summary.milestones)}
</section>
<section><h2>Breaches per owner</h2>
<div class="pair">
<div>${chart('handoff-breaches-sales', 'Breached milestones per sales owner (the dossier)', {
  type: 'bar',
  horizontal: true,
  labels: summary.breachesByOwner.sales.map((row) => row.ownerId ?? 'none'),
  datasets: [{ label: 'breaches', data: summary.breachesByOwner.sales.map((row) => row.breaches) }],
})}
${dataTable('handoff-breaches-sales-table', 'Sales owners', ownerColumns, summary.breachesByOwner.sales)}</div>
<div>${chart('handoff-breaches-cs', 'Breached milestones per CS owner (kickoff, QBRs)', {
  type: 'bar',
  horizontal: true,
  labels: summary.breachesByOwner.cs.map((row) => row.ownerId ?? 'none'),
  datasets: [{ label: 'breaches', data: summary.breachesByOwner.cs.map((row) => row.breaches) }],
})}
${dataTable('handoff-breaches-cs-table', 'CS owners', ownerColumns, summary.breachesByOwner.cs)}</div>
</div>
</section>
<section><h2>Each deal's timeline</h2>
${timeline}
${dataTable('handoff-deals', `Deals ${shown.length === 0 ? 0 : (page - 1) * DEALS_PER_PAGE + 1}–${(page - 1) * DEALS_PER_PAGE + shown.length} of ${summary.deals}`, dealColumns, shown)}
${pager(active, ctx.query, page, report.next !== null)}
</section>`;
  return { status: 200, body: layout({ title, caller: ctx.caller, active, body }) };
}

// ---- Lead SLA ----------------------------------------------------------------------------------------

const leadSlaPageQuery = z.object({ ...rangeFields, period: periodField, page: pageField });

export async function leadSlaPage(ctx: PageContext): Page {
  const title = 'Lead SLA';
  const active = '/dashboard/lead-sla';
  const form = filterForm(active, [...rangeInputs(ctx), { name: 'period', label: 'Per', value: value(ctx, 'period'), options: ['', 'week', 'month'] }]);
  const parsed = parse(leadSlaPageQuery, ctx);
  if (!parsed.ok) return invalid(ctx, title, active, parsed.problems, form);
  const { range, value: query } = parsed;
  const cut = periodsFor(range, query.period);
  if (typeof cut === 'string') return invalid(ctx, title, active, [cut], form);
  const page = query.page ?? 1;
  const [policy, report, series, breakdown, breaches] = await Promise.all([
    ctx.currentPolicy(),
    leadSlaReport(ctx.db, range),
    leadSlaSeries(ctx.db, range, cut.unit),
    leadBreachBreakdown(ctx.db, range),
    leadBreachPage(ctx.db, range, { offset: (page - 1) * BREACHES_PER_PAGE, limit: BREACHES_PER_PAGE + 1 }),
  ]);
  const deadlines: Record<number, number> = {
    1: deadlineMinutes(policy, policy.speedToLead.tier1),
    2: deadlineMinutes(policy, policy.speedToLead.tier2),
    3: deadlineMinutes(policy, policy.speedToLead.tier3),
  };
  const tiers = report.speedToLead.byTier.map((row) => row.tier);
  const seriesRows = series.flatMap((period) => period.speedToLead.byTier.map((row) => ({ period: periodLabel(period), ...row, deadline: deadlines[row.tier] ?? null })));
  type SeriesRow = (typeof seriesRows)[number];
  const speedColumns: Array<Column<SeriesRow>> = [
    { key: 'period', label: `${cut.unit === 'week' ? 'Week' : 'Month'} from`, value: (row) => row.period },
    { key: 'tier', label: 'Tier', value: (row) => row.tier },
    { key: 'clocks', label: 'Clocks', value: (row) => row.clocks },
    { key: 'adherence', label: 'Adherence', value: (row) => row.adherence, show: (row) => percent(row.adherence) },
    { key: 'median', label: 'Median (business min)', value: (row) => row.medianBusinessMinutes },
    { key: 'p90', label: 'p90 (business min)', value: (row) => row.p90BusinessMinutes },
    { key: 'deadline', label: 'Deadline (business min)', value: (row) => row.deadline },
  ];
  type TierRow = LeadSlaReport['speedToLead']['byTier'][number];
  const tierColumns: Array<Column<TierRow>> = [
    { key: 'tier', label: 'Tier', value: (row) => row.tier },
    { key: 'clocks', label: 'Clocks', value: (row) => row.clocks },
    { key: 'metOnTime', label: 'Met on time', value: (row) => row.metOnTime },
    { key: 'metLate', label: 'Met late', value: (row) => row.metLate },
    { key: 'breachedUnmet', label: 'Breached, never met', value: (row) => row.breachedUnmet },
    { key: 'adherence', label: 'Adherence', value: (row) => row.adherence, show: (row) => percent(row.adherence) },
    { key: 'median', label: 'Median (business min)', value: (row) => row.medianBusinessMinutes },
    { key: 'p90', label: 'p90 (business min)', value: (row) => row.p90BusinessMinutes },
    { key: 'deadline', label: 'Deadline (business min)', value: (row) => deadlines[row.tier] ?? null },
  ];
  const shownBreaches = breaches.slice(0, BREACHES_PER_PAGE);
  const all = report.speedToLead.all;

  const body = html`${form}${rangeNote(range)}
${kpis([
  { id: 'kpi-adherence', label: 'Adherence (met on time ÷ clocks)', value: all.adherence, show: percent(all.adherence) },
  { id: 'kpi-clocks', label: 'Speed-to-lead clocks', value: all.clocks, show: display(all.clocks) },
  { id: 'kpi-median', label: 'Median speed-to-lead (business min)', value: all.medianBusinessMinutes, show: display(all.medianBusinessMinutes) },
  { id: 'kpi-p90', label: 'p90 speed-to-lead (business min)', value: all.p90BusinessMinutes, show: display(all.p90BusinessMinutes) },
])}
<section><h2>Speed-to-lead by tier over time</h2>
${chart('sla-speed-over-time', `Median and p90 business minutes to first contact per ${cut.unit} and tier, against each tier's deadline`, {
  type: 'line',
  labels: series.map(periodLabel),
  datasets: tiers.flatMap((tier) => [
    { label: `tier ${tier} median`, data: series.map((period) => period.speedToLead.byTier.find((row) => row.tier === tier)?.medianBusinessMinutes ?? null) },
    { label: `tier ${tier} p90`, data: series.map((period) => period.speedToLead.byTier.find((row) => row.tier === tier)?.p90BusinessMinutes ?? null) },
    { label: `tier ${tier} deadline`, data: series.map(() => deadlines[tier] ?? null) },
  ]),
  y: 'business minutes',
})}
${dataTable('sla-speed-series', `Speed-to-lead per ${cut.unit} and tier`, speedColumns, seriesRows)}
</section>
<section><h2>Adherence by tier</h2>
${chart('sla-adherence', 'Share of speed-to-lead clocks met on time, per tier', {
  type: 'bar',
  labels: report.speedToLead.byTier.map((row) => `tier ${row.tier}`),
  datasets: [{ label: 'adherence', data: report.speedToLead.byTier.map((row) => row.adherence) }],
  percent: true,
})}
${dataTable('sla-by-tier', 'Speed-to-lead by tier over the whole range', tierColumns, report.speedToLead.byTier)}
</section>
<section><h2>Breaches by owner and queue</h2>
<div class="pair">
<div>${chart('sla-breaches-owner', 'Speed-to-lead breaches per owner at the time', {
  type: 'bar',
  horizontal: true,
  labels: breakdown.byOwner.map((row) => row.ownerId ?? 'none'),
  datasets: [{ label: 'breaches', data: breakdown.byOwner.map((row) => row.breaches) }],
})}
${dataTable('sla-breaches-owner-table', 'Breaches per owner', [
  { key: 'ownerId', label: 'Owner', value: (row: (typeof breakdown.byOwner)[number]) => row.ownerId },
  { key: 'breaches', label: 'Breaches', value: (row: (typeof breakdown.byOwner)[number]) => row.breaches },
], breakdown.byOwner)}</div>
<div>${chart('sla-breaches-queue', 'Speed-to-lead breaches per routing queue', {
  type: 'bar',
  horizontal: true,
  labels: breakdown.byQueue.map((row) => row.queueId ?? 'none'),
  datasets: [{ label: 'breaches', data: breakdown.byQueue.map((row) => row.breaches) }],
})}
${dataTable('sla-breaches-queue-table', 'Breaches per queue', [
  { key: 'queueId', label: 'Queue', value: (row: (typeof breakdown.byQueue)[number]) => row.queueId },
  { key: 'breaches', label: 'Breaches', value: (row: (typeof breakdown.byQueue)[number]) => row.breaches },
], breakdown.byQueue)}</div>
</div>
</section>
<section><h2>Escalation levels reached</h2>
${chart('sla-escalations', 'Escalations per level of the ladder, and the leads that reached each', {
  type: 'bar',
  labels: breakdown.escalations.map((row) => `${row.level}: ${row.action ?? '?'}`),
  datasets: [
    { label: 'escalations', data: breakdown.escalations.map((row) => row.escalations) },
    { label: 'leads', data: breakdown.escalations.map((row) => row.leads) },
  ],
})}
${dataTable('sla-escalations-table', 'Escalations per level', [
  { key: 'level', label: 'Level', value: (row: (typeof breakdown.escalations)[number]) => row.level },
  { key: 'action', label: 'Action', value: (row: (typeof breakdown.escalations)[number]) => row.action },
  { key: 'escalations', label: 'Escalations', value: (row: (typeof breakdown.escalations)[number]) => row.escalations },
  { key: 'leads', label: 'Leads', value: (row: (typeof breakdown.escalations)[number]) => row.leads },
], breakdown.escalations)}
</section>
<section><h2>Breaches, newest first</h2>
${dataTable('sla-breach-list', 'Speed-to-lead breaches in the range', [
  { key: 'at', label: 'Breached', value: (row: (typeof shownBreaches)[number]) => row.at, show: (row: (typeof shownBreaches)[number]) => day(row.at) },
  { key: 'leadId', label: 'Lead', value: (row: (typeof shownBreaches)[number]) => row.leadId, show: (row: (typeof shownBreaches)[number]) => leadLinks(ctx, row.leadId, row.workflowId) },
  { key: 'tier', label: 'Tier', value: (row: (typeof shownBreaches)[number]) => row.tier },
  { key: 'ownerId', label: 'Owner', value: (row: (typeof shownBreaches)[number]) => row.ownerId },
  { key: 'queueId', label: 'Queue', value: (row: (typeof shownBreaches)[number]) => row.queueId },
  { key: 'stage', label: 'Stage now', value: (row: (typeof shownBreaches)[number]) => row.stage },
], shownBreaches)}
${pager(active, ctx.query, page, breaches.length > BREACHES_PER_PAGE)}
</section>`;
  return { status: 200, body: layout({ title, caller: ctx.caller, active, body }) };
}

// ---- Funnel -----------------------------------------------------------------------------------------

const funnelQuery = z.object({ ...rangeFields, period: periodField });

const conversionColumns = <Row extends ConversionRow>(first: Column<Row>): Array<Column<Row>> => [
  first,
  { key: 'mql', label: 'MQL', value: (row) => row.mql },
  { key: 'sal', label: 'SAL', value: (row) => row.sal },
  { key: 'sql', label: 'SQL', value: (row) => row.sql },
  { key: 'won', label: 'Won', value: (row) => row.won },
  { key: 'salPerMql', label: 'MQL → SAL', value: (row) => row.salPerMql, show: (row) => percent(row.salPerMql) },
  { key: 'sqlPerSal', label: 'SAL → SQL', value: (row) => row.sqlPerSal, show: (row) => percent(row.sqlPerSal) },
  { key: 'sqlPerMql', label: 'MQL → SQL', value: (row) => row.sqlPerMql, show: (row) => percent(row.sqlPerMql) },
  { key: 'wonPerSql', label: 'SQL → won', value: (row) => row.wonPerSql, show: (row) => percent(row.wonPerSql) },
];

const funnelChart = (id: string, description: string, labels: string[], rows: readonly ConversionRow[]) =>
  chart(id, description, {
    type: 'bar',
    labels,
    datasets: (['mql', 'sal', 'sql', 'won'] as const).map((stage) => ({ label: stage.toUpperCase(), data: rows.map((row) => row[stage]) })),
  });

export async function funnelPage(ctx: PageContext): Page {
  const title = 'Funnel';
  const active = '/dashboard/funnel';
  const form = filterForm(active, [...rangeInputs(ctx), { name: 'period', label: 'Per', value: value(ctx, 'period'), options: ['', 'week', 'month'] }]);
  const parsed = parse(funnelQuery, ctx);
  if (!parsed.ok) return invalid(ctx, title, active, parsed.problems, form);
  const { range, value: query } = parsed;
  const cut = periodsFor(range, query.period);
  if (typeof cut === 'string') return invalid(ctx, title, active, [cut], form);
  const [report, series] = await Promise.all([leadSlaReport(ctx.db, range), leadSlaSeries(ctx.db, range, cut.unit)]);
  const periodRows = series.map((period) => ({ period: periodLabel(period), ...period.conversion.all }));
  const agingRows = (['mql', 'sal', 'sql'] as const).flatMap((stage) => {
    const section: ByTier<StageAgingRow> = report.stageAging[stage];
    return [{ stage: stage.toUpperCase(), tier: 'all' as number | 'all', ...section.all }, ...section.byTier.map((row) => ({ stage: stage.toUpperCase(), ...row }))];
  });
  type AgingRow = (typeof agingRows)[number];
  // Closes (win rate) and cycles (wins measured from their MQL entry) counted separately: keep each its own field.
  const outcome = (tier: number | 'all', closes: WinRateRow, cycle: SalesCycleRow | undefined) => ({
    tier,
    closed: closes.closed,
    won: closes.won,
    lost: closes.lost,
    winRate: closes.winRate,
    meanDays: cycle?.meanDays ?? null,
    medianDays: cycle?.medianDays ?? null,
  });
  const outcomeRows = [
    outcome('all', report.winRate.all, report.salesCycle.all),
    ...report.winRate.byTier.map((row) => outcome(row.tier, row, report.salesCycle.byTier.find((cycle) => cycle.tier === row.tier))),
  ];
  type OutcomeRow = (typeof outcomeRows)[number];
  const { rejections } = report;
  const all = report.conversion.all;

  const body = html`${form}${rangeNote(range)}
${kpis([
  {
    id: 'kpi-mql-to-sql',
    label: report.mqlToSql.target === null ? 'MQL → SQL' : `MQL → SQL (target ≥ ${percent(report.mqlToSql.target)}${report.mqlToSql.meetsTarget === false ? ', missed' : report.mqlToSql.meetsTarget ? ', met' : ''})`,
    value: all.sqlPerMql,
    show: percent(all.sqlPerMql),
  },
  { id: 'kpi-win-rate', label: 'Win rate (won ÷ closed)', value: report.winRate.all.winRate, show: percent(report.winRate.all.winRate) },
  { id: 'kpi-cycle', label: 'Average sales cycle (days, MQL → won)', value: report.salesCycle.all.meanDays, show: display(report.salesCycle.all.meanDays) },
  { id: 'kpi-won', label: 'Won', value: all.won, show: display(all.won) },
])}
<section><h2>MQL → SAL → SQL → won per ${cut.unit}</h2>
${funnelChart('funnel-periods', `Leads reaching each stage per ${cut.unit}`, periodRows.map((row) => row.period), periodRows)}
${dataTable('funnel-series', `Conversion per ${cut.unit}`, conversionColumns<(typeof periodRows)[number]>({ key: 'period', label: `${cut.unit === 'week' ? 'Week' : 'Month'} from`, value: (row) => row.period }), periodRows)}
</section>
<section><h2>By tier</h2>
${funnelChart('funnel-tier', 'Leads reaching each stage per ICP tier', report.conversion.byTier.map((row) => `tier ${row.tier}`), report.conversion.byTier)}
${dataTable('funnel-by-tier', 'Conversion by tier', conversionColumns<(typeof report.conversion.byTier)[number]>({ key: 'tier', label: 'Tier', value: (row) => row.tier }), [
  ...report.conversion.byTier,
])}
</section>
<section><h2>By source</h2>
${funnelChart('funnel-source', 'Leads reaching each stage per lead source', report.conversionBySource.map((row) => row.source ?? 'none'), report.conversionBySource)}
${dataTable('funnel-by-source', 'Conversion by source', conversionColumns<(typeof report.conversionBySource)[number]>({ key: 'source', label: 'Source', value: (row) => row.source }), report.conversionBySource)}
</section>
<section><h2>Stage aging</h2>
${chart('funnel-aging', 'Hours spent in each stage before moving on (median and p90, all tiers)', {
  type: 'bar',
  labels: ['MQL', 'SAL', 'SQL'],
  datasets: [
    { label: 'median hours', data: (['mql', 'sal', 'sql'] as const).map((stage) => report.stageAging[stage].all.medianHours) },
    { label: 'p90 hours', data: (['mql', 'sal', 'sql'] as const).map((stage) => report.stageAging[stage].all.p90Hours) },
  ],
})}
${dataTable('funnel-aging-table', 'Stage aging (wall-clock hours)', [
  { key: 'stage', label: 'Stage', value: (row: AgingRow) => row.stage },
  { key: 'tier', label: 'Tier', value: (row: AgingRow) => row.tier },
  { key: 'stays', label: 'Stays', value: (row: AgingRow) => row.stays },
  { key: 'medianHours', label: 'Median hours', value: (row: AgingRow) => row.medianHours },
  { key: 'p90Hours', label: 'p90 hours', value: (row: AgingRow) => row.p90Hours },
], agingRows)}
</section>
<section><h2>Win rate and sales cycle</h2>
${chart('funnel-win-rate', 'Win rate per tier (won ÷ closed)', {
  type: 'bar',
  labels: outcomeRows.map((row) => (row.tier === 'all' ? 'all' : `tier ${row.tier}`)),
  datasets: [{ label: 'win rate', data: outcomeRows.map((row) => row.winRate) }],
  percent: true,
})}
${dataTable('funnel-outcomes', 'Closes and cycle by tier', [
  { key: 'tier', label: 'Tier', value: (row: OutcomeRow) => row.tier },
  { key: 'closed', label: 'Closed', value: (row: OutcomeRow) => row.closed },
  { key: 'won', label: 'Won', value: (row: OutcomeRow) => row.won },
  { key: 'lost', label: 'Lost', value: (row: OutcomeRow) => row.lost },
  { key: 'winRate', label: 'Win rate', value: (row: OutcomeRow) => row.winRate, show: (row: OutcomeRow) => percent(row.winRate) },
  { key: 'meanDays', label: 'Mean cycle (days)', value: (row: OutcomeRow) => row.meanDays },
  { key: 'medianDays', label: 'Median cycle (days)', value: (row: OutcomeRow) => row.medianDays },
], outcomeRows)}
</section>
<section><h2>Rejection reasons</h2>
<div class="pair">
<div>${chart('funnel-rejections-source', 'Returns to nurture by source and reason', {
  type: 'bar',
  horizontal: true,
  labels: rejections.bySource.map((row) => `${row.source ?? 'none'} · ${row.reason}`),
  datasets: [{ label: 'returns to nurture', data: rejections.bySource.map((row) => row.count) }],
})}
${dataTable('funnel-rejections-source-table', 'By source', [
  { key: 'source', label: 'Source', value: (row: (typeof rejections.bySource)[number]) => row.source },
  { key: 'reason', label: 'Reason', value: (row: (typeof rejections.bySource)[number]) => row.reason },
  { key: 'count', label: 'Count', value: (row: (typeof rejections.bySource)[number]) => row.count },
], rejections.bySource)}</div>
<div>${chart('funnel-rejections-tier', 'Returns to nurture by tier and reason', {
  type: 'bar',
  horizontal: true,
  labels: rejections.byTier.map((row) => `tier ${row.tier} · ${row.reason}`),
  datasets: [{ label: 'returns to nurture', data: rejections.byTier.map((row) => row.count) }],
})}
${dataTable('funnel-rejections-tier-table', 'By tier', [
  { key: 'tier', label: 'Tier', value: (row: (typeof rejections.byTier)[number]) => row.tier },
  { key: 'reason', label: 'Reason', value: (row: (typeof rejections.byTier)[number]) => row.reason },
  { key: 'count', label: 'Count', value: (row: (typeof rejections.byTier)[number]) => row.count },
], rejections.byTier)}</div>
</div>
</section>`;
  return { status: 200, body: layout({ title, caller: ctx.caller, active, body }) };
}

// ---- Planner ----------------------------------------------------------------------------------------

export async function plannerPage(ctx: PageContext): Page {
  const title = 'Planner';
  const active = '/dashboard/planner';
  const fields = ['revenueGoal', 'months', 'currency', 'averageDealSize', 'leadToMql', 'mqlToSal', 'salToSql', 'winRate', 'from', 'to'] as const;
  const labels: Record<(typeof fields)[number], string> = {
    revenueGoal: 'Revenue goal',
    months: 'Months',
    currency: 'Currency',
    averageDealSize: 'Average deal size',
    leadToMql: 'Lead → MQL (0–1)',
    mqlToSal: 'MQL → SAL (0–1)',
    salToSql: 'SAL → SQL (0–1)',
    winRate: 'Win rate SQL → won (0–1)',
    from: 'Measure from',
    to: 'Measure to',
  };
  const form = filterForm(
    active,
    fields.map((name) => ({
      name,
      label: labels[name],
      value: value(ctx, name),
      type: name === 'from' || name === 'to' ? 'date' : name === 'currency' ? 'text' : 'number',
    })),
  );
  const given = queryObject(ctx.query);
  if (given.revenueGoal === undefined) {
    return {
      status: 200,
      body: layout({
        title,
        caller: ctx.caller,
        active,
        body: html`${form}<p>Enter a revenue goal and its period in months. Rates and the average deal size left empty are the ones measured over the range (default the last 90 days); the plan works back from deals to leads (seed 001).</p>`,
      }),
    };
  }
  const result = planQuery.safeParse(given);
  if (!result.success) return invalid(ctx, title, active, result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`), form);
  const range = resolveRange(result.data, ctx.now);
  if ('error' in range) return invalid(ctx, title, active, [range.message], form);
  const plan = await planReport(ctx.db, result.data, range);
  type Stage = (typeof plan.stages)[number];
  const rateRows = (['leadToMql', 'mqlToSal', 'salToSql', 'winRate'] as const).map((rate) => ({
    rate,
    used: plan.rates[rate],
    measured: plan.measured.rates[rate],
    source: result.data[rate] === undefined ? 'measured' : 'given',
  }));
  type RateRow = (typeof rateRows)[number];

  const body = html`${form}${rangeNote(range)}
${kpis([
  { id: 'kpi-goal-per-month', label: `Goal per month${plan.currency ? ` (${plan.currency})` : ''}`, value: plan.revenue.goalPerMonth, show: display(plan.revenue.goalPerMonth) },
  { id: 'kpi-revenue-run-rate', label: 'Revenue run rate per month', value: plan.revenue.runRatePerMonth, show: display(plan.revenue.runRatePerMonth) },
  { id: 'kpi-revenue-gap', label: 'Gap per month', value: plan.revenue.gapPerMonth, show: display(plan.revenue.gapPerMonth) },
  { id: 'kpi-deal-size', label: 'Average deal size used', value: plan.averageDealSize, show: display(plan.averageDealSize) },
  { id: 'kpi-mql-to-sql', label: 'MQL → SQL used', value: plan.mqlToSql, show: percent(plan.mqlToSql) },
])}
<section><h2>Needed per month vs the current run rate</h2>
${chart('plan-funnel', 'Records needed per month at each stage, next to what the funnel produces now', {
  type: 'bar',
  labels: plan.stages.map((stage) => stage.stage),
  datasets: [
    { label: 'needed per month', data: plan.stages.map((stage) => stage.perMonth) },
    { label: 'run rate per month', data: plan.stages.map((stage) => stage.runRatePerMonth) },
  ],
})}
${dataTable('plan-stages', `The plan over ${plan.months} month(s)`, [
  { key: 'stage', label: 'Stage', value: (row: Stage) => row.stage },
  { key: 'total', label: 'Needed in the period', value: (row: Stage) => row.total },
  { key: 'perMonth', label: 'Needed per month', value: (row: Stage) => row.perMonth },
  { key: 'runRatePerMonth', label: 'Run rate per month', value: (row: Stage) => row.runRatePerMonth },
  { key: 'gapPerMonth', label: 'Gap per month', value: (row: Stage) => row.gapPerMonth },
], plan.stages)}
${dataTable('plan-rates', 'Rates: used, and measured over the range', [
  { key: 'rate', label: 'Rate', value: (row: RateRow) => row.rate },
  { key: 'used', label: 'Used', value: (row: RateRow) => row.used, show: (row: RateRow) => percent(row.used) },
  { key: 'measured', label: 'Measured', value: (row: RateRow) => row.measured, show: (row: RateRow) => percent(row.measured) },
  { key: 'source', label: 'From', value: (row: RateRow) => row.source },
], rateRows)}
</section>`;
  return { status: 200, body: layout({ title, caller: ctx.caller, active, body }) };
}

// ---- a lead's and a deal's own timeline -------------------------------------------------------------

const TIMELINE_EVENTS_MAX = 1000;

export async function leadPage(ctx: PageContext, leadId: string): Page {
  if (!identifier.safeParse(leadId).success) return { status: 404, body: layout({ title: 'Lead not found', caller: ctx.caller, body: html`<p>No lead ${leadId}.</p>` }) };
  const [lead] = await ctx.db.select().from(leads).where(eq(leads.leadId, leadId));
  if (!lead) return { status: 404, body: layout({ title: 'Lead not found', caller: ctx.caller, body: html`<p>No lead ${leadId}.</p>` }) };
  const events = await ctx.db
    .select({ seq: leadEvents.seq, type: leadEvents.type, at: leadEvents.at, actor: leadEvents.actor, payload: leadEvents.payload })
    .from(leadEvents)
    .where(eq(leadEvents.leadId, leadId))
    .orderBy(asc(leadEvents.seq))
    .limit(TIMELINE_EVENTS_MAX);
  type Event = (typeof events)[number];
  const types = [...new Set(events.map((event) => event.type))];
  const body = html`<p>${links(ctx, `/dashboard/leads/${encodeURIComponent(lead.leadId)}`, lead.workflowId, lead.leadId)} · ${lead.company} · tier ${lead.icpTier} · source ${lead.source ?? 'none'} · stage <strong>${lead.stage}</strong> · owner ${lead.ownerId ?? 'none'} · policy ${lead.policyVersion}</p>
${chart('lead-timeline', 'The lead audit on one time axis, one row per event type', {
  type: 'timeline',
  labels: types,
  datasets: [{ label: 'events', data: events.map((event) => ({ x: event.at.getTime(), y: event.type, status: event.actor })) }],
  x: 'time (UTC)',
}, Math.max(160, 40 + types.length * 24))}
${dataTable('lead-events', `Audit (${events.length} events${events.length === TIMELINE_EVENTS_MAX ? `, the first ${TIMELINE_EVENTS_MAX}` : ''})`, [
  { key: 'seq', label: '#', value: (row: Event) => row.seq },
  { key: 'at', label: 'At', value: (row: Event) => row.at.toISOString(), show: (row: Event) => row.at.toISOString() },
  { key: 'type', label: 'Event', value: (row: Event) => row.type },
  { key: 'actor', label: 'By', value: (row: Event) => row.actor },
  { key: 'payload', label: 'Details', value: (row: Event) => JSON.stringify(row.payload), show: (row: Event) => html`<code>${JSON.stringify(row.payload)}</code>` },
], events)}`;
  return { status: 200, body: layout({ title: `Lead ${lead.leadId}`, caller: ctx.caller, body }) };
}

export async function dealPage(ctx: PageContext, dealId: string): Page {
  const notFound = { status: 404 as const, body: layout({ title: 'Deal not found', caller: ctx.caller, body: html`<p>No deal ${dealId}.</p>` }) };
  if (!identifier.safeParse(dealId).success) return notFound;
  const [deal] = await ctx.db.select().from(deals).where(eq(deals.dealId, dealId));
  if (!deal) return notFound;
  const [milestones, events] = await Promise.all([
    ctx.db.select().from(dealMilestones).where(eq(dealMilestones.dealId, dealId)).orderBy(asc(dealMilestones.dueAt), asc(dealMilestones.milestone)),
    ctx.db
      .select({ seq: dealEvents.seq, type: dealEvents.type, at: dealEvents.at, actor: dealEvents.actor, payload: dealEvents.payload })
      .from(dealEvents)
      .where(and(eq(dealEvents.dealId, dealId)))
      .orderBy(desc(dealEvents.seq))
      .limit(TIMELINE_EVENTS_MAX),
  ]);
  type Milestone = (typeof milestones)[number];
  type Event = (typeof events)[number];
  const names = ['won', ...milestones.map((m) => m.milestone)];
  const body = html`<p>${links(ctx, `/dashboard/deals/${encodeURIComponent(deal.dealId)}`, deal.workflowId, deal.dealId)} · ${deal.accountName} · ${display(deal.amount)} ${deal.currency} · sales ${deal.salesOwnerId} · CS ${deal.csOwnerId ?? 'none'} · stage <strong>${deal.stage}</strong> · ${deal.handoffState}${deal.leadId ? html` · lead <a href="/dashboard/leads/${encodeURIComponent(deal.leadId)}">${deal.leadId}</a>` : ''}</p>
${chart('deal-timeline', 'Won, and each milestone due and done, on one time axis', {
  type: 'timeline',
  labels: names,
  datasets: [
    { label: 'won', data: [{ x: deal.closedWonAt.getTime(), y: 'won', status: 'won' }] },
    { label: 'due', data: milestones.map((m) => ({ x: m.dueAt.getTime(), y: m.milestone, status: 'due' })) },
    { label: 'done on time', data: milestones.flatMap((m) => (m.doneAt && !m.breached ? [{ x: m.doneAt.getTime(), y: m.milestone, status: 'on time' }] : [])) },
    { label: 'done late (breach)', data: milestones.flatMap((m) => (m.doneAt && m.breached ? [{ x: m.doneAt.getTime(), y: m.milestone, status: 'late' }] : [])) },
    { label: 'overdue (breach)', data: milestones.flatMap((m) => (!m.doneAt && m.breached ? [{ x: m.dueAt.getTime(), y: m.milestone, status: 'overdue' }] : [])) },
  ],
  x: 'time (UTC)',
}, 60 + names.length * 30)}
${dataTable('deal-milestones', 'Milestones', [
  { key: 'milestone', label: 'Milestone', value: (row: Milestone) => row.milestone },
  { key: 'dueAt', label: 'Due', value: (row: Milestone) => row.dueAt.toISOString() },
  { key: 'doneAt', label: 'Done', value: (row: Milestone) => row.doneAt?.toISOString() ?? null },
  { key: 'breached', label: 'Breached', value: (row: Milestone) => row.breached },
  { key: 'minutesLate', label: 'Business minutes late', value: (row: Milestone) => row.businessMinutesLate },
], milestones)}
${dataTable('deal-events', 'Audit, newest first', [
  { key: 'seq', label: '#', value: (row: Event) => row.seq },
  { key: 'at', label: 'At', value: (row: Event) => row.at.toISOString() },
  { key: 'type', label: 'Event', value: (row: Event) => row.type },
  { key: 'actor', label: 'By', value: (row: Event) => row.actor },
  { key: 'payload', label: 'Details', value: (row: Event) => JSON.stringify(row.payload), show: (row: Event) => html`<code>${JSON.stringify(row.payload)}</code>` },
], events)}`;
  return { status: 200, body: layout({ title: `Deal ${deal.dealId}`, caller: ctx.caller, body }) };
}
