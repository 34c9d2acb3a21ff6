import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { addDuration } from '../../domain/business-time.js';
import { parsePolicy } from '../../domain/policy.js';
import { quietPolicy, STORM_ALLOWANCE, STORM_DUE_SOON, stormPolicy } from '../../bench/policies.js';
import { defaultPolicy } from '../support/policies.js';
import { generateLead, random } from '../../bench/seed-events.js';
import { cpuPerItem, parseProcStat, readCpuTimes } from '../../bench/cpu.js';
import { ceilToMinute, firstDifference, percentile, rawFirstIn, spread, summarize } from '../../bench/support.js';

describe('bench statistics', () => {
  test('nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(values, 50), 50);
    assert.equal(percentile(values, 95), 95);
    assert.equal(percentile(values, 99), 99);
    assert.equal(percentile(values, 100), 100);
    assert.equal(percentile([7], 99), 7);
    assert.ok(Number.isNaN(percentile([], 50)));
    const summary = summarize([3, 1, 2]);
    assert.deepEqual([summary.n, summary.min, summary.p50, summary.max, summary.mean], [3, 1, 2, 3, 2]);
  });

  test('rounds give a median with min–max, and sides alternate who goes first', () => {
    assert.deepEqual(spread([30, 10, 20]), { median: 20, min: 10, max: 30, rounds: [30, 10, 20] });
    assert.equal(spread([4, 1, 2, 3]).median, 2.5);
    assert.ok(Number.isNaN(spread([]).median));
    assert.deepEqual([0, 1, 2].map(rawFirstIn), [true, false, true]);
  });

  test('firstDifference names where two answers part', () => {
    assert.equal(firstDifference({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), null);
    assert.equal(firstDifference({ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] }), '.a.1.b: 2 vs 3');
    assert.equal(firstDifference({ a: 1 }, { a: 1, c: null }), '.c: undefined vs null');
    assert.equal(firstDifference(1, 2), '(root): 1 vs 2');
  });

  test('CPU accounting reads proc(5) fields after the command name, whatever the name holds', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
    const line = '4242 (post gres) (x)) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 50 1200 300 20 0 1 0 5 0 0';
    assert.deepEqual(parseProcStat(line), { comm: 'post gres) (x)', ppid: 17, ownTicks: 300, reapedChildrenTicks: 1500 });
    const mine = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
    assert.equal(mine.ppid, process.ppid);
    assert.ok(Number.isInteger(mine.ownTicks) && mine.ownTicks >= 0);
    // No dev server PID: its share is unknown, not zero.
    assert.ok(Number.isNaN(readCpuTimes(undefined).temporalMs));
    const per = cpuPerItem({ temporalMs: 100, processMs: 50, postgresMs: 10 }, { temporalMs: 300, processMs: 150, postgresMs: 30 }, 10);
    assert.deepEqual(per, { temporalMs: 20, processMs: 10, postgresMs: 2, totalMs: 32 });
  });

  test('ceilToMinute', () => {
    assert.equal(ceilToMinute(new Date('2026-11-23T10:00:00.000Z')).toISOString(), '2026-11-23T10:00:00.000Z');
    assert.equal(ceilToMinute(new Date('2026-11-23T10:00:00.001Z')).toISOString(), '2026-11-23T10:01:00.000Z');
  });
});

describe('bench policies', () => {
  test('the quiet policy is a valid policy with nothing due for hours', () => {
    const policy = parsePolicy(quietPolicy('bench-quiet-test'));
    assert.equal(policy.speedToLead.tier1.unit, 'hours');
    assert.ok(policy.escalation.levels.every((level) => level.after.unit === 'hours'));
  });

  test('storm: every lead started before the opening falls due at the same instant', () => {
    const opensAt = new Date('2026-11-24T10:15:00.000Z'); // a Tuesday
    const startsOn = new Date('2026-11-24T10:12:31.000Z');
    const { policy, deadline } = stormPolicy('bench-storm-test', opensAt, startsOn);
    parsePolicy(policy);
    assert.equal(deadline.toISOString(), '2026-11-24T10:15:01.000Z');
    const calendar = policy.calendars[policy.defaultCalendarId]!;
    for (const start of ['2026-11-24T10:12:31.000Z', '2026-11-24T10:13:59.999Z', '2026-11-24T10:14:59.000Z']) {
      assert.equal(addDuration(calendar, new Date(start), STORM_ALLOWANCE).toISOString(), deadline.toISOString(), start);
    }
    // A lead routed after the opening gets its own deadline: the benchmark reports such leads as late.
    assert.equal(addDuration(calendar, new Date('2026-11-24T10:20:00.000Z'), STORM_ALLOWANCE).toISOString(), '2026-11-24T10:20:01.000Z');
    // The default policy's timers: its escalation levels, and a due-soon mark that every lead started in time shows.
    assert.deepEqual(policy.escalation, defaultPolicy().escalation);
    assert.equal(policy.escalation.levels[0]!.after.amount, 0);
    assert.deepEqual(policy.sla.dueSoonBefore, STORM_DUE_SOON);
    assert.ok(STORM_DUE_SOON.amount > 0);
  });

  test('storm: the start day and the opening day may differ (a storm across midnight)', () => {
    const { policy, deadline } = stormPolicy('bench-storm-midnight', new Date('2026-11-25T00:01:00.000Z'), new Date('2026-11-24T23:58:30.000Z'));
    parsePolicy(policy);
    assert.equal(deadline.toISOString(), '2026-11-25T00:01:01.000Z');
    const calendar = policy.calendars[policy.defaultCalendarId]!;
    assert.equal(addDuration(calendar, new Date('2026-11-24T23:59:59.000Z'), STORM_ALLOWANCE).toISOString(), deadline.toISOString());
  });

  test('storm: the calendar opens on a whole minute only', () => {
    assert.throws(() => stormPolicy('x', new Date('2026-11-24T10:15:30.000Z')));
  });
});

describe('seeded lead events', () => {
  test('each lead starts with received, in time order, with the workflow’s event types', () => {
    const known = new Set([
      'received', 'score-changed', 'routed', 'sla-breached', 'escalated', 'returned-to-nurture', 'accepted',
      'contact-attempted', 'speed-to-lead-met', 'cadence-ended', 'qualified', 'closed',
    ]);
    const rand = random(42);
    const from = Date.parse('2026-01-01T00:00:00Z');
    const to = Date.parse('2026-12-31T00:00:00Z');
    const tiers = new Set<number>();
    let events = 0;
    for (let i = 0; i < 2_000; i += 1) {
      const lead = generateLead(`seed-${i}`, rand, from, to);
      tiers.add(lead.tier);
      events += lead.events.length;
      assert.equal(lead.events[0]!.type, 'received');
      for (let j = 1; j < lead.events.length; j += 1) {
        assert.ok(lead.events[j]!.at >= lead.events[j - 1]!.at, `${lead.leadId}: ${lead.events[j]!.type} before ${lead.events[j - 1]!.type}`);
        assert.ok(known.has(lead.events[j]!.type), lead.events[j]!.type);
      }
    }
    assert.deepEqual([...tiers].sort(), [1, 2, 3]);
    assert.ok(events / 2_000 > 4 && events / 2_000 < 15, `about 5–10 events per lead, got ${events / 2_000}`);
  });

  test('the same seed gives the same leads', () => {
    const a = generateLead('x', random(7), 0, 1e12);
    const b = generateLead('x', random(7), 0, 1e12);
    assert.deepEqual(a, b);
  });
});
