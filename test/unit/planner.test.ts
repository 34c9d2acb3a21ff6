import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backCalculatePlan, checkPlanInput, type PlanInput, type RunRate } from '../../domain/planner.js';

const noRunRate: RunRate = { leads: null, mqls: null, sals: null, sqls: null, deals: null, revenue: null };

/**
 * Seed 001, step 4: "if the goal is 1 million zł of new sales a quarter and the average deal is 100 thousand,
 * you need 10 won opportunities. At SQL → Won of 25 % that is 40 SQLs a quarter. MQL → SQL of 30 % means about
 * 134 MQLs a quarter." The seed goes from MQL straight to SQL, so MQL → SAL is 100 % here.
 */
const seedExample: PlanInput = {
  revenueGoal: 1_000_000,
  months: 3,
  averageDealSize: 100_000,
  rates: { leadToMql: null, mqlToSal: 1, salToSql: 0.3, winRate: 0.25 },
};

const totals = (plan: ReturnType<typeof backCalculatePlan>) => Object.fromEntries(plan.stages.map((stage) => [stage.stage, stage.total]));
const perMonth = (plan: ReturnType<typeof backCalculatePlan>) => Object.fromEntries(plan.stages.map((stage) => [stage.stage, stage.perMonth]));

describe('planner: the funnel back-calculated from the revenue goal', () => {
  test("seed 001's example: 1 M a quarter at 100 k is 10 deals, 40 SQLs, 134 MQLs", () => {
    const plan = backCalculatePlan(seedExample, noRunRate);
    assert.deepEqual(totals(plan), { leads: null, mqls: 134, sals: 134, sqls: 40, deals: 10 });
    assert.equal(plan.mqlToSql, 0.3);
    // Per month, rounded up: a month short of its share would miss the quarter.
    assert.deepEqual(perMonth(plan), { leads: null, mqls: 45, sals: 45, sqls: 14, deals: 4 });
    assert.equal(plan.revenue.goalPerMonth, 333_333.33);
  });

  test('each stage is rounded up before the next is derived, and leads follow from lead → MQL', () => {
    const plan = backCalculatePlan({ ...seedExample, rates: { leadToMql: 0.1, mqlToSal: 0.7, salToSql: 0.3, winRate: 0.25 } }, noRunRate);
    // 40 / 0.3 = 133.3 → 134 SALs; 134 / 0.7 = 191.4 → 192 MQLs; 192 / 0.1 = 1920 leads.
    assert.deepEqual(totals(plan), { leads: 1920, mqls: 192, sals: 134, sqls: 40, deals: 10 });
    assert.equal(plan.mqlToSql, 0.21);
  });

  test('a quotient a hair above a whole number from float error plans no extra record', () => {
    const plan = backCalculatePlan({ revenueGoal: 0.3, months: 1, averageDealSize: 0.1, rates: { leadToMql: 1, mqlToSal: 1, salToSql: 1, winRate: 1 } }, noRunRate);
    assert.equal(plan.stages.find((stage) => stage.stage === 'deals')!.total, 3);
  });

  test('the gap is what the plan needs per month beyond the current run rate', () => {
    const plan = backCalculatePlan(seedExample, { leads: 500, mqls: 30, sals: 30, sqls: 15.5, deals: 2, revenue: 200_000 });
    const byStage = Object.fromEntries(plan.stages.map((stage) => [stage.stage, stage]));
    assert.equal(byStage.mqls!.gapPerMonth, 15);
    assert.equal(byStage.sqls!.gapPerMonth, -1.5);
    assert.equal(byStage.deals!.gapPerMonth, 2);
    assert.equal(byStage.leads!.gapPerMonth, null, 'no plan for leads without a lead → MQL rate');
    assert.equal(plan.revenue.gapPerMonth, 133_333.33);
  });

  test('an unknown average deal size or an unknown rate leaves the stages above it unplanned', () => {
    assert.deepEqual(totals(backCalculatePlan({ ...seedExample, averageDealSize: null }, noRunRate)), { leads: null, mqls: null, sals: null, sqls: null, deals: null });
    assert.deepEqual(totals(backCalculatePlan({ ...seedExample, rates: { ...seedExample.rates, salToSql: null } }, noRunRate)), {
      leads: null,
      mqls: null,
      sals: null,
      sqls: 40,
      deals: 10,
    });
  });

  test('input arithmetic cannot use is named', () => {
    assert.deepEqual(checkPlanInput({ revenueGoal: 0, months: 1.5, averageDealSize: -1, rates: { leadToMql: 0, mqlToSal: 1.2, salToSql: 1, winRate: null } }), [
      'revenueGoal: must be a positive number',
      'months: must be a whole number of months, at least 1',
      'averageDealSize: must be a positive number',
      'leadToMql: must be a share in (0, 1]',
      'mqlToSal: must be a share in (0, 1]',
    ]);
    assert.throws(() => backCalculatePlan({ ...seedExample, months: 0 }, noRunRate), RangeError);
  });
});
