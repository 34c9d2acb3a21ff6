import { dossierMilestone, incidentMilestone, kickoffMilestone, qbrMilestone, type MilestoneClock } from '../deal-clocks.js';
import type { IncidentSeverity } from '../deal-lifecycle.js';
import type { Policy } from '../policy.js';
import type { DealRecord, MilestoneRecordRow } from './records.js';

/**
 * A deal's recorded handoff milestones replayed against a policy: each milestone keeps its recorded start
 * (win, signature, previous QBR, incident opened) and completion, and its due time comes from the policy's
 * allowance through the same builders the deal workflow uses (deal-clocks.ts).
 */

export interface MilestoneOutcome {
  milestone: string;
  kind: string;
  /** Null when the policy gives this milestone no clock (no deal section, or no allowance for the incident's severity). */
  dueAt: string | null;
  breached: boolean;
}

export interface DealOutcome {
  dealId: string;
  milestones: MilestoneOutcome[];
}

function clockFor(policy: Policy, row: MilestoneRecordRow): MilestoneClock | null {
  const rules = policy.deal;
  if (!rules) return null;
  const calendar = policy.calendars[policy.defaultCalendarId]!;
  const startedAt = new Date(row.startedAt);
  if (row.kind === 'dossier') return dossierMilestone(rules, calendar, startedAt);
  if (row.kind === 'kickoff') return kickoffMilestone(rules, calendar, startedAt);
  if (row.kind === 'qbr') return qbrMilestone(rules, calendar, Number(row.milestone.replace('qbr-', '')), startedAt);
  if (row.kind.startsWith('incident-')) {
    const severity = row.kind.slice('incident-'.length) as IncidentSeverity;
    return incidentMilestone(rules, calendar, { incidentId: row.milestone, severity, openedAt: startedAt });
  }
  return null;
}

/**
 * Breached as the deal workflow decides it: the due timer fired before the completion was reported (or it is
 * still open past its due time at `asOf`), or the work was done after its due time (a meeting reported late).
 */
export function replayDeal(record: DealRecord, policy: Policy, asOf: string): DealOutcome {
  return {
    dealId: record.dealId,
    milestones: record.milestones.map((row) => {
      const clock = clockFor(policy, row);
      if (!clock) return { milestone: row.milestone, kind: row.kind, dueAt: null, breached: false };
      const due = clock.due.at;
      const breached = row.doneAt === null ? due <= asOf : due < (row.reportedAt ?? row.doneAt) || row.doneAt > due;
      return { milestone: row.milestone, kind: row.kind, dueAt: due, breached };
    }),
  };
}

export function recordedDealOutcome(record: DealRecord): DealOutcome {
  return {
    dealId: record.dealId,
    milestones: record.milestones.map((row) => ({ milestone: row.milestone, kind: row.kind, dueAt: row.dueAt, breached: row.breached })),
  };
}

export function dealDifferences(recorded: DealOutcome, simulated: DealOutcome): string[] {
  const simulatedBy = new Map(simulated.milestones.map((m) => [m.milestone, m]));
  const why: string[] = [];
  for (const milestone of recorded.milestones) {
    const other = simulatedBy.get(milestone.milestone);
    if (!other || other.breached === milestone.breached) continue;
    why.push(`${milestone.milestone}: ${milestone.breached ? 'breached' : 'on time'} → ${other.breached ? 'breached' : 'on time'}${other.dueAt ? ` (due ${other.dueAt})` : ''}`);
  }
  return why;
}
