import type { Policy } from './policy.js';

export interface ScoreComponents {
  fit: number;
  behavior: number;
  intent: number;
  /** Disqualifying signals (students, competitors, spam) subtract from the total. */
  negative: number;
}

export type ScoreBand = 'cold' | 'mql' | 'hot';

export function totalScore(score: ScoreComponents): number {
  return score.fit + score.behavior + score.intent - score.negative;
}

export function scoreBand(scoring: Policy['scoring'], score: ScoreComponents): ScoreBand {
  const total = totalScore(score);
  if (total >= scoring.hotThreshold) return 'hot';
  if (total >= scoring.mqlThreshold) return 'mql';
  return 'cold';
}

export interface BandedScore {
  total: number;
  band: ScoreBand;
}

/**
 * Whether engagement that moved a nurtured lead's score from `before` to `after` brings it back to MQL under the
 * policy's rule (a snapshot from before the rule existed has none: it behaves as `positive-engagement`).
 */
export function returnsFromNurture(rule: Policy['scoring']['nurtureReturn'] | undefined, before: BandedScore, after: BandedScore): boolean {
  if (after.band === 'cold') return false;
  const crossed = before.band === 'cold';
  if (rule === 'score-crosses-threshold') return crossed;
  return crossed || after.total > before.total;
}
