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
  unmetAt: number[] | null;
  mqlHours: number | null;
  salHours: number | null;
  sqlHours: number | null;
  cycleDays: number | null;
  attempts: number;
  firstAttemptAt: number | null;
  lastAttemptAt: number | null;
  attemptAt: number[] | null;
}

export interface Window {
  from: number;
  to: number;
}

/**
 * What one lead (or one clock, stay or cycle of a lead the rollup cannot summarise) adds to the report's figures
 * in a window. A figure that does not count there is NaN (SQL's null, left out of counts, means and percentiles):
 * numbers only, so filling the same row for every lead of a window allocates nothing.
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
  leadId: (string | undefined)[] = [];
  source: (string | null)[] = [];
  unmetAt: (readonly number[] | null)[] = [];
  attemptAt: (readonly number[] | null)[] = [];

  constructor(capacity = 1024) {
    this.capacity = capacity;
    const floats = () => new Float64Array(capacity).fill(NaN);
    this.firstAt = floats();
    this.lastAt = new Float64Array(capacity).fill(-Infinity);
    this.mqlAt = floats();
    this.acceptedAt = floats();
    this.qualifiedAt = floats();
    this.closedAt = floats();
    this.metAt = floats();
    this.metMinutes = floats();
    this.mqlHours = floats();
    this.salHours = floats();
    this.sqlHours = floats();
    this.cycleDays = floats();
    this.firstAttemptAt = floats();
    this.lastAttemptAt = floats();
    this.tier = new Int32Array(capacity);
    this.attempts = new Int32Array(capacity);
    this.won = new Int8Array(capacity).fill(-1);
    this.metLate = new Int8Array(capacity).fill(-1);
  }

  /** Writes the lead into the slot (`source` as the caller interned it), growing the columns as needed. */
  write(slot: number, lead: RollupLead, source: string | null = lead.source): void {
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
    this.attemptAt[slot] = lead.attemptAt;
  }

  /** Frees the slot: no window reaches it until it is written again. */
  clear(slot: number): void {
    this.lastAt[slot] = -Infinity;
    this.leadId[slot] = undefined;
    this.unmetAt[slot] = null;
    this.attemptAt[slot] = null;
  }

  /** These slots' leads in columns of their own (slot i holding `slots[i]`), to keep while these columns change. */
  copyOf(slots: readonly number[]): RollupColumns {
    const own = new RollupColumns(Math.max(1, slots.length));
    for (const key of Object.keys(this) as (keyof RollupColumns)[]) {
      const from = this[key] as unknown;
      const to = own[key] as unknown;
      if (!(ArrayBuffer.isView(from) || Array.isArray(from))) continue;
      const source = from as { [slot: number]: unknown };
      const target = to as { [slot: number]: unknown };
      slots.forEach((slot, index) => (target[index] = source[slot]));
    }
    return own;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    for (const key of Object.keys(this) as (keyof RollupColumns)[]) {
      const column = this[key];
      if (!(column instanceof Float64Array || column instanceof Int32Array || column instanceof Int8Array)) continue;
      const wider = new (column.constructor as Float64ArrayConstructor)(capacity).fill(key === 'lastAt' ? -Infinity : key === 'won' || key === 'metLate' ? -1 : column instanceof Float64Array ? NaN : 0);
      wider.set(column as Float64Array);
      (this as unknown as Record<string, unknown>)[key] = wider;
    }
    this.capacity = capacity;
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

function countWithin(instants: readonly number[] | null, window: Window): number {
  let count = 0;
  for (const at of instants ?? []) if (within(at, window)) count += 1;
  return count;
}

/** A figure row with nothing in it, to fill. */
export function emptyFigureRow(): FigureRow {
  return {
    tier: 0,
    source: null,
    hasFact: false,
    clockMet: false,
    late: false,
    minutes: NaN,
    clockUnmet: false,
    mqlHours: NaN,
    salHours: NaN,
    sqlHours: NaN,
    cycleDays: NaN,
    mql: false,
    sal: false,
    qualified: false,
    won: false,
    attempts: NaN,
  };
}

/**
 * The figures in the window of the summarised lead in `slot`: db/reports.ts simpleLeadFigures, one condition for
 * each of its columns. Written into `into` (a fresh row unless given), so a report over tens of thousands of
 * leads fills one row again and again instead of allocating one per lead.
 */
export function leadFigures(columns: RollupColumns, slot: number, window: Window, hasFact: boolean, into: FigureRow = emptyFigureRow()): FigureRow {
  const accepted = within(columns.acceptedAt[slot]!, window);
  const qualified = within(columns.qualifiedAt[slot]!, window);
  const closed = within(columns.closedAt[slot]!, window);
  const met = within(columns.metAt[slot]!, window);
  const mqlSince = columns.mqlAt[slot]! >= window.from;
  into.tier = columns.tier[slot]!;
  into.source = columns.source[slot]!;
  into.hasFact = hasFact;
  into.clockMet = met;
  into.late = columns.metLate[slot] === 1;
  into.minutes = met ? columns.metMinutes[slot]! : NaN;
  into.clockUnmet = anyWithin(columns.unmetAt[slot]!, window);
  into.mqlHours = accepted && mqlSince ? columns.mqlHours[slot]! : NaN;
  into.salHours = qualified && columns.acceptedAt[slot]! >= window.from ? columns.salHours[slot]! : NaN;
  into.sqlHours = closed && columns.qualifiedAt[slot]! >= window.from ? columns.sqlHours[slot]! : NaN;
  into.cycleDays = closed && mqlSince ? columns.cycleDays[slot]! : NaN;
  into.mql = within(columns.mqlAt[slot]!, window);
  into.sal = accepted;
  into.qualified = qualified;
  into.won = columns.won[slot] === 1 && closed;
  into.attempts = accepted ? attemptsInWindow(columns, slot, window) : NaN;
  return into;
}

function attemptsInWindow(columns: RollupColumns, slot: number, window: Window): number {
  const attempts = columns.attempts[slot]!;
  if (attempts === 0 || (columns.firstAttemptAt[slot]! >= window.from && columns.lastAttemptAt[slot]! < window.to)) return attempts;
  return countWithin(columns.attemptAt[slot]!, window);
}

/**
 * Postgres' percentile_cont over `values` (nulls already left out; reordered in place): the linear interpolation
 * between the values at ranks floor and ceil of p × (n − 1), computed as Postgres computes it, so the doubles are
 * the same. The two ranks are found by selection, not by sorting.
 */
export function percentileCont(values: Float64Array, p: number): number | null {
  if (values.length === 0) return null;
  const position = p * (values.length - 1);
  const first = Math.floor(position);
  const low = select(values, first);
  if (position === first) return low;
  // After selecting rank `first`, everything above it is at or above it: rank first + 1 is their least.
  let high = Infinity;
  for (let i = first + 1; i < values.length; i += 1) if (values[i]! < high) high = values[i]!;
  return low + (position - first) * (high - low);
}

/** The value of rank k (0-based) of `values`, which it partially orders (Hoare's selection). */
function select(values: Float64Array, k: number): number {
  let left = 0;
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

  /** The values so far, to reorder (percentileCont selects in place). */
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

class FigureGroup {
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

  add(row: FigureRow): void {
    if (row.clockMet || row.clockUnmet) this.clocks += 1;
    if (row.clockMet && !row.late) this.metOnTime += 1;
    if (row.clockMet && row.late) this.metLate += 1;
    if (row.clockUnmet) this.unmet += 1;
    if (counts(row.minutes)) this.minutes.push(row.minutes);
    if (row.sal) {
      this.accepted += 1;
      if (counts(row.attempts)) {
        this.attemptSum += row.attempts;
        this.attempts.push(row.attempts);
      }
    }
    if (row.hasFact) this.leads += 1;
    if (row.mql) this.mql += 1;
    if (row.qualified) this.qualified += 1;
    if (row.won) this.won += 1;
    if (counts(row.mqlHours)) this.mqlHours.push(row.mqlHours);
    if (counts(row.salHours)) this.salHours.push(row.salHours);
    if (counts(row.sqlHours)) this.sqlHours.push(row.sqlHours);
    if (counts(row.cycleDays)) {
      this.cycleDays.push(row.cycleDays);
      this.cycleSum += row.cycleDays;
    }
  }

  /** Adds another group's figures to this one's. */
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
  }

  /** The group's rows of each section (leadClocksQuery's and leadStaysQuery's `by_tier`); a tier's only where it has one. Once: the values go back to the spare buffers. */
  sections(tier: number | null): SectionRow[] {
    const rows: SectionRow[] = [];
    const push = (section: SectionRow['section'], present: number, reason: string | null, a: number | null, b: number | null, c: number | null, d: number | null, e: number | null) => {
      if (tier === null || present > 0) rows.push({ section, tier, source: null, reason, a, b, c, d, e });
    };
    const minutes = this.minutes.view();
    push('speed-to-lead', this.clocks, null, this.metOnTime, this.metLate, this.unmet, percentileCont(minutes, 0.5), percentileCont(minutes, 0.9));
    const attempts = this.attempts.view();
    const attemptsMean = this.attempts.length === 0 ? null : this.attemptSum / this.attempts.length;
    push('attempts', this.accepted, null, this.accepted, this.attemptSum, attemptsMean, percentileCont(attempts, 0.5), null);
    push('conversion', this.leads, null, this.mql, this.accepted, this.qualified, this.won, null);
    for (const [stage, values] of [['MQL', this.mqlHours], ['SAL', this.salHours], ['SQL', this.sqlHours]] as const) {
      const stays = values.view();
      push('stage-aging', values.length, stage, values.length, percentileCont(stays, 0.5), percentileCont(stays, 0.9), null, null);
    }
    const cycles = this.cycleDays.view();
    const cycleMean = this.cycleDays.length === 0 ? null : this.cycleSum / this.cycleDays.length;
    push('cycle', this.cycleDays.length, null, this.cycleDays.length, cycleMean, percentileCont(cycles, 0.5), null, null);
    for (const values of [this.minutes, this.attempts, this.mqlHours, this.salHours, this.sqlHours, this.cycleDays]) values.release();
    return rows;
  }
}

/**
 * The report's sections over figure rows, added one at a time: per tier and in total (speed-to-lead, attempts,
 * conversion, stage aging, cycle) and conversion per source (the rows with a fact in the window). Closes and
 * rejections come straight from the facts, not from here.
 */
export class FigureTotals {
  private readonly tiers = new Map<number, FigureGroup>();
  private readonly sources = new Map<string | null, { mql: number; sal: number; qualified: number; won: number }>();

  /** Adds the row's figures (read now: the row may be filled again afterwards). */
  add(row: FigureRow): void {
    let group = this.tiers.get(row.tier);
    if (!group) this.tiers.set(row.tier, (group = new FigureGroup()));
    group.add(row);
    if (row.hasFact) {
      let source = this.sources.get(row.source);
      if (!source) this.sources.set(row.source, (source = { mql: 0, sal: 0, qualified: 0, won: 0 }));
      if (row.mql) source.mql += 1;
      if (row.sal) source.sal += 1;
      if (row.qualified) source.qualified += 1;
      if (row.won) source.won += 1;
    }
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
