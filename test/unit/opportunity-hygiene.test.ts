import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { advanceHygiene, startHygiene } from '../../domain/lead-clocks.js';
import { hygieneAction, hygieneProblems, openOpportunity } from '../../domain/opportunity-hygiene.js';

const DAY = 86_400_000;
const week = { amount: 7, unit: 'days', clock: 'wall' } as const;
const policy = { checkEvery: week, staleAfter: week, remindersBeforeEscalation: 2 };
const t0 = new Date('2026-12-01T10:00:00Z');
const at = (days: number) => new Date(t0.getTime() + days * DAY);

describe('opportunity hygiene rules', () => {
  test('stale at exactly the stale age, not a millisecond before', () => {
    const opportunity = { ...openOpportunity(t0), nextStep: { dueAt: at(30).toISOString(), type: 'call' as const, setAt: t0.toISOString(), actor: 'a' } };
    assert.deepEqual(hygieneProblems(opportunity, 7 * DAY, new Date(at(7).getTime() - 1)), []);
    assert.deepEqual(hygieneProblems(opportunity, 7 * DAY, at(7)), ['stale']);
  });

  test('a next step missing, or past its date, is a problem; one due right now is not yet', () => {
    const opportunity = openOpportunity(t0);
    assert.deepEqual(hygieneProblems(opportunity, 7 * DAY, at(1)), ['no-next-step']);
    const withStep = { ...opportunity, nextStep: { dueAt: at(2).toISOString(), type: 'demo' as const, setAt: t0.toISOString(), actor: 'a' } };
    assert.deepEqual(hygieneProblems(withStep, 7 * DAY, at(2)), []);
    assert.deepEqual(hygieneProblems(withStep, 7 * DAY, new Date(at(2).getTime() + 1)), ['next-step-overdue']);
  });

  test('reminders until the policy\'s number went unheeded, then the manager; a passing check starts the count again', () => {
    assert.equal(hygieneAction(0, policy), 'remind-owner');
    assert.equal(hygieneAction(1, policy), 'remind-owner');
    assert.equal(hygieneAction(2, policy), 'alert-manager');
    assert.equal(hygieneAction(0, { remindersBeforeEscalation: 0 }), 'alert-manager');
    let clock = startHygiene(policy, t0);
    assert.equal(clock.nextCheckAt, at(7).toISOString());
    clock = advanceHygiene(policy, advanceHygiene(policy, clock, true), true);
    assert.deepEqual(clock, { nextCheckAt: at(21).toISOString(), failedChecks: 2 });
    assert.deepEqual(advanceHygiene(policy, clock, false), { nextCheckAt: at(28).toISOString(), failedChecks: 0 });
  });
});
