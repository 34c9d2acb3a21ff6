import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { prefersCsv } from '../../api/reports.js';
import {
  conversionRow,
  conversionTargetRow,
  csvField,
  distribution,
  leadReportFact,
  mean,
  median,
  milestoneStatus,
  p90,
  percentile,
  ratio,
  rejectionCounts,
  rounded,
  share,
  speedToLeadRow,
  summarizeHandoffs,
  toCsv,
  type HandoffMilestone,
} from '../../domain/report-stats.js';

describe('percentiles (linear interpolation, as Postgres percentile_cont)', () => {
  test('empty input has no median or p90', () => {
    assert.equal(median([]), null);
    assert.equal(p90([]), null);
    assert.deepEqual(distribution([], 2), { count: 0, median: null, p90: null });
  });

  test('one value is its own median and p90', () => {
    assert.equal(median([7]), 7);
    assert.equal(p90([7]), 7);
  });

  test('odd count: the middle value, whatever the input order', () => {
    assert.equal(median([9, 1, 5]), 5);
    assert.equal(median([3, 1, 4, 1, 5]), 3);
  });

  test('even count: halfway between the two middle values', () => {
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([10, 20]), 15);
  });

  test('p90 interpolates between the closest ranks', () => {
    // rank 0.9 × 9 = 8.1 over 1..10: 9 + 0.1 × (10 − 9)
    assert.ok(Math.abs(p90([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])! - 9.1) < 1e-9);
    // rank 0.9 × 1 = 0.9 over [0, 100]
    assert.equal(p90([100, 0]), 90);
    // rank 0.9 × 4 = 3.6 over [1, 2, 3, 4, 50]: 4 + 0.6 × 46
    assert.ok(Math.abs(p90([50, 1, 2, 3, 4])! - 31.6) < 1e-9);
  });

  test('the input is not reordered', () => {
    const values = [3, 1, 2];
    median(values);
    assert.deepEqual(values, [3, 1, 2]);
  });

  test('p outside 0..1 is a programming error', () => {
    assert.throws(() => percentile([1], 1.5), RangeError);
    assert.throws(() => percentile([1], -0.1), RangeError);
  });

  test('any percentile lies between min and max, and grows with p', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 40 }), fc.double({ min: 0, max: 1, noNaN: true }), (values, p) => {
        const value = percentile(values, p)!;
        assert.ok(value >= Math.min(...values) - 1e-6 && value <= Math.max(...values) + 1e-6);
        assert.ok(percentile(values, Math.min(1, p + 0.1))! >= value - 1e-6);
      }),
    );
  });

  test('mean', () => {
    assert.equal(mean([]), null);
    assert.equal(mean([1, 2, 3, 6]), 3);
  });
});

describe('shares and ratios', () => {
  test('a share of nothing is null, not 0 %', () => {
    assert.equal(share(0, 0), null);
    assert.equal(share(0, 4), 0);
    assert.equal(share(3, 4), 0.75);
    assert.equal(share(4, 4), 1);
  });

  test('a share above the whole is a programming error; a ratio may exceed 1', () => {
    assert.throws(() => share(5, 4), RangeError);
    assert.equal(ratio(5, 4), 1.25);
    assert.equal(ratio(1, 0), null);
  });

  test('rounding keeps null and rounds at the given decimals', () => {
    assert.equal(rounded(null, 2), null);
    assert.equal(rounded(2 / 3, 4), 0.6667);
    assert.equal(rounded(1.005, 1), 1);
  });

  test('conversion ratios along MQL → SAL → SQL → won, null where a stage had nobody', () => {
    assert.deepEqual(conversionRow({ mql: 10, sal: 6, sql: 3, won: 0 }), {
      mql: 10,
      sal: 6,
      sql: 3,
      won: 0,
      salPerMql: 0.6,
      sqlPerSal: 0.5,
      sqlPerMql: 0.3,
      wonPerSql: 0,
    });
    assert.deepEqual(conversionRow({ mql: 0, sal: 0, sql: 0, won: 0 }).salPerMql, null);
  });

  test('MQL → SQL against its target: met at the target, missed below, unknown without either side', () => {
    assert.deepEqual(conversionTargetRow(0.3, 0.3), { actual: 0.3, target: 0.3, meetsTarget: true });
    assert.deepEqual(conversionTargetRow(0.2857, 0.3), { actual: 0.2857, target: 0.3, meetsTarget: false });
    assert.equal(conversionTargetRow(null, 0.3).meetsTarget, null);
    assert.equal(conversionTargetRow(0.5, null).meetsTarget, null);
  });

  test('speed-to-lead adherence is met on time over every clock that ended or breached', () => {
    assert.deepEqual(speedToLeadRow({ metOnTime: 3, metLate: 1, breachedUnmet: 2, median: 12.3456, p90: 40 }), {
      clocks: 6,
      metOnTime: 3,
      metLate: 1,
      breachedUnmet: 2,
      adherence: 0.5,
      medianBusinessMinutes: 12.35,
      p90BusinessMinutes: 40,
    });
    assert.equal(speedToLeadRow({ metOnTime: 0, metLate: 0, breachedUnmet: 0, median: null, p90: null }).adherence, null);
  });

  test('rejection reasons are tallied by reason, by source and by tier, most frequent first', () => {
    const counts = rejectionCounts([
      { tier: 1, source: 'web', reason: 'no-budget', count: 2 },
      { tier: 2, source: 'web', reason: 'no-budget', count: 1 },
      { tier: 2, source: null, reason: 'wrong-icp', count: 4 },
    ]);
    assert.deepEqual(counts.byReason, [
      { reason: 'wrong-icp', count: 4 },
      { reason: 'no-budget', count: 3 },
    ]);
    assert.deepEqual(counts.bySource, [
      { source: null, reason: 'wrong-icp', count: 4 },
      { source: 'web', reason: 'no-budget', count: 3 },
    ]);
    assert.deepEqual(counts.byTier, [
      { tier: 2, reason: 'wrong-icp', count: 4 },
      { tier: 1, reason: 'no-budget', count: 2 },
      { tier: 2, reason: 'no-budget', count: 1 },
    ]);
  });
});

describe('handoff summary', () => {
  const milestone = (kind: string, ownerId: string, doneAt: string | null, breached: boolean, delay: number | null): HandoffMilestone => ({
    milestone: kind === 'qbr' ? 'qbr-1' : kind,
    kind,
    owner: kind === 'dossier' ? 'sales' : 'cs',
    ownerId,
    startedAt: '2026-01-01T00:00:00.000Z',
    dueAt: '2026-01-03T00:00:00.000Z',
    doneAt,
    breached,
    status: milestoneStatus({ doneAt, breached }),
    delayBusinessHours: delay,
  });
  const done = '2026-01-02T00:00:00.000Z';

  test('statuses: on time, late, overdue, open', () => {
    assert.equal(milestoneStatus({ doneAt: done, breached: false }), 'on-time');
    assert.equal(milestoneStatus({ doneAt: done, breached: true }), 'late');
    assert.equal(milestoneStatus({ doneAt: null, breached: true }), 'overdue');
    assert.equal(milestoneStatus({ doneAt: null, breached: false }), 'open');
  });

  test('on-time share over known outcomes, delays over done milestones, breaches per owner', () => {
    const summary = summarizeHandoffs([
      { milestones: [milestone('dossier', 'rep-a', done, false, 0), milestone('kickoff', 'cs-1', done, true, 6), milestone('qbr', 'cs-1', null, false, null)] },
      { milestones: [milestone('dossier', 'rep-a', done, true, 2), milestone('kickoff', 'cs-2', null, true, null), milestone('qbr', 'cs-2', null, false, null)] },
      { milestones: [milestone('dossier', 'rep-b', done, false, 0), milestone('kickoff', 'cs-1', done, false, 0), milestone('qbr', 'cs-1', null, false, null)] },
    ]);
    assert.equal(summary.deals, 3);
    assert.deepEqual(
      summary.milestones.map((m) => m.kind),
      ['dossier', 'kickoff', 'qbr'],
    );
    const [dossier, kickoff, qbr] = summary.milestones;
    assert.deepEqual(dossier, { kind: 'dossier', total: 3, onTime: 2, late: 1, overdue: 0, open: 0, onTimeShare: 0.6667, delayBusinessHours: { count: 3, median: 0, p90: 1.6 } });
    assert.deepEqual(kickoff, { kind: 'kickoff', total: 3, onTime: 1, late: 1, overdue: 1, open: 0, onTimeShare: 0.3333, delayBusinessHours: { count: 2, median: 3, p90: 5.4 } });
    assert.deepEqual(qbr, { kind: 'qbr', total: 3, onTime: 0, late: 0, overdue: 0, open: 3, onTimeShare: null, delayBusinessHours: { count: 0, median: null, p90: null } });
    assert.deepEqual(summary.breachesByOwner, {
      sales: [
        { ownerId: 'rep-a', milestones: 2, breaches: 1 },
        { ownerId: 'rep-b', milestones: 1, breaches: 0 },
      ],
      cs: [
        { ownerId: 'cs-1', milestones: 4, breaches: 1 },
        { ownerId: 'cs-2', milestones: 2, breaches: 1 },
      ],
    });
  });

  test('no deals, no milestones', () => {
    assert.deepEqual(summarizeHandoffs([]), { deals: 0, milestones: [], breachesByOwner: { sales: [], cs: [] } });
  });
});

describe('CSV (RFC 4180)', () => {
  test('fields with a comma, quote or line break are quoted, quotes doubled; null is empty', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('Acme, Inc.'), '"Acme, Inc."');
    assert.equal(csvField('the "best" one'), '"the ""best"" one"');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    assert.equal(csvField(null), '');
    assert.equal(csvField(true), 'true');
    assert.equal(csvField(-1.5), '-1.5', 'numbers as they are');
  });

  test('text a spreadsheet would run as a formula is defused', () => {
    assert.equal(csvField('=HYPERLINK("http://x")'), `"'=HYPERLINK(""http://x"")"`);
    assert.equal(csvField('+48 600'), "'+48 600");
    assert.equal(csvField('@sum'), "'@sum");
  });

  test('a header line, then one CRLF-terminated line per row', () => {
    assert.equal(toCsv(['a', 'b'], [[1, 'x,y'], [null, 'z']]), 'a,b\r\n1,"x,y"\r\n,z\r\n');
  });
});

describe('Accept negotiation', () => {
  test('CSV only when text/csv is preferred over JSON', () => {
    assert.equal(prefersCsv(undefined), false);
    assert.equal(prefersCsv('*/*'), false);
    assert.equal(prefersCsv('application/json'), false);
    assert.equal(prefersCsv('text/csv'), true);
    assert.equal(prefersCsv('text/csv, application/json'), false, 'a tie goes to JSON');
    assert.equal(prefersCsv('application/json;q=0.5, text/csv'), true);
    assert.equal(prefersCsv('text/*, application/json;q=0.9'), true);
    assert.equal(prefersCsv('text/csv;q=0, */*'), false);
    assert.equal(prefersCsv('TEXT/CSV'), true);
  });
});

describe('lead report facts (what the lead SLA report reads of each audit event)', () => {
  test('types the report does not read leave no fact', () => {
    for (const type of ['routed', 'escalated', 'score-changed', 'cadence-ended', 'policy-migrated']) assert.equal(leadReportFact(type, {}), null);
  });

  test('counts: entering as or becoming MQL, a won close, a speed-to-lead breach; every other read type counts', () => {
    assert.equal(leadReportFact('received', { stage: 'MQL' })!.counts, true);
    assert.equal(leadReportFact('received', { stage: 'LEAD' })!.counts, false);
    assert.equal(leadReportFact('stage-changed', { from: 'NURTURE', to: 'MQL' })!.counts, true);
    assert.equal(leadReportFact('stage-changed', { from: 'LEAD', to: 'NURTURE' })!.counts, false);
    assert.equal(leadReportFact('closed', { outcome: 'won' })!.counts, true);
    assert.equal(leadReportFact('closed', { outcome: 'lost' })!.counts, false);
    assert.equal(leadReportFact('sla-breached', { deadline: 'speed-to-lead' })!.counts, true);
    assert.equal(leadReportFact('sla-breached', { deadline: 'cadence-attempt' })!.counts, false);
    assert.equal(leadReportFact('accepted', {})!.counts, true);
  });

  test('a met speed-to-lead clock carries its minutes, whether it was late and when it started', () => {
    const startedAt = '2026-11-23T09:00:00.000Z';
    assert.deepEqual(leadReportFact('speed-to-lead-met', { startedAt, breached: true, businessMinutes: 42.5 }), {
      type: 'speed-to-lead-met',
      counts: true,
      businessMinutes: 42.5,
      metLate: true,
      clockStartedAt: startedAt,
      reason: null,
    });
    const onTime = leadReportFact('speed-to-lead-met', { startedAt, breached: false, businessMinutes: 3 })!;
    assert.equal(onTime.metLate, false);
  });

  test('malformed payload fields become null instead of failing the audit write', () => {
    const fact = leadReportFact('speed-to-lead-met', { startedAt: 'yesterday', businessMinutes: '12' })!;
    assert.equal(fact.clockStartedAt, null);
    assert.equal(fact.businessMinutes, null);
    assert.equal(fact.metLate, false);
    assert.equal(leadReportFact('returned-to-nurture', { reason: 7 })!.reason, null);
  });

  test('a return to nurture carries its reason; other types carry none of the clock fields', () => {
    assert.deepEqual(leadReportFact('returned-to-nurture', { reason: 'no-budget' }), {
      type: 'returned-to-nurture',
      counts: true,
      businessMinutes: null,
      metLate: null,
      clockStartedAt: null,
      reason: 'no-budget',
    });
  });
});
