/**
 * The funnel back-calculated from a revenue goal (seed 001, step 4): the goal at the average deal size is a
 * number of deals; at the win rate (SQL → won) that many SQLs; then SALs, MQLs and leads by the conversion
 * rates above them. Pure, so the API, the dashboard and the tests compute the same plan.
 *
 * Each stage is rounded up to a whole record before the next one is derived, as the seed does by hand
 * ("10 deals at 25 % is 40 SQLs; at 30 % MQL → SQL that is about 134 MQLs"): nobody can plan 133.3 MQLs, and
 * rounding only at the end would plan fewer than the stage below needs.
 */

export const planStages = ['leads', 'mqls', 'sals', 'sqls', 'deals'] as const;
export type PlanStage = (typeof planStages)[number];

/** The rate that turns one stage into the next: leads → MQL, MQL → SAL, SAL → SQL, SQL → won. */
export interface PlanRates {
  leadToMql: number | null;
  mqlToSal: number | null;
  salToSql: number | null;
  winRate: number | null;
}

export interface PlanInput {
  revenueGoal: number;
  /** The goal's period in months (a quarter is 3). */
  months: number;
  averageDealSize: number | null;
  rates: PlanRates;
}

/** Records per month the funnel produces now (from the measured window), or null where unknown. */
export type RunRate = Record<PlanStage, number | null> & { revenue: number | null };

export interface PlanStageFigures {
  stage: PlanStage;
  /** Needed over the whole period, whole records; null when a rate on the way there is unknown or 0. */
  total: number | null;
  /** total ÷ months, rounded up. */
  perMonth: number | null;
  /** What the funnel produces per month now. */
  runRatePerMonth: number | null;
  /** perMonth − run rate: how many more per month the goal needs (negative: ahead of plan). */
  gapPerMonth: number | null;
}

export interface Plan {
  revenueGoal: number;
  months: number;
  averageDealSize: number | null;
  rates: PlanRates;
  /** MQL → SQL, the seed's headline rate (target ≥ 30 %): MQL → SAL × SAL → SQL. */
  mqlToSql: number | null;
  stages: PlanStageFigures[];
  revenue: { goalPerMonth: number; runRatePerMonth: number | null; gapPerMonth: number | null };
}

// Float division may land a hair above a whole number (0.1 * 3); that must not plan one record more.
const EPSILON = 1e-9;
const wholeUp = (value: number) => Math.max(0, Math.ceil(value - EPSILON));

/** `needed` records of the stage below, divided by the rate into this one; null when the rate is unknown or 0. */
function before(needed: number | null, rate: number | null): number | null {
  if (needed === null || rate === null || !(rate > 0)) return null;
  return wholeUp(needed / rate);
}

const round = (value: number, decimals: number) => Math.round(value * 10 ** decimals) / 10 ** decimals;

/** Validates what arithmetic cannot work with: a plan of NaN records helps nobody. */
export function checkPlanInput(input: PlanInput): string[] {
  const problems: string[] = [];
  if (!(Number.isFinite(input.revenueGoal) && input.revenueGoal > 0)) problems.push('revenueGoal: must be a positive number');
  if (!(Number.isInteger(input.months) && input.months >= 1)) problems.push('months: must be a whole number of months, at least 1');
  if (input.averageDealSize !== null && !(Number.isFinite(input.averageDealSize) && input.averageDealSize > 0)) problems.push('averageDealSize: must be a positive number');
  for (const [name, rate] of Object.entries(input.rates)) {
    if (rate !== null && !(rate > 0 && rate <= 1)) problems.push(`${name}: must be a share in (0, 1]`);
  }
  return problems;
}

export function backCalculatePlan(input: PlanInput, runRate: RunRate): Plan {
  const problems = checkPlanInput(input);
  if (problems.length > 0) throw new RangeError(problems.join('; '));
  const { rates, months } = input;
  const deals = input.averageDealSize === null ? null : wholeUp(input.revenueGoal / input.averageDealSize);
  const sqls = before(deals, rates.winRate);
  const sals = before(sqls, rates.salToSql);
  const mqls = before(sals, rates.mqlToSal);
  const leads = before(mqls, rates.leadToMql);
  const totals: Record<PlanStage, number | null> = { leads, mqls, sals, sqls, deals };
  const stages = planStages.map((stage): PlanStageFigures => {
    const total = totals[stage];
    const perMonth = total === null ? null : wholeUp(total / months);
    const current = runRate[stage];
    return {
      stage,
      total,
      perMonth,
      runRatePerMonth: current === null ? null : round(current, 2),
      gapPerMonth: perMonth === null || current === null ? null : round(perMonth - current, 2),
    };
  });
  const goalPerMonth = round(input.revenueGoal / months, 2);
  return {
    revenueGoal: input.revenueGoal,
    months,
    averageDealSize: input.averageDealSize,
    rates,
    mqlToSql: rates.mqlToSal === null || rates.salToSql === null ? null : round(rates.mqlToSal * rates.salToSql, 4),
    stages,
    revenue: {
      goalPerMonth,
      runRatePerMonth: runRate.revenue === null ? null : round(runRate.revenue, 2),
      gapPerMonth: runRate.revenue === null ? null : round(goalPerMonth - runRate.revenue, 2),
    },
  };
}
