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
