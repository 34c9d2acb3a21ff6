/**
 * The lead SLA report's figures over rollup rows (lead_report_leads, one row per lead with its figures resolved
 * at write time), computed in the process: what db/reports.ts's rollup statements compute in SQL, line for line,
 * so the two answer the same numbers (test/api/report-rollup.test.ts holds both to the raw statement). Pure:
 * instants are epoch milliseconds, the window is [from, to).
 */

/** One lead_report_leads row; instants in epoch milliseconds (floored: a row's microseconds never cross a window's millisecond bound). */
export interface RollupLead {
  leadId: string;
  simple: boolean;
  firstAt: number;
  lastAt: number;
  tier: number;
  source: string | null;
  mqlAt: number | null;
  acceptedAt: number | null;
  qualifiedAt: number | null;
  closedAt: number | null;
  won: boolean | null;
  metAt: number | null;
  metMinutes: number | null;
  metLate: boolean | null;
  /** Its speed-to-lead breaches no met clock covers, in order. */
  unmetAt: number[] | null;
  mqlHours: number | null;
  salHours: number | null;
  sqlHours: number | null;
  cycleDays: number | null;
  attempts: number;
  firstAttemptAt: number | null;
  lastAttemptAt: number | null;
  attemptAt: number[] | null;
  /** Its returns to nurture, in order, and the reason of each (the same index). */
  nurtureAt: number[] | null;
  nurtureReason: (string | null)[] | null;
}

export interface Window {
  from: number;
  to: number;
}

/**
 * What one clock, stay or cycle of a lead the rollup cannot summarise adds to the report's figures in a window,
 * as SQL answers it (a summarised lead's figures go straight into the sums: FigureTotals.addLead). A figure that
 * does not count there is NaN (SQL's null, left out of counts, means and percentiles).
 */
export interface FigureRow {
  tier: number;
  source: string | null;
  /** The lead has a report fact in the window: only such a lead counts among conversion's leads and sources. */
  hasFact: boolean;
  clockMet: boolean;
  late: boolean;
  minutes: number;
  clockUnmet: boolean;
  mqlHours: number;
  salHours: number;
  sqlHours: number;
  cycleDays: number;
  mql: boolean;
  sal: boolean;
  qualified: boolean;
  won: boolean;
  attempts: number;
}

/** A row of the report's sections, as db/reports.ts's statements answer them. */
export interface SectionRow {
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
 * Rollup rows column by column, one slot per lead: instants and figures in Float64Arrays (NaN for null), flags in
 * Int8Arrays (-1 null, 0 false, 1 true). A report reads tens of thousands of leads; typed arrays in order in
 * memory cost it a few milliseconds where one object per lead (each number a heap object of its own) cost several
 * times that in cache misses and garbage.
 */
export class RollupColumns {
  capacity: number;
  firstAt: Float64Array;
  /** -Infinity in a free slot: no window reaches it. */
  lastAt: Float64Array;
  mqlAt: Float64Array;
  acceptedAt: Float64Array;
  qualifiedAt: Float64Array;
  closedAt: Float64Array;
  metAt: Float64Array;
  metMinutes: Float64Array;
  mqlHours: Float64Array;
  salHours: Float64Array;
  sqlHours: Float64Array;
  cycleDays: Float64Array;
  firstAttemptAt: Float64Array;
  lastAttemptAt: Float64Array;
  tier: Int32Array;
  attempts: Int32Array;
  won: Int8Array;
  metLate: Int8Array;
  leadId: (string | undefined)[];
  source: (string | null)[];
  unmetAt: (readonly number[] | null)[];
  /** The first and last of `unmetAt` (NaN when none): they tell most leads' breaches in or out of a window without reading the list. */
  firstUnmetAt: Float64Array;
  lastUnmetAt: Float64Array;
  attemptAt: (readonly number[] | null)[];
  /**
   * A lead's first return to nurture: its instant in a typed column (NaN when none), its reason beside it; the
   * later ones, which hardly any lead has, in lists of their own. With a list per lead, read for each return in
   * a window, the cache misses made the bench's 90-day pass 11 ms instead of 4.
   */
  firstNurtureAt: Float64Array;
  firstNurtureReason: (string | null)[];
  laterNurtureAt: (readonly number[] | null)[];
  laterNurtureReason: (readonly (string | null)[] | null)[];

  /**
   * Columns of `capacity` slots, empty; or holding `from`'s leads: in their own slots (a wider copy), or only
   * those in `slots`, slot i holding `slots[i]`.
   */
  constructor(capacity = 1024, from?: RollupColumns, slots?: readonly number[]) {
    this.capacity = capacity;
    const column = <Column extends Float64Array | Int32Array | Int8Array>(empty: Column, old: Column | undefined): Column => {
      if (old === undefined) return empty;
      if (slots === undefined) empty.set(old);
      else slots.forEach((slot, index) => (empty[index] = old[slot]!));
      return empty;
    };
    const floats = (old: Float64Array | undefined, initial = NaN) => column(new Float64Array(capacity).fill(initial), old);
    const list = <Value>(old: Value[] | undefined): Value[] => (old === undefined ? [] : slots === undefined ? old : slots.map((slot) => old[slot]!));
    this.firstAt = floats(from?.firstAt);
    this.lastAt = floats(from?.lastAt, -Infinity);
    this.mqlAt = floats(from?.mqlAt);
    this.acceptedAt = floats(from?.acceptedAt);
    this.qualifiedAt = floats(from?.qualifiedAt);
    this.closedAt = floats(from?.closedAt);
    this.metAt = floats(from?.metAt);
    this.metMinutes = floats(from?.metMinutes);
    this.mqlHours = floats(from?.mqlHours);
    this.salHours = floats(from?.salHours);
    this.sqlHours = floats(from?.sqlHours);
    this.cycleDays = floats(from?.cycleDays);
    this.firstAttemptAt = floats(from?.firstAttemptAt);
    this.lastAttemptAt = floats(from?.lastAttemptAt);
    this.tier = column(new Int32Array(capacity), from?.tier);
    this.attempts = column(new Int32Array(capacity), from?.attempts);
    this.won = column(new Int8Array(capacity).fill(-1), from?.won);
    this.metLate = column(new Int8Array(capacity).fill(-1), from?.metLate);
    // A wider copy keeps the lists themselves: they grow as they are written.
    this.leadId = list(from?.leadId);
    this.source = list(from?.source);
    this.unmetAt = list(from?.unmetAt);
    this.firstUnmetAt = floats(from?.firstUnmetAt);
    this.lastUnmetAt = floats(from?.lastUnmetAt);
    this.attemptAt = list(from?.attemptAt);
    this.firstNurtureAt = floats(from?.firstNurtureAt);
    this.firstNurtureReason = list(from?.firstNurtureReason);
    this.laterNurtureAt = list(from?.laterNurtureAt);
    this.laterNurtureReason = list(from?.laterNurtureReason);
  }

  /** Writes the lead into the slot (`source` and `nurtureReason` as the caller interned them), growing the columns as needed. */
  write(slot: number, lead: RollupLead, source: string | null = lead.source, nurtureReason: RollupLead['nurtureReason'] = lead.nurtureReason): void {
    while (slot >= this.capacity) this.grow();
    const orNaN = (value: number | null) => value ?? NaN;
    const flag = (value: boolean | null) => (value === null ? -1 : value ? 1 : 0);
    this.firstAt[slot] = lead.firstAt;
    this.lastAt[slot] = lead.lastAt;
    this.mqlAt[slot] = orNaN(lead.mqlAt);
    this.acceptedAt[slot] = orNaN(lead.acceptedAt);
    this.qualifiedAt[slot] = orNaN(lead.qualifiedAt);
    this.closedAt[slot] = orNaN(lead.closedAt);
    this.metAt[slot] = orNaN(lead.metAt);
    this.metMinutes[slot] = orNaN(lead.metMinutes);
    this.mqlHours[slot] = orNaN(lead.mqlHours);
    this.salHours[slot] = orNaN(lead.salHours);
    this.sqlHours[slot] = orNaN(lead.sqlHours);
    this.cycleDays[slot] = orNaN(lead.cycleDays);
    this.firstAttemptAt[slot] = orNaN(lead.firstAttemptAt);
    this.lastAttemptAt[slot] = orNaN(lead.lastAttemptAt);
    this.tier[slot] = lead.tier;
    this.attempts[slot] = lead.attempts;
    this.won[slot] = flag(lead.won);
    this.metLate[slot] = flag(lead.metLate);
    this.leadId[slot] = lead.leadId;
    this.source[slot] = source;
    this.unmetAt[slot] = lead.unmetAt;
    this.firstUnmetAt[slot] = lead.unmetAt?.length ? lead.unmetAt[0]! : NaN;
    this.lastUnmetAt[slot] = lead.unmetAt?.length ? lead.unmetAt[lead.unmetAt.length - 1]! : NaN;
    this.attemptAt[slot] = lead.attemptAt;
    const nurtures = lead.nurtureAt?.length ?? 0;
    this.firstNurtureAt[slot] = nurtures > 0 ? lead.nurtureAt![0]! : NaN;
    this.firstNurtureReason[slot] = nurtures > 0 ? nurtureReason![0]! : null;
    this.laterNurtureAt[slot] = nurtures > 1 ? lead.nurtureAt!.slice(1) : null;
    this.laterNurtureReason[slot] = nurtures > 1 ? nurtureReason!.slice(1) : null;
  }

  /** Frees the slot: no window reaches it until it is written again. */
  clear(slot: number): void {
    this.lastAt[slot] = -Infinity;
    this.leadId[slot] = undefined;
    this.unmetAt[slot] = null;
    this.attemptAt[slot] = null;
    this.firstNurtureReason[slot] = null;
    this.laterNurtureAt[slot] = null;
    this.laterNurtureReason[slot] = null;
  }

  /** These slots' leads in columns of their own (slot i holding `slots[i]`), to keep while these columns change. */
  copyOf(slots: readonly number[]): RollupColumns {
    return new RollupColumns(Math.max(1, slots.length), this, slots);
  }

  /** Keeps only these slots' leads, slot i holding `slots[i]`, in place and as wide as before. */
  reorder(slots: readonly number[]): void {
    Object.assign(this, new RollupColumns(Math.max(this.capacity, slots.length), this, slots));
  }

  /** Twice the slots, in place: whoever holds these columns sees the wider ones. */
  private grow(): void {
    Object.assign(this, new RollupColumns(this.capacity * 2, this));
  }
}

/** Whether the lead in `slot` has a fact in the window follows from its first and last instant; if not (it spans the whole window), the caller looks its facts up. */
export function factInWindowKnown(columns: RollupColumns, slot: number, window: Window): boolean {
  return columns.firstAt[slot]! >= window.from || columns.lastAt[slot]! < window.to;
}

// Module-level helpers, not closures per lead: the report calls these for every lead of its window. NaN (null)
// is never within a window nor after its start.
function within(at: number, window: Window): boolean {
  return at >= window.from && at < window.to;
}

function anyWithin(instants: readonly number[] | null, window: Window): boolean {
  if (instants === null) return false;
  for (const at of instants) if (within(at, window)) return true;
  return false;
}

/** Whether one of the lead's unmet breaches falls in the window; the list is read only when its first and last lie either side of it. */
function unmetWithin(columns: RollupColumns, slot: number, window: Window): boolean {
  const first = columns.firstUnmetAt[slot]!;
  if (!(first < window.to)) return false;
  if (first >= window.from) return true;
  const last = columns.lastUnmetAt[slot]!;
  if (last < window.from) return false;
  if (last < window.to) return true;
  return anyWithin(columns.unmetAt[slot]!, window);
}

function countWithin(instants: readonly number[] | null, window: Window): number {
  let count = 0;
  for (const at of instants ?? []) if (within(at, window)) count += 1;
  return count;
}

function attemptsInWindow(columns: RollupColumns, slot: number, window: Window): number {
  const attempts = columns.attempts[slot]!;
  if (attempts === 0 || (columns.firstAttemptAt[slot]! >= window.from && columns.lastAttemptAt[slot]! < window.to)) return attempts;
  return countWithin(columns.attemptAt[slot]!, window);
}

/**
 * Postgres' percentile_cont over `values` at each of `ps` (nulls already left out; `values` is reordered in
 * place): the linear interpolation between the values at ranks floor and ceil of p × (n − 1), computed as
 * Postgres computes it, so the doubles are the same. The ranks are found by selection, not by sorting, and a
 * rank above the last one found is searched for only among the values above it (give `ps` in ascending order).
 */
export function percentilesCont(values: Float64Array, ps: readonly number[]): (number | null)[] {
  // Every value before `settled` is at or below every value from it on: a higher rank lies at or after it.
  let settled = 0;
  return ps.map((p) => {
    if (values.length === 0) return null;
    const position = p * (values.length - 1);
    const first = Math.floor(position);
    const low = select(values, first, first >= settled ? settled : 0);
    settled = first + 1;
    if (position === first) return low;
    // Everything after rank `first` is at or above it: rank first + 1 is their least, moved into its place.
    let least = first + 1;
    for (let i = first + 2; i < values.length; i += 1) if (values[i]! < values[least]!) least = i;
    const high = values[least]!;
    values[least] = values[first + 1]!;
    values[first + 1] = high;
    settled = first + 2;
    return low + (position - first) * (high - low);
  });
}

/** The value of rank k (0-based) of `values`, which it partially orders (Hoare's selection) from `left` on, where every value before `left` is at or below every value after. */
function select(values: Float64Array, k: number, left: number): number {
  let right = values.length - 1;
  while (left < right) {
    const pivot = values[(left + right) >>> 1]!;
    let i = left;
    let j = right;
    while (i <= j) {
      while (values[i]! < pivot) i += 1;
      while (values[j]! > pivot) j -= 1;
      if (i <= j) {
        const swap = values[i]!;
        values[i] = values[j]!;
        values[j] = swap;
        i += 1;
        j -= 1;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return values[k]!;
}

/**
 * Buffers the reports reuse: a fresh typed array per figure and report is garbage the size of the window, and
 * typed arrays live outside the JavaScript heap, where their churn sets off full collections.
 */
const spareBuffers: Float64Array[] = [];
const MAX_SPARE_BUFFERS = 64;

/** Doubles appended to a growing typed array: a window's values without an array of boxed numbers. */
class Values {
  buffer = spareBuffers.pop() ?? new Float64Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.buffer.length) {
      const wider = new Float64Array(this.buffer.length * 2);
      wider.set(this.buffer);
      this.buffer = wider;
    }
    this.buffer[this.length++] = value;
  }

  append(values: Values): void {
    while (this.length + values.length > this.buffer.length) {
      const wider = new Float64Array(this.buffer.length * 2);
      wider.set(this.buffer);
      this.buffer = wider;
    }
    this.buffer.set(values.view(), this.length);
    this.length += values.length;
  }

  /** The values so far, to reorder (percentilesCont selects in place). */
  view(): Float64Array {
    return this.buffer.subarray(0, this.length);
  }

  /** Hands the buffer back for the next report; the values are gone. */
  release(): void {
    if (spareBuffers.length < MAX_SPARE_BUFFERS) spareBuffers.push(this.buffer);
    this.buffer = new Float64Array(0);
    this.length = 0;
  }
}

const counts = (value: number) => !Number.isNaN(value);

/** Conversion per source (mql, sal, qualified, won), over the leads with a fact in the window. */
type SourceCounts = Map<string | null, { mql: number; sal: number; qualified: number; won: number }>;

class FigureGroup {
  /** `sourceCounts`: where this group's leads count by source, shared by the groups of one report. */
  constructor(private readonly sourceCounts: SourceCounts = new Map()) {}

  clocks = 0;
  metOnTime = 0;
  metLate = 0;
  unmet = 0;
  minutes = new Values();
  accepted = 0;
  attemptSum = 0;
  attempts = new Values();
  leads = 0;
  mql = 0;
  qualified = 0;
  won = 0;
  mqlHours = new Values();
  salHours = new Values();
  sqlHours = new Values();
  cycleDays = new Values();
  cycleSum = 0;
  closes = 0;
  wins = 0;
  /** Returns to nurture by source, then reason: a source's few reasons searched in turn (the copy interns them, so mostly by identity). */
  rejections = new Map<string | null, Array<{ reason: string | null; count: number }>>();

  /**
   * Adds one lead's (or one clock's, stay's or cycle's) figures: a FigureRow's fields but the tier, one by one
   * (NaN where a figure does not count), so a summarised lead's go in without a row object filled and read back.
   */
  add(
    source: string | null,
    hasFact: boolean,
    clockMet: boolean,
    late: boolean,
    minutes: number,
    clockUnmet: boolean,
    mqlHours: number,
    salHours: number,
    sqlHours: number,
    cycleDays: number,
    mql: boolean,
    sal: boolean,
    qualified: boolean,
    won: boolean,
    attempts: number,
  ): void {
    if (clockMet || clockUnmet) this.clocks += 1;
    if (clockMet && !late) this.metOnTime += 1;
    if (clockMet && late) this.metLate += 1;
    if (clockUnmet) this.unmet += 1;
    if (counts(minutes)) this.minutes.push(minutes);
    if (sal) {
      this.accepted += 1;
      if (counts(attempts)) {
        this.attemptSum += attempts;
        this.attempts.push(attempts);
      }
    }
    if (hasFact) {
      this.leads += 1;
      let counted = this.sourceCounts.get(source);
      if (!counted) this.sourceCounts.set(source, (counted = { mql: 0, sal: 0, qualified: 0, won: 0 }));
      if (mql) counted.mql += 1;
      if (sal) counted.sal += 1;
      if (qualified) counted.qualified += 1;
      if (won) counted.won += 1;
    }
    if (mql) this.mql += 1;
    if (qualified) this.qualified += 1;
    if (won) this.won += 1;
    if (counts(mqlHours)) this.mqlHours.push(mqlHours);
    if (counts(salHours)) this.salHours.push(salHours);
    if (counts(sqlHours)) this.sqlHours.push(sqlHours);
    if (counts(cycleDays)) {
      this.cycleDays.push(cycleDays);
      this.cycleSum += cycleDays;
    }
  }

  /** A close in the window (a win or not). */
  addClose(won: boolean): void {
    this.closes += 1;
    if (won) this.wins += 1;
  }

  /** A return to nurture in the window. */
  addRejection(source: string | null, reason: string | null): void {
    let byReason = this.rejections.get(source);
    if (!byReason) this.rejections.set(source, (byReason = []));
    for (const counted of byReason) {
      if (counted.reason === reason) {
        counted.count += 1;
        return;
      }
    }
    byReason.push({ reason, count: 1 });
  }

  /** Adds another group's figures to this one's (the total's: closes, but not rejections, which have no total row). */
  include(other: FigureGroup): void {
    this.clocks += other.clocks;
    this.metOnTime += other.metOnTime;
    this.metLate += other.metLate;
    this.unmet += other.unmet;
    this.minutes.append(other.minutes);
    this.accepted += other.accepted;
    this.attemptSum += other.attemptSum;
    this.attempts.append(other.attempts);
    this.leads += other.leads;
    this.mql += other.mql;
    this.qualified += other.qualified;
    this.won += other.won;
    this.mqlHours.append(other.mqlHours);
    this.salHours.append(other.salHours);
    this.sqlHours.append(other.sqlHours);
    this.cycleDays.append(other.cycleDays);
    this.cycleSum += other.cycleSum;
    this.closes += other.closes;
    this.wins += other.wins;
  }

  /** The group's rows of each section (leadClocksQuery's and leadStaysQuery's `by_tier`, factCountsQuery's closes and rejections); a tier's only where it has one. Once: the values go back to the spare buffers. */
  sections(tier: number | null): SectionRow[] {
    const rows: SectionRow[] = [];
    const push = (section: SectionRow['section'], present: number, reason: string | null, a: number | null, b: number | null, c: number | null, d: number | null, e: number | null) => {
      if (tier === null || present > 0) rows.push({ section, tier, source: null, reason, a, b, c, d, e });
    };
    const minutes = this.minutes.view();
    const [minutesMedian, minutesP90] = percentilesCont(minutes, [0.5, 0.9]);
    push('speed-to-lead', this.clocks, null, this.metOnTime, this.metLate, this.unmet, minutesMedian ?? null, minutesP90 ?? null);
    const attempts = this.attempts.view();
    const attemptsMean = this.attempts.length === 0 ? null : this.attemptSum / this.attempts.length;
    push('attempts', this.accepted, null, this.accepted, this.attemptSum, attemptsMean, percentilesCont(attempts, [0.5])[0] ?? null, null);
    push('conversion', this.leads, null, this.mql, this.accepted, this.qualified, this.won, null);
    for (const [stage, values] of [['MQL', this.mqlHours], ['SAL', this.salHours], ['SQL', this.sqlHours]] as const) {
      const stays = values.view();
      const [median, p90] = percentilesCont(stays, [0.5, 0.9]);
      push('stage-aging', values.length, stage, values.length, median ?? null, p90 ?? null, null, null);
    }
    const cycles = this.cycleDays.view();
    const cycleMean = this.cycleDays.length === 0 ? null : this.cycleSum / this.cycleDays.length;
    push('cycle', this.cycleDays.length, null, this.cycleDays.length, cycleMean, percentilesCont(cycles, [0.5])[0] ?? null, null, null);
    push('closes', this.closes, null, this.closes, this.wins, null, null, null);
    if (tier !== null) {
      for (const [source, byReason] of this.rejections) {
        for (const { reason, count } of byReason) rows.push({ section: 'rejections', tier, source, reason, a: count, b: null, c: null, d: null, e: null });
      }
    }
    for (const values of [this.minutes, this.attempts, this.mqlHours, this.salHours, this.sqlHours, this.cycleDays]) values.release();
    return rows;
  }
}

/**
 * The report's sections over figure rows, added one at a time: per tier and in total (speed-to-lead, attempts,
 * conversion, stage aging, cycle, closes), conversion per source (the rows with a fact in the window) and
 * returns to nurture per tier, source and reason.
 */
export class FigureTotals {
  private readonly tiers = new Map<number, FigureGroup>();
  private readonly sources: SourceCounts = new Map();

  /** Adds a row's figures (a clock, stay or cycle of a lead the rollup cannot summarise, as SQL answered it). */
  add(row: FigureRow): void {
    this.group(row.tier).add(row.source, row.hasFact, row.clockMet, row.late, row.minutes, row.clockUnmet, row.mqlHours, row.salHours, row.sqlHours, row.cycleDays, row.mql, row.sal, row.qualified, row.won, row.attempts);
  }

  /** A close in the window of a lead the rollup cannot summarise, under its fact's tier. */
  addClose(tier: number, won: boolean): void {
    this.group(tier).addClose(won);
  }

  /** A return to nurture in the window of a lead the rollup cannot summarise, under its fact's tier and source. */
  addRejection(tier: number, source: string | null, reason: string | null): void {
    this.group(tier).addRejection(source, reason);
  }

  /**
   * Adds the figures in the window of the summarised lead in `slot`: db/reports.ts simpleLeadFigures, one
   * condition for each of its columns, and its close and returns to nurture in the window (factCountsQuery: a
   * summarised lead has one tier and one source, and at most one close, whose fact counts when won). Computed
   * into the sums as they are read: a report adds tens of thousands of leads, and a row object per lead, filled
   * and then read back, cost it three times the figures themselves.
   */
  addLead(columns: RollupColumns, slot: number, window: Window, hasFact: boolean): void {
    const { from, to } = window;
    const mqlAt = columns.mqlAt[slot]!;
    const acceptedAt = columns.acceptedAt[slot]!;
    const qualifiedAt = columns.qualifiedAt[slot]!;
    const closedAt = columns.closedAt[slot]!;
    const metAt = columns.metAt[slot]!;
    const accepted = acceptedAt >= from && acceptedAt < to;
    const qualified = qualifiedAt >= from && qualifiedAt < to;
    const closed = closedAt >= from && closedAt < to;
    const met = metAt >= from && metAt < to;
    const mqlSince = mqlAt >= from;
    const won = columns.won[slot] === 1;
    const group = this.group(columns.tier[slot]!);
    group.add(
      columns.source[slot]!,
      hasFact,
      met,
      columns.metLate[slot] === 1,
      met ? columns.metMinutes[slot]! : NaN,
      unmetWithin(columns, slot, window),
      accepted && mqlSince ? columns.mqlHours[slot]! : NaN,
      qualified && acceptedAt >= from ? columns.salHours[slot]! : NaN,
      closed && qualifiedAt >= from ? columns.sqlHours[slot]! : NaN,
      closed && mqlSince ? columns.cycleDays[slot]! : NaN,
      mqlSince && mqlAt < to,
      accepted,
      qualified,
      won && closed,
      accepted ? attemptsInWindow(columns, slot, window) : NaN,
    );
    if (closed) group.addClose(won);
    const firstNurtureAt = columns.firstNurtureAt[slot]!;
    if (!Number.isNaN(firstNurtureAt)) {
      if (within(firstNurtureAt, window)) group.addRejection(columns.source[slot]!, columns.firstNurtureReason[slot]!);
      const laterAt = columns.laterNurtureAt[slot]!;
      if (laterAt !== null) {
        const laterReasons = columns.laterNurtureReason[slot]!;
        for (let index = 0; index < laterAt.length; index += 1) {
          if (within(laterAt[index]!, window)) group.addRejection(columns.source[slot]!, laterReasons![index]!);
        }
      }
    }
  }

  private group(tier: number): FigureGroup {
    let group = this.tiers.get(tier);
    if (!group) this.tiers.set(tier, (group = new FigureGroup(this.sources)));
    return group;
  }

  /** The sections, once: the groups' buffers go back for the next report. */
  sections(): SectionRow[] {
    // The total is the tiers' groups together (one group per lead added, not two).
    const all = new FigureGroup();
    for (const group of this.tiers.values()) all.include(group);
    return [
      ...all.sections(null),
      ...[...this.tiers].flatMap(([tier, group]) => group.sections(tier)),
      ...[...this.sources].map(([source, counts]): SectionRow => ({
        section: 'conversion-by-source',
        tier: null,
        source,
        reason: null,
        a: counts.mql,
        b: counts.sal,
        c: counts.qualified,
        d: counts.won,
        e: null,
      })),
    ];
  }
}

/** One period's and tier's (or the period's, `tier` null) speed-to-lead clocks and conversion steps in a series. */
interface SeriesGroup {
  period: number;
  tier: number | null;
  clocks: boolean;
  metOnTime: number;
  metLate: number;
  unmet: number;
  minutes: number[];
  steps: boolean;
  mql: number;
  sal: number;
  qualified: number;
  won: number;
}

/**
 * The dashboard's per-period series (db/reports.ts rollupLeadSlaSeries, the statement it must equal) over the
 * periods of a window: each figure in the period holding its instant. Summarised leads are added from the copy,
 * the others' clocks and steps as SQL answered them. A group (period and tier, and each period's total) exists
 * once anything was added to it, as a row of the statement's grouping sets does.
 */
export class SeriesTotals {
  private readonly starts: Float64Array;
  /** By period, then by tier (the period's total under null): a few groups, looked up for every figure added. */
  private readonly groups: Array<Map<number | null, SeriesGroup>>;

  /** `periods`: the window's periods in order, contiguous, the first from the window's start, the last to its end. */
  constructor(private readonly periods: ReadonlyArray<{ from: Date; to: Date }>) {
    this.starts = Float64Array.from(periods, (period) => period.from.getTime());
    this.groups = periods.map(() => new Map());
  }

  /** The index of the period holding `at`, or -1 outside the window. */
  periodOf(at: number): number {
    if (!(at >= this.starts[0]!) || !(at < this.periods[this.periods.length - 1]!.to.getTime())) return -1;
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.starts[middle]! <= at) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  /** The summarised lead in `slot`: its met clock, each period holding one of its unmet breaches, and its steps. */
  addLead(columns: RollupColumns, slot: number): void {
    const tier = columns.tier[slot]!;
    const met = this.periodOf(columns.metAt[slot]!);
    if (met >= 0) this.addClock(met, tier, columns.metMinutes[slot]!, true, columns.metLate[slot] === 1);
    const unmetAt = columns.unmetAt[slot];
    if (unmetAt) {
      // A never-met clock counts once per lead and period.
      let counted = -1;
      for (const at of unmetAt) {
        const period = this.periodOf(at);
        if (period < 0 || period === counted) continue;
        this.addClock(period, tier, NaN, false, true);
        counted = period;
      }
    }
    const mql = this.periodOf(columns.mqlAt[slot]!);
    if (mql >= 0) this.addSteps(mql, tier, 1, 0, 0, 0);
    const sal = this.periodOf(columns.acceptedAt[slot]!);
    if (sal >= 0) this.addSteps(sal, tier, 0, 1, 0, 0);
    const qualified = this.periodOf(columns.qualifiedAt[slot]!);
    if (qualified >= 0) this.addSteps(qualified, tier, 0, 0, 1, 0);
    const won = columns.won[slot] === 1 ? this.periodOf(columns.closedAt[slot]!) : -1;
    if (won >= 0) this.addSteps(won, tier, 0, 0, 0, 1);
  }

  /** A clock as SQL answered it (minutes NaN when never met). */
  addClock(period: number, tier: number, minutes: number, met: boolean, breached: boolean): void {
    for (const group of [this.group(period, tier), this.group(period, null)]) {
      group.clocks = true;
      if (!met) group.unmet += 1;
      else if (breached) group.metLate += 1;
      else group.metOnTime += 1;
      if (!Number.isNaN(minutes)) group.minutes.push(minutes);
    }
  }

  /** Leads counted at each conversion step (a group with no count still exists, as a lead's group does in SQL). */
  addSteps(period: number, tier: number, mql: number, sal: number, qualified: number, won: number): void {
    for (const group of [this.group(period, tier), this.group(period, null)]) {
      group.steps = true;
      group.mql += mql;
      group.sal += sal;
      group.qualified += qualified;
      group.won += won;
    }
  }

  /** The statement's rows, each with the index of its period. */
  rows(): Array<SectionRow & { period: number }> {
    const rows: Array<SectionRow & { period: number }> = [];
    for (const group of this.groups.flatMap((ofPeriod) => [...ofPeriod.values()])) {
      const { period, tier } = group;
      if (group.clocks) {
        const [median, p90] = percentilesCont(Float64Array.from(group.minutes), [0.5, 0.9]);
        rows.push({ section: 'speed-to-lead', period, tier, source: null, reason: null, a: group.metOnTime, b: group.metLate, c: group.unmet, d: median ?? null, e: p90 ?? null });
      }
      if (group.steps) rows.push({ section: 'conversion', period, tier, source: null, reason: null, a: group.mql, b: group.sal, c: group.qualified, d: group.won, e: null });
    }
    return rows;
  }

  private group(period: number, tier: number | null): SeriesGroup {
    const ofPeriod = this.groups[period]!;
    let group = ofPeriod.get(tier);
    if (!group) {
      group = { period, tier, clocks: false, metOnTime: 0, metLate: 0, unmet: 0, minutes: [], steps: false, mql: 0, sal: 0, qualified: 0, won: 0 };
      ofPeriod.set(tier, group);
    }
    return group;
  }
}
