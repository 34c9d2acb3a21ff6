import { sql, type SQL } from 'drizzle-orm';
import { resultRows, type Database, type Transaction } from './client.js';
import { RollupColumns, type RollupLead } from '../domain/lead-report-figures.js';

/**
 * A process's exact copy of the report rollup (lead_report_leads), so the lead SLA report reads its window's
 * leads from memory instead of scanning and re-deriving tens of thousands of rows per request.
 *
 * Exact, not eventually consistent: a report brings the copy to its own transaction's snapshot before reading
 * it. The rollup's refresh gives every lead whose row it writes or removes the writing transaction's ID
 * (lead_report_revisions, migration 0014); the copy remembers the snapshot it last caught up to and reads only
 * the leads whose revision that snapshot did not see (committed since, or still running then). Reports catch
 * up one at a time, each in the order its transaction took its snapshot, so the copy never moves backwards.
 */

const DAY_MS = 86_400_000;

/** The transaction a report reads the copy in: one snapshot for all of its statements. */
const snapshotTransaction = { isolationLevel: 'repeatable read', accessMode: 'read only' } as const;

/**
 * How far back the copy reaches from when it was loaded: leads whose last fact is older are left out (memory
 * stays bounded by recent leads), and a window starting before that reads the rollup in SQL instead.
 */
export const LEAD_REPORT_COPY_DAYS = 400;

/** Rows per statement of the first load: its memory peak is one page of parsed rows, not the whole rollup. */
const LOAD_PAGE_ROWS = 10_000;

/** An instant as epoch milliseconds, floored: `t >= from` for a millisecond bound holds exactly when it held for the microseconds. */
const millis = (column: SQL) => sql`floor(extract(epoch from ${column}) * 1000)::float8`;
const millisArray = (column: SQL) => sql`(select array_agg(floor(extract(epoch from a) * 1000)::float8 order by a) from unnest(${column}) a)`;

const rollupColumns = sql`
  r.lead_id, r.simple, ${millis(sql`r.first_at`)} as first_at, ${millis(sql`r.last_at`)} as last_at, r.tier, r.source,
  ${millis(sql`r.mql_at`)} as mql_at, ${millis(sql`r.accepted_at`)} as accepted_at, ${millis(sql`r.qualified_at`)} as qualified_at,
  ${millis(sql`r.closed_at`)} as closed_at, r.won, ${millis(sql`r.met_at`)} as met_at, r.met_minutes, r.met_late,
  ${millisArray(sql`r.unmet_at`)} as unmet_at, r.mql_hours, r.sal_hours, r.sql_hours, r.cycle_days::float8 as cycle_days, r.attempts,
  ${millis(sql`r.first_attempt_at`)} as first_attempt_at, ${millis(sql`r.last_attempt_at`)} as last_attempt_at,
  ${millisArray(sql`r.attempt_at`)} as attempt_at, ${millisArray(sql`r.nurture_at`)} as nurture_at, r.nurture_reason`;

interface RollupSqlRow {
  changed_id: string | null;
  lead_id: string | null;
  simple: boolean;
  first_at: number;
  last_at: number;
  tier: number;
  source: string | null;
  mql_at: number | null;
  accepted_at: number | null;
  qualified_at: number | null;
  closed_at: number | null;
  won: boolean | null;
  met_at: number | null;
  met_minutes: number | null;
  met_late: boolean | null;
  unmet_at: number[] | null;
  mql_hours: number | null;
  sal_hours: number | null;
  sql_hours: number | null;
  cycle_days: number | null;
  attempts: number;
  first_attempt_at: number | null;
  last_attempt_at: number | null;
  attempt_at: number[] | null;
  nurture_at: number[] | null;
  nurture_reason: (string | null)[] | null;
}

const numberOrNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));
const numbersOrNull = (value: unknown) => (Array.isArray(value) ? value.map(Number) : null);

function rollupLead(row: RollupSqlRow): RollupLead {
  return {
    leadId: row.lead_id!,
    simple: row.simple,
    firstAt: Number(row.first_at),
    lastAt: Number(row.last_at),
    tier: Number(row.tier),
    source: row.source,
    mqlAt: numberOrNull(row.mql_at),
    acceptedAt: numberOrNull(row.accepted_at),
    qualifiedAt: numberOrNull(row.qualified_at),
    closedAt: numberOrNull(row.closed_at),
    won: row.won,
    metAt: numberOrNull(row.met_at),
    metMinutes: numberOrNull(row.met_minutes),
    metLate: row.met_late,
    unmetAt: numbersOrNull(row.unmet_at),
    mqlHours: numberOrNull(row.mql_hours),
    salHours: numberOrNull(row.sal_hours),
    sqlHours: numberOrNull(row.sql_hours),
    cycleDays: numberOrNull(row.cycle_days),
    attempts: Number(row.attempts),
    firstAttemptAt: numberOrNull(row.first_attempt_at),
    lastAttemptAt: numberOrNull(row.last_attempt_at),
    attemptAt: numbersOrNull(row.attempt_at),
    nurtureAt: numbersOrNull(row.nurture_at),
    nurtureReason: row.nurture_reason,
  };
}

/** The copy as of a report's snapshot. */
export interface CopyAtSnapshot {
  /** The summarised leads, one slot each; valid until the read returns (the copy then moves on). */
  columns: RollupColumns;
  /** The slots of the leads with their first fact before `to` and their last at or after `from`; valid until the next call. */
  overlapping(window: { from: number; to: number }): Int32Array;
  /** The leads the rollup cannot summarise that the window overlaps (the same test), by ID. */
  complexOverlapping(window: { from: number; to: number }): string[];
}

export class LeadReportCopy {
  /** The summarised leads (the copy leaves the others to SQL), one slot each. */
  private readonly columns = new RollupColumns();
  private readonly slotOf = new Map<string, number>();
  private readonly freeSlots: number[] = [];
  private slotCount = 0;
  private readonly strings = new Map<string, string>();
  /** The leads the rollup cannot summarise (their facts are read instead): when each one's facts begin and end. */
  private readonly complexSpans = new Map<string, { firstAt: number; lastAt: number }>();
  /** The snapshot (pg_snapshot as text) the copy equals the rollup at; null before the first load. */
  private snapshot: string | null = null;
  private turn: Promise<unknown> = Promise.resolve();
  /** overlapping()'s answer: one buffer for every report (reports read in turn), not a window's worth of garbage each. */
  private overlappingSlots = new Int32Array(0);
  /** Leads written since the slots were last put in order (orderSlots), and, when given, how many may be before they are again. */
  private writtenSinceOrdered = 0;
  private readonly orderAfterWrites: number | undefined;
  /** Epoch milliseconds: the copy holds every lead whose last fact is at or after it. */
  readonly horizon: number;

  constructor(loadedAt = Date.now(), { orderAfterWrites }: { orderAfterWrites?: number } = {}) {
    this.horizon = loadedAt - LEAD_REPORT_COPY_DAYS * DAY_MS;
    this.orderAfterWrites = orderAfterWrites;
  }

  /** Whether a window starting at `from` finds all of its leads here (each lead it overlaps has its last fact at or after `from`). */
  covers(from: number): boolean {
    return from >= this.horizon;
  }

  /** Throws unless the copy covers a window starting at `from`: a caller that read it anyway would miss leads. */
  mustCover(from: Date): void {
    if (!this.covers(from.getTime())) throw new Error(`the report copy reaches back to ${new Date(this.horizon).toISOString()}, not to ${from.toISOString()}`);
  }

  /** How many leads the copy holds. */
  get size(): number {
    return this.slotOf.size + this.complexSpans.size;
  }

  private put(lead: RollupLead): void {
    let slot = this.slotOf.get(lead.leadId);
    if (slot === undefined) {
      slot = this.freeSlots.pop() ?? this.slotCount++;
      this.slotOf.set(lead.leadId, slot);
    }
    this.writtenSinceOrdered += 1;
    this.columns.write(slot, lead, this.intern(lead.source), lead.nurtureReason?.map((reason) => this.intern(reason)) ?? null);
  }

  /** One string per distinct source or reason, however many leads hold it. */
  private intern(text: string | null): string | null {
    if (text === null) return null;
    const interned = this.strings.get(text);
    if (interned !== undefined) return interned;
    this.strings.set(text, text);
    return text;
  }

  private remove(leadId: string): void {
    const slot = this.slotOf.get(leadId);
    if (slot === undefined) return;
    this.slotOf.delete(leadId);
    this.columns.clear(slot);
    this.freeSlots.push(slot);
  }

  private readonly atSnapshot: CopyAtSnapshot = {
    columns: this.columns,
    complexOverlapping: ({ from, to }) => {
      const found: string[] = [];
      for (const [leadId, span] of this.complexSpans) if (span.lastAt >= from && span.firstAt < to) found.push(leadId);
      return found;
    },
    overlapping: ({ from, to }) => {
      const { firstAt, lastAt } = this.columns;
      const slots = this.slotCount;
      if (this.overlappingSlots.length < slots) this.overlappingSlots = new Int32Array(this.columns.capacity);
      const found = this.overlappingSlots;
      let count = 0;
      for (let slot = 0; slot < slots; slot += 1) {
        if (lastAt[slot]! >= from && firstAt[slot]! < to) found[count++] = slot;
      }
      return found.subarray(0, count);
    },
  };

  /**
   * Runs `body` in a repeatable-read transaction whose first statement brings the copy to the transaction's
   * snapshot: `body` calls `read` before anything else, and `read` hands its callback the leads as of that
   * snapshot. Reports take turns from before their transaction begins until their read returns, so snapshots are
   * taken, and applied, in order, and a report waiting for its turn holds no database connection; what `body`
   * does after the read (in the same snapshot) runs beside the next report's turn.
   */
  async inSnapshot<T>(db: Database, body: (tx: Transaction, read: <R>(use: (copy: CopyAtSnapshot) => R) => Promise<R>) => Promise<T>): Promise<T> {
    const previous = this.turn;
    let endTurn!: () => void;
    this.turn = new Promise<void>((resolve) => (endTurn = resolve));
    await previous;
    try {
      return await db.transaction(
        (tx) =>
          body(tx, async (use) => {
            try {
              await this.catchUp(tx);
              return use(this.atSnapshot);
            } finally {
              endTurn();
            }
          }),
        snapshotTransaction,
      );
    } finally {
      endTurn();
    }
  }

  private async catchUp(tx: Transaction): Promise<void> {
    const seen = this.snapshot;
    if (seen === null) return this.load(tx);
    // One statement: the snapshot it answers in (the transaction's) comes back on every row, and on a row of its
    // own when nothing changed. It turns JIT off for the rest of the transaction (the report's statements that
    // follow): their estimates can pass jit_above_cost, and compiling costs more than running them.
    const answered = resultRows<RollupSqlRow & { snapshot: string }>(
      await tx.execute(sql`
        with settings as materialized (select set_config('jit', 'off', true)),
        changed as (
          select v.lead_id as changed_id, ${rollupColumns}
          from lead_report_revisions v left join lead_report_leads r on r.lead_id = v.lead_id
          where v.revision >= pg_snapshot_xmin(${seen}::pg_snapshot) and not pg_visible_in_snapshot(v.revision, ${seen}::pg_snapshot)
        )
        select (select pg_current_snapshot()::text from settings) as snapshot, c.* from (select 1) one left join changed c on true`),
    );
    this.apply(answered[0]!.changed_id === null ? [] : answered);
    this.snapshot = answered[0]!.snapshot;
    if (this.writtenSinceOrdered >= (this.orderAfterWrites ?? Math.max(10_000, this.slotOf.size / 4))) this.orderSlots();
  }

  /** The first catch-up: every lead since the horizon, a page at a time (the rows of one page in memory at once), all in the transaction's snapshot. */
  private async load(tx: Transaction): Promise<void> {
    // A load that failed part-way left some pages behind: start from nothing, as that load's snapshot is gone.
    for (const leadId of [...this.slotOf.keys()]) this.remove(leadId);
    this.complexSpans.clear();
    const [current] = resultRows<{ snapshot: string }>(await tx.execute(sql`select pg_current_snapshot()::text as snapshot, set_config('jit', 'off', true)`));
    for (let after = ''; ; ) {
      const page = resultRows<RollupSqlRow>(
        await tx.execute(sql`
          select null::text as changed_id, ${rollupColumns} from lead_report_leads r
          where r.last_at >= ${new Date(this.horizon).toISOString()}::timestamptz and r.lead_id > ${after}
          order by r.lead_id limit ${LOAD_PAGE_ROWS}`),
      );
      this.apply(page);
      if (page.length < LOAD_PAGE_ROWS) break;
      after = page.at(-1)!.lead_id!;
    }
    this.snapshot = current!.snapshot;
    this.orderSlots();
  }

  /**
   * Puts the leads in the order of their last fact, so that a window's leads (mostly the recent ones) lie side
   * by side in every column. In lead-ID order each of them cost a cache miss per column read: the pass over the
   * bench's 37,000 of 138,000 leads took 6.6-11.7 ms so, and 4.6-4.9 ms in this order. A lead keeps its slot
   * when it changes (and a new one takes a freed slot or the next), so the order wears: it is restored once
   * the leads written since number a quarter of the copy and at least 10,000 (or `orderAfterWrites`).
   */
  private orderSlots(): void {
    const { lastAt } = this.columns;
    const slots = [...this.slotOf.values()].sort((a, b) => lastAt[a]! - lastAt[b]!);
    this.columns.reorder(slots);
    slots.forEach((_, slot) => this.slotOf.set(this.columns.leadId[slot]!, slot));
    this.freeSlots.length = 0;
    this.slotCount = slots.length;
    this.writtenSinceOrdered = 0;
  }

  private apply(rows: readonly RollupSqlRow[]): void {
    for (const row of rows) {
      const leadId = row.changed_id ?? row.lead_id!;
      this.remove(leadId);
      this.complexSpans.delete(leadId);
      // A lead whose row is gone (erased, its history deleted) or whose last fact fell behind the horizon leaves the copy.
      if (row.lead_id === null || Number(row.last_at) < this.horizon) continue;
      if (row.simple) this.put(rollupLead(row));
      else this.complexSpans.set(leadId, { firstAt: Number(row.first_at), lastAt: Number(row.last_at) });
    }
  }

}

const copies = new WeakMap<Database, LeadReportCopy>();

/** The copy of the rollup kept for this database handle (one per process and database). */
export function leadReportCopyOf(db: Database): LeadReportCopy {
  let copy = copies.get(db);
  if (!copy) copies.set(db, (copy = new LeadReportCopy()));
  return copy;
}

/**
 * Loads this database handle's copy now rather than at the first report (about 1.8 s for 138,000 leads on 2
 * cores): the API calls it once it listens.
 */
export async function warmLeadReportCopy(db: Database): Promise<void> {
  const copy = leadReportCopyOf(db);
  await copy.inSnapshot(db, (_tx, read) => read(() => undefined));
}
