/**
 * The arithmetic of the management reports, pure so the API, the SQL and the tests agree on it.
 *
 * Percentiles interpolate linearly between the closest ranks, exactly as Postgres `percentile_cont` does
 * (and Excel's PERCENTILE.INC, numpy's default): the lead SLA report computes them in SQL over up to a
 * million events, the handoff report and the tests compute them here, and both give the same number.
 */

/** The p-th percentile (0 ≤ p ≤ 1) of `values`, or null when there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`percentile ${p} is not between 0 and 1`);
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = p * (sorted.length - 1);
  const below = Math.floor(rank);
  const above = Math.ceil(rank);
  const low = sorted[below]!;
  return low + (sorted[above]! - low) * (rank - below);
}

export const median = (values: readonly number[]): number | null => percentile(values, 0.5);
export const p90 = (values: readonly number[]): number | null => percentile(values, 0.9);

export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** part ÷ whole, or null when there is nothing to share out (a 0 % would claim a failure that never happened). */
export function share(part: number, whole: number): number | null {
  if (whole === 0) return null;
  if (part < 0 || part > whole) throw new RangeError(`share ${part} of ${whole}`);
  return part / whole;
}

/** part ÷ whole without bounds (a conversion over a window may exceed 1), or null when whole is 0. */
export function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

/** Rounds for presentation; null stays null. */
export function rounded(value: number | null, decimals: number): number | null {
  if (value === null) return null;
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/** Decimals the reports keep: shares to 0.01 %, minutes to 0.6 s, hours to 0.36 s. */
export const SHARE_DECIMALS = 4;
export const MINUTE_DECIMALS = 2;
export const HOUR_DECIMALS = 4;

export interface Distribution {
  count: number;
  median: number | null;
  p90: number | null;
}

export function distribution(values: readonly number[], decimals: number): Distribution {
  return { count: values.length, median: rounded(median(values), decimals), p90: rounded(p90(values), decimals) };
}

// ---- deal handoffs ---------------------------------------------------------------------------------

/** Whose job a milestone is, as in domain/deal-clocks.ts: the sales owner sends the dossier, the CS owner runs the rest. */
export type MilestoneOwnerRole = 'sales' | 'cs';
export const milestoneOwnerRole = (kind: string): MilestoneOwnerRole => (kind === 'dossier' ? 'sales' : 'cs');

/**
 * on-time: done by its due time. late: done after it. overdue: past due (its breach recorded) and still not
 * done. open: not done and not (yet) breached: still running, or left open when the deal was closed out.
 */
export type MilestoneStatus = 'on-time' | 'late' | 'overdue' | 'open';

export function milestoneStatus(milestone: { doneAt: string | null; breached: boolean }): MilestoneStatus {
  if (milestone.doneAt !== null) return milestone.breached ? 'late' : 'on-time';
  return milestone.breached ? 'overdue' : 'open';
}

/** One milestone of one deal as the handoff report lists it. */
export interface HandoffMilestone {
  milestone: string;
  kind: string;
  owner: MilestoneOwnerRole;
  ownerId: string | null;
  startedAt: string;
  dueAt: string;
  doneAt: string | null;
  breached: boolean;
  status: MilestoneStatus;
  /**
   * Business hours from due to done on the deal's calendar, 0 when on time (the audit's business_minutes_late);
   * null while not done: an overdue milestone's delay is still growing.
   */
  delayBusinessHours: number | null;
}

export interface MilestoneKindSummary {
  kind: string;
  total: number;
  onTime: number;
  late: number;
  overdue: number;
  open: number;
  /** on time ÷ (on time + late + overdue): of the milestones whose outcome is known, how many were on time. */
  onTimeShare: number | null;
  /** Over the milestones done (on time counts as 0). */
  delayBusinessHours: Distribution;
}

export interface OwnerBreaches {
  ownerId: string | null;
  milestones: number;
  breaches: number;
}

export interface HandoffSummary {
  deals: number;
  milestones: MilestoneKindSummary[];
  breachesByOwner: { sales: OwnerBreaches[]; cs: OwnerBreaches[] };
}

const KIND_ORDER = ['dossier', 'kickoff', 'qbr'];
export const kindRank = (kind: string) => {
  const index = KIND_ORDER.indexOf(kind);
  return index === -1 ? KIND_ORDER.length : index;
};

/** The report's aggregates over the deals' milestones. */
export function summarizeHandoffs(deals: ReadonlyArray<{ milestones: readonly HandoffMilestone[] }>): HandoffSummary {
  const all = deals.flatMap((deal) => deal.milestones);
  const kinds = [...new Set(all.map((m) => m.kind))].sort((a, b) => kindRank(a) - kindRank(b) || a.localeCompare(b));
  const milestones = kinds.map((kind): MilestoneKindSummary => {
    const ofKind = all.filter((m) => m.kind === kind);
    const count = (status: MilestoneStatus) => ofKind.filter((m) => m.status === status).length;
    const [onTime, late, overdue, open] = [count('on-time'), count('late'), count('overdue'), count('open')];
    const delays = ofKind.flatMap((m) => (m.delayBusinessHours === null ? [] : [m.delayBusinessHours]));
    return {
      kind,
      total: ofKind.length,
      onTime,
      late,
      overdue,
      open,
      onTimeShare: rounded(share(onTime, onTime + late + overdue), SHARE_DECIMALS),
      delayBusinessHours: distribution(delays, HOUR_DECIMALS),
    };
  });
  const byOwner = (role: MilestoneOwnerRole): OwnerBreaches[] => {
    const counts = new Map<string | null, OwnerBreaches>();
    for (const m of all.filter((candidate) => candidate.owner === role)) {
      const entry = counts.get(m.ownerId) ?? { ownerId: m.ownerId, milestones: 0, breaches: 0 };
      entry.milestones += 1;
      if (m.breached) entry.breaches += 1;
      counts.set(m.ownerId, entry);
    }
    return [...counts.values()].sort((a, b) => b.breaches - a.breaches || (a.ownerId ?? '').localeCompare(b.ownerId ?? ''));
  };
  return { deals: deals.length, milestones, breachesByOwner: { sales: byOwner('sales'), cs: byOwner('cs') } };
}

// ---- lead SLAs ----------------------------------------------------------------------------------------

/** Speed-to-lead and its SLA, counted per clock: met on time, met late, or breached and never met. */
export interface SpeedToLeadRow {
  /** Clocks that ended (met) or breached without ever being met, in the range. */
  clocks: number;
  metOnTime: number;
  metLate: number;
  breachedUnmet: number;
  /** met on time ÷ clocks. */
  adherence: number | null;
  /** Business minutes from the clock's start to the step that met it, over the clocks met in the range. */
  medianBusinessMinutes: number | null;
  p90BusinessMinutes: number | null;
}

export interface AttemptsRow {
  /** Leads accepted (SAL) in the range. */
  leads: number;
  /** Their contact attempts logged in the range. */
  attempts: number;
  mean: number | null;
  median: number | null;
}

export interface ConversionRow {
  /** Distinct leads that became MQL / were accepted (SAL) / qualified (SQL) / were won in the range. */
  mql: number;
  sal: number;
  sql: number;
  won: number;
  salPerMql: number | null;
  sqlPerSal: number | null;
  sqlPerMql: number | null;
  wonPerSql: number | null;
}

/** A section of the lead report: the total over every tier, and each tier (1, 2, 3 always present). */
export interface ByTier<T> {
  all: T;
  byTier: Array<T & { tier: number }>;
}

export interface RejectionCounts {
  byReason: Array<{ reason: string; count: number }>;
  bySource: Array<{ source: string | null; reason: string; count: number }>;
  byTier: Array<{ tier: number; reason: string; count: number }>;
}

/** Seed 000's pipeline hygiene: open opportunities with a next step ahead and a stage/value update within 7 days. */
export interface PipelineHygiene {
  asOf: string;
  openOpportunities: number;
  withNextStep: number;
  updatedThisWeek: number;
  /** Both: a next step not past due, and an update within 7 days. */
  maintained: number;
  /** maintained ÷ open, 0..1; null with no open opportunity. */
  maintainedShare: number | null;
}

export function pipelineHygieneRow(row: { asOf: Date; open: number; withNextStep: number; updatedThisWeek: number; maintained: number }): PipelineHygiene {
  return {
    asOf: row.asOf.toISOString(),
    openOpportunities: row.open,
    withNextStep: row.withNextStep,
    updatedThisWeek: row.updatedThisWeek,
    maintained: row.maintained,
    maintainedShare: share(row.maintained, row.open),
  };
}

/** Seed 000's data quality: leads taken in during the range with a valid e-mail and a company name, against the target. */
export interface DataQuality {
  records: number;
  valid: number;
  /** valid ÷ records, 0..1; null with no record. */
  validShare: number | null;
  /** The current policy's target (0.95 by default), or null when it sets none. */
  target: number | null;
  /** null while either side is unknown. */
  meetsTarget: boolean | null;
}

export function dataQualityRow(row: { records: number; valid: number; target: number | null }): DataQuality {
  const validShare = share(row.valid, row.records);
  return {
    records: row.records,
    valid: row.valid,
    validShare,
    target: row.target,
    meetsTarget: validShare === null || row.target === null ? null : validShare >= row.target,
  };
}

/** Stays in one stage, in wall-clock hours from entering it to moving on. */
export interface StageAgingRow {
  stays: number;
  medianHours: number | null;
  p90Hours: number | null;
}

/** Days from a won lead's first MQL entry in the range to its win. */
export interface SalesCycleRow {
  won: number;
  meanDays: number | null;
  medianDays: number | null;
}

export interface WinRateRow {
  /** Leads closed (won or lost) in the range. */
  closed: number;
  won: number;
  lost: number;
  /** won ÷ closed. */
  winRate: number | null;
}

/** The stages a stay is measured in; the report's keys are their lower-case names. */
export const agingStages = ['MQL', 'SAL', 'SQL'] as const;

/** A conversion held against the policy's target (seed 001: MQL → SQL at least 30 %). */
export interface ConversionTarget {
  /** The range's conversion, 0..1 (may exceed 1 over a window); null with nothing to divide by. */
  actual: number | null;
  /** The current policy's target, or null when it sets none. */
  target: number | null;
  /** null while either side is unknown. */
  meetsTarget: boolean | null;
}

export function conversionTargetRow(actual: number | null, target: number | null): ConversionTarget {
  return { actual, target, meetsTarget: actual === null || target === null ? null : actual >= target };
}

export interface LeadSlaReport {
  speedToLead: ByTier<SpeedToLeadRow>;
  attemptsPerLead: ByTier<AttemptsRow>;
  conversion: ByTier<ConversionRow>;
  /** The same conversion per lead source (null: given none at intake), most MQLs first. */
  conversionBySource: Array<ConversionRow & { source: string | null }>;
  stageAging: { mql: ByTier<StageAgingRow>; sal: ByTier<StageAgingRow>; sql: ByTier<StageAgingRow> };
  salesCycle: ByTier<SalesCycleRow>;
  winRate: ByTier<WinRateRow>;
  /** MQL → SQL over the range against the current policy's `funnel.mqlToSqlTarget`. */
  mqlToSql: ConversionTarget;
  rejections: RejectionCounts;
  /** Added by the route: a snapshot as of the end of the range (or now, if sooner). */
  pipelineHygiene?: PipelineHygiene;
  /** Added by the route, over the leads taken in during the range. */
  dataQuality?: DataQuality;
}

export function stageAgingRow(row: { stays: number; median: number | null; p90: number | null }): StageAgingRow {
  return { stays: row.stays, medianHours: rounded(row.median, HOUR_DECIMALS), p90Hours: rounded(row.p90, HOUR_DECIMALS) };
}

export function salesCycleRow(row: { won: number; mean: number | null; median: number | null }): SalesCycleRow {
  return { won: row.won, meanDays: rounded(row.mean, HOUR_DECIMALS), medianDays: rounded(row.median, HOUR_DECIMALS) };
}

export function winRateRow(row: { closed: number; won: number }): WinRateRow {
  return { closed: row.closed, won: row.won, lost: row.closed - row.won, winRate: rounded(share(row.won, row.closed), SHARE_DECIMALS) };
}

export function speedToLeadRow(row: { metOnTime: number; metLate: number; breachedUnmet: number; median: number | null; p90: number | null }): SpeedToLeadRow {
  const clocks = row.metOnTime + row.metLate + row.breachedUnmet;
  return {
    clocks,
    metOnTime: row.metOnTime,
    metLate: row.metLate,
    breachedUnmet: row.breachedUnmet,
    adherence: rounded(share(row.metOnTime, clocks), SHARE_DECIMALS),
    medianBusinessMinutes: rounded(row.median, MINUTE_DECIMALS),
    p90BusinessMinutes: rounded(row.p90, MINUTE_DECIMALS),
  };
}

export function attemptsRow(row: { leads: number; attempts: number; mean: number | null; median: number | null }): AttemptsRow {
  return { leads: row.leads, attempts: row.attempts, mean: rounded(row.mean, 2), median: rounded(row.median, 2) };
}

export function conversionRow(row: { mql: number; sal: number; sql: number; won: number }): ConversionRow {
  const r = (part: number, whole: number) => rounded(ratio(part, whole), SHARE_DECIMALS);
  return { ...row, salPerMql: r(row.sal, row.mql), sqlPerSal: r(row.sql, row.sal), sqlPerMql: r(row.sql, row.mql), wonPerSql: r(row.won, row.sql) };
}

/** Returns to nurture counted by reason, by (source, reason) and by (tier, reason); most frequent first. */
export function rejectionCounts(rows: ReadonlyArray<{ tier: number; source: string | null; reason: string; count: number }>): RejectionCounts {
  function tally<T extends object>(key: (row: (typeof rows)[number]) => T): Array<T & { count: number }> {
    const counts = new Map<string, T & { count: number }>();
    for (const row of rows) {
      const fields = key(row);
      const id = JSON.stringify(fields);
      const entry = counts.get(id) ?? { ...fields, count: 0 };
      entry.count += row.count;
      counts.set(id, entry);
    }
    // Ties in the order of the key's values (a missing source first), so the answer never depends on row order.
    const sortKey = (entry: T) => Object.values(entry).map((value) => String(value ?? '')).join('\u0000');
    return [...counts.values()].sort((a, b) => b.count - a.count || (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
  }
  return {
    byReason: tally((row) => ({ reason: row.reason })),
    bySource: tally((row) => ({ source: row.source, reason: row.reason })),
    byTier: tally((row) => ({ tier: row.tier, reason: row.reason })),
  };
}

// ---- CSV ---------------------------------------------------------------------------------------------

export type CsvValue = string | number | boolean | null;

/**
 * One RFC 4180 field: quoted when it holds a comma, quote, CR or LF (quotes doubled). Text that a
 * spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading apostrophe, since account
 * names and sources are free text; numbers are written as they are.
 */
export function csvField(value: CsvValue): string {
  if (value === null) return '';
  if (typeof value !== 'string') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A header line and one line per row, CRLF-terminated as RFC 4180 has it. */
export function toCsv(header: readonly string[], rows: ReadonlyArray<readonly CsvValue[]>): string {
  return [header, ...rows].map((row) => `${row.map(csvField).join(',')}\r\n`).join('');
}

// ---- lead report facts ---------------------------------------------------------------------------------

/** The lead audit event types GET /reports/lead-sla reads; every other type leaves no report fact. */
export const leadReportEventTypes = [
  'received',
  'stage-changed',
  'accepted',
  'contact-attempted',
  'speed-to-lead-met',
  'sla-breached',
  'qualified',
  'closed',
  'returned-to-nurture',
] as const;
export type LeadReportEventType = (typeof leadReportEventTypes)[number];

/**
 * What the lead SLA report needs of one audit event, typed, so the report reads a narrow row instead of
 * the event's JSON payload. `counts` says whether the event counts for its section: a lead entering as or
 * becoming MQL, a close that is a win, a breach of the speed-to-lead deadline (not of the cadence).
 */
export interface LeadReportFact {
  type: LeadReportEventType;
  counts: boolean;
  /** speed-to-lead-met: business minutes from the clock's start to the contact. */
  businessMinutes: number | null;
  /** speed-to-lead-met: whether the clock had breached before it was met. */
  metLate: boolean | null;
  /** speed-to-lead-met: when the met clock started (an ISO instant). */
  clockStartedAt: string | null;
  /** returned-to-nurture: the mandatory reason. */
  reason: string | null;
}

const isReportType = (type: string): type is LeadReportEventType => (leadReportEventTypes as readonly string[]).includes(type);
const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const instant = (value: unknown): string | null => (typeof value === 'string' && Number.isFinite(Date.parse(value)) ? value : null);

/** The report fact of an audit event, or null when the report does not read that type. */
export function leadReportFact(type: string, payload: Readonly<Record<string, unknown>>): LeadReportFact | null {
  if (!isReportType(type)) return null;
  const met = type === 'speed-to-lead-met';
  const minutes = payload.businessMinutes;
  return {
    type,
    counts:
      type === 'received'
        ? payload.stage === 'MQL'
        : type === 'stage-changed'
          ? payload.to === 'MQL'
          : type === 'closed'
            ? payload.outcome === 'won'
            : type === 'sla-breached'
              ? payload.deadline === 'speed-to-lead'
              : true,
    businessMinutes: met && typeof minutes === 'number' && Number.isFinite(minutes) ? minutes : null,
    metLate: met ? payload.breached === true : null,
    clockStartedAt: met ? instant(payload.startedAt) : null,
    reason: type === 'returned-to-nurture' ? text(payload.reason) : null,
  };
}
