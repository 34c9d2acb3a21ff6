import type { Policy } from '../policy.js';
import { dealDifferences, recordedDealOutcome, replayDeal, type DealOutcome } from './deal-replay.js';
import { outcomeDifferences, type LeadOutcome } from './lead-outcome.js';
import { recordedLeadOutcome, replayLead } from './lead-replay.js';
import { startedUnderVersion, type DealRecord, type LeadRecord } from './records.js';

/**
 * Policy backtesting: the recorded leads and deals of a window, replayed against a candidate policy and
 * summarised side by side with what the audit recorded under the policies they actually ran under.
 */

export interface SideSummary {
  leads: number;
  deals: number;
  /** Leads by the band intake scored them in. */
  mqlByBand: { cold: number; mql: number; hot: number };
  /** Speed-to-lead clocks by tier and how each ended. */
  deadlinesByTier: Array<{ tier: number; metOnTime: number; metLate: number; breachedUnmet: number; endedBeforeDue: number; open: number }>;
  escalationsByLevel: Array<{ level: number; count: number }>;
  nurtureByReason: Array<{ reason: string; count: number }>;
  /** Leads by the queue they end in; `repUnknown` of them were given to a rep by a rotation the replay cannot know. */
  loadByQueue: Array<{ queueId: string; leads: number; repUnknown: number }>;
  /** Leads by their final owner, where the owner is known. */
  loadByRep: Array<{ repId: string; leads: number }>;
  dealMilestones: Array<{ kind: string; milestones: number; breached: number }>;
}

export interface ChangedRecord {
  kind: 'lead' | 'deal';
  id: string;
  why: string[];
}

export interface SimulationResult {
  candidateVersion: string;
  asOf: string;
  recorded: SideSummary;
  simulated: SideSummary;
  /** Records whose outcome would change, the first `sample` of them (in the order of their intake or win). */
  changes: { count: number; first: ChangedRecord[] };
  /** Recorded steps the candidate's lifecycle would have refused (e.g. an acceptance after it returned the lead to marketing). */
  refusedSteps: number;
  /** The honesty check: the same records replayed under the policies they ran under, compared with the audit. */
  reproduction: { records: number; mismatches: number; first: ChangedRecord[] } | null;
  /**
   * Records left out: the version they ran under is not in the policy store, or their audit could not be
   * replayed (`failures`, the first few with why: an audit that does not start with its intake, say).
   */
  skipped: { leads: number; deals: number; unknownVersions: string[]; failures: string[] };
}

export interface SimulationInput {
  leads: readonly LeadRecord[];
  deals: readonly DealRecord[];
  candidate: Policy;
  /** Resolves a recorded version; undefined when the store does not hold it. */
  policyOf: (version: string) => Policy | undefined;
  asOf: string;
  /** How many changed records to list. */
  sample: number;
  /** Replays under the recorded policies too and counts the mismatches with the audit. */
  verify?: boolean;
  onProgress?: (done: number, total: number) => void;
}

class SummaryBuilder {
  private readonly bands = { cold: 0, mql: 0, hot: 0 };
  private readonly deadlines = new Map<number, SideSummary['deadlinesByTier'][number]>();
  private readonly escalations = new Map<number, number>();
  private readonly nurture = new Map<string, number>();
  private readonly queues = new Map<string, { leads: number; repUnknown: number }>();
  private readonly reps = new Map<string, number>();
  private readonly milestones = new Map<string, { milestones: number; breached: number }>();
  private leads = 0;
  private deals = 0;

  addLead(outcome: LeadOutcome): void {
    this.leads += 1;
    this.bands[outcome.intakeBand] += 1;
    let row = this.deadlines.get(outcome.tier);
    if (!row) this.deadlines.set(outcome.tier, (row = { tier: outcome.tier, metOnTime: 0, metLate: 0, breachedUnmet: 0, endedBeforeDue: 0, open: 0 }));
    for (const clock of outcome.clocks) {
      const key = ({ 'met-on-time': 'metOnTime', 'met-late': 'metLate', 'breached-unmet': 'breachedUnmet', 'ended-before-due': 'endedBeforeDue', open: 'open' } as const)[clock];
      row[key] += 1;
    }
    for (const level of outcome.escalations) this.escalations.set(level, (this.escalations.get(level) ?? 0) + 1);
    for (const reason of outcome.nurtureReasons) this.nurture.set(reason, (this.nurture.get(reason) ?? 0) + 1);
    if (outcome.queueId !== null) {
      const queue = this.queues.get(outcome.queueId) ?? { leads: 0, repUnknown: 0 };
      queue.leads += 1;
      if (!outcome.ownerKnown) queue.repUnknown += 1;
      this.queues.set(outcome.queueId, queue);
    }
    if (outcome.ownerKnown && outcome.ownerId !== null) this.reps.set(outcome.ownerId, (this.reps.get(outcome.ownerId) ?? 0) + 1);
  }

  addDeal(outcome: DealOutcome): void {
    this.deals += 1;
    for (const milestone of outcome.milestones) {
      if (milestone.dueAt === null) continue;
      const row = this.milestones.get(milestone.kind) ?? { milestones: 0, breached: 0 };
      row.milestones += 1;
      if (milestone.breached) row.breached += 1;
      this.milestones.set(milestone.kind, row);
    }
  }

  build(): SideSummary {
    const byKey = <K extends string | number>(a: [K, unknown], b: [K, unknown]) => String(a[0]).localeCompare(String(b[0]), 'en', { numeric: true });
    return {
      leads: this.leads,
      deals: this.deals,
      mqlByBand: { ...this.bands },
      deadlinesByTier: [1, 2, 3].map((tier) => this.deadlines.get(tier) ?? { tier, metOnTime: 0, metLate: 0, breachedUnmet: 0, endedBeforeDue: 0, open: 0 }),
      escalationsByLevel: [...this.escalations].sort(byKey).map(([level, count]) => ({ level, count })),
      nurtureByReason: [...this.nurture].sort(byKey).map(([reason, count]) => ({ reason, count })),
      loadByQueue: [...this.queues].sort(byKey).map(([queueId, load]) => ({ queueId, ...load })),
      loadByRep: [...this.reps].sort(byKey).map(([repId, leads]) => ({ repId, leads })),
      dealMilestones: [...this.milestones].sort(byKey).map(([kind, row]) => ({ kind, ...row })),
    };
  }
}

export function simulatePolicy(input: SimulationInput): SimulationResult {
  const recorded = new SummaryBuilder();
  const simulated = new SummaryBuilder();
  const changed: ChangedRecord[] = [];
  let changes = 0;
  let refusedSteps = 0;
  const verify = input.verify ?? true;
  const mismatches: ChangedRecord[] = [];
  let mismatchCount = 0;
  let verified = 0;
  const unknown = new Set<string>();
  const skipped = { leads: 0, deals: 0 };
  const failures: string[] = [];
  /** One record's replay; an audit it cannot read skips that record, never the whole simulation. */
  const attempt = <T>(kind: 'leads' | 'deals', id: string, replay: () => T): T | null => {
    try {
      return replay();
    } catch (error) {
      skipped[kind] += 1;
      if (failures.length < 20) failures.push(`${kind === 'leads' ? 'lead' : 'deal'} ${id}: ${(error as Error).message}`);
      return null;
    }
  };
  const total = input.leads.length + input.deals.length;
  let done = 0;
  const progress = () => {
    done += 1;
    if (input.onProgress && (done % 500 === 0 || done === total)) input.onProgress(done, total);
  };
  const note = (list: ChangedRecord[], entry: ChangedRecord) => {
    if (list.length < input.sample) list.push(entry);
  };

  for (const lead of input.leads) {
    const version = startedUnderVersion(lead);
    const recordedPolicy = input.policyOf(version);
    if (!recordedPolicy) {
      unknown.add(version);
      skipped.leads += 1;
      progress();
      continue;
    }
    const replayed = attempt('leads', lead.leadId, () => ({
      truth: recordedLeadOutcome(lead),
      candidate: replayLead(lead, { policy: input.candidate, mode: 'candidate', recordedPolicy, policyOf: input.policyOf, asOf: input.asOf }),
      replay: verify ? replayLead(lead, { policy: recordedPolicy, mode: 'recorded', recordedPolicy, policyOf: input.policyOf, asOf: input.asOf }) : null,
    }));
    if (!replayed) {
      progress();
      continue;
    }
    const { truth, candidate, replay } = replayed;
    recorded.addLead(truth);
    simulated.addLead(candidate.outcome);
    refusedSteps += candidate.refused.length;
    const why = [...outcomeDifferences(truth, candidate.outcome), ...candidate.refused.map((step) => `${step.step} at ${step.at} would be refused: ${step.why}`)];
    if (why.length > 0) {
      changes += 1;
      note(changed, { kind: 'lead', id: lead.leadId, why });
    }
    if (replay) {
      verified += 1;
      const off = [...outcomeDifferences(truth, replay.outcome), ...replay.refused.map((step) => `${step.step} at ${step.at} refused: ${step.why}`)];
      if (off.length > 0) {
        mismatchCount += 1;
        note(mismatches, { kind: 'lead', id: lead.leadId, why: off });
      }
    }
    progress();
  }

  for (const deal of input.deals) {
    const recordedPolicy = input.policyOf(deal.policyVersion);
    if (!recordedPolicy) {
      unknown.add(deal.policyVersion);
      skipped.deals += 1;
      progress();
      continue;
    }
    const replayed = attempt('deals', deal.dealId, () => ({
      truth: recordedDealOutcome(deal),
      candidate: replayDeal(deal, input.candidate, input.asOf),
      replay: verify ? replayDeal(deal, recordedPolicy, input.asOf) : null,
    }));
    if (!replayed) {
      progress();
      continue;
    }
    const { truth, candidate, replay } = replayed;
    recorded.addDeal(truth);
    simulated.addDeal(candidate);
    const why = dealDifferences(truth, candidate);
    if (why.length > 0) {
      changes += 1;
      note(changed, { kind: 'deal', id: deal.dealId, why });
    }
    if (replay) {
      verified += 1;
      const off = dealDifferences(truth, replay);
      if (off.length > 0) {
        mismatchCount += 1;
        note(mismatches, { kind: 'deal', id: deal.dealId, why: off });
      }
    }
    progress();
  }

  return {
    candidateVersion: input.candidate.version,
    asOf: input.asOf,
    recorded: recorded.build(),
    simulated: simulated.build(),
    changes: { count: changes, first: changed },
    refusedSteps,
    reproduction: verify ? { records: verified, mismatches: mismatchCount, first: mismatches } : null,
    skipped: { ...skipped, unknownVersions: [...unknown].sort(), failures },
  };
}
