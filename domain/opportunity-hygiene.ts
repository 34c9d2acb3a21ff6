import type { Policy } from './policy.js';

/**
 * Pipeline hygiene of a qualified lead's opportunity (seed 000): its stage and value updated at least weekly, and
 * never an opportunity without a next step (a date and an activity type). Pure: the lead workflow checks with it
 * on its weekly clock, and the tests share it.
 */

export const nextStepTypes = ['call', 'email', 'meeting', 'demo', 'proposal', 'other'] as const;
export type NextStepType = (typeof nextStepTypes)[number];

export interface NextStep {
  dueAt: string;
  type: NextStepType;
  setAt: string;
  actor: string;
}

export interface Opportunity {
  /** The sales stage the owner reports (the CRM's own names), null until first reported. */
  stage: string | null;
  amount: number | null;
  /** When the stage or value was last reported; the qualification itself counts as the first. */
  updatedAt: string;
  nextStep: NextStep | null;
}

export type HygieneProblem = 'stale' | 'no-next-step' | 'next-step-overdue';

export type HygienePolicy = NonNullable<Policy['hygiene']>;

export function openOpportunity(at: Date): Opportunity {
  return { stage: null, amount: null, updatedAt: at.toISOString(), nextStep: null };
}

/** What is wrong with the opportunity at `now`: stale once its last update is `staleAfterMs` old, a next step missing or past due. */
export function hygieneProblems(opportunity: Opportunity, staleAfterMs: number, now: Date): HygieneProblem[] {
  const problems: HygieneProblem[] = [];
  if (now.getTime() - Date.parse(opportunity.updatedAt) >= staleAfterMs) problems.push('stale');
  if (!opportunity.nextStep) problems.push('no-next-step');
  else if (Date.parse(opportunity.nextStep.dueAt) < now.getTime()) problems.push('next-step-overdue');
  return problems;
}

/** A failing check reminds the owner until `remindersBeforeEscalation` reminders have gone unheeded; then the manager hears. */
export function hygieneAction(remindersSoFar: number, policy: Pick<HygienePolicy, 'remindersBeforeEscalation'>): 'remind-owner' | 'alert-manager' {
  return remindersSoFar < policy.remindersBeforeEscalation ? 'remind-owner' : 'alert-manager';
}

const problemText: Record<HygieneProblem, string> = {
  stale: 'stage and value not updated this week',
  'no-next-step': 'no next step',
  'next-step-overdue': 'the next step is overdue',
};

export function describeProblems(problems: readonly HygieneProblem[]): string {
  return problems.map((problem) => problemText[problem]).join('; ');
}
