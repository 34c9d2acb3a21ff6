import type { IcpTier } from '../policy.js';
import type { LeadStage } from '../lead-lifecycle.js';

/**
 * What a lead's lifecycle came to, read from a list of audit-shaped events. The same function reads the
 * events the audit recorded and the events the simulator produced, so "the simulation reproduces the
 * record" is a comparison of two values built one way.
 */

export interface OutcomeEvent {
  type: string;
  at: string;
  payload: Record<string, unknown>;
}

/**
 * How one speed-to-lead clock ended: met in time, met after its deadline, breached and never met (the lead went
 * back to nurture or is still waiting), ended before its deadline without being met (rejected, cold score), or
 * still running inside its allowance.
 */
export type ClockOutcome = 'met-on-time' | 'met-late' | 'breached-unmet' | 'ended-before-due' | 'open';

export interface Assignment {
  queueId: string | null;
  /** null when the simulation cannot know the rep: the queue's rotation picks them (see README). */
  repId: string | null;
}

export interface LeadOutcome {
  leadId: string;
  tier: IcpTier;
  /** The band intake scored the lead in. */
  intakeBand: 'cold' | 'mql' | 'hot';
  clocks: ClockOutcome[];
  /** The level of each escalation that fired, in order. */
  escalations: number[];
  nurtureReasons: string[];
  /** Each owner the lead was given (routing, reassignment), in order. */
  assignments: Assignment[];
  finalStage: LeadStage;
  ownerId: string | null;
  /** False when the final owner came from a rotation the simulation cannot replay. */
  ownerKnown: boolean;
  queueId: string | null;
}

function stageAfter(event: OutcomeEvent, stage: LeadStage): LeadStage {
  switch (event.type) {
    case 'received':
      return event.payload.stage as LeadStage;
    case 'stage-changed':
      return event.payload.to as LeadStage;
    case 'accepted':
      return 'SAL';
    case 'qualified':
      return 'SQL';
    case 'returned-to-nurture':
      return 'NURTURE';
    case 'closed':
      return event.payload.to as LeadStage;
    default:
      return stage;
  }
}

export function leadOutcome(leadId: string, tier: IcpTier, events: readonly OutcomeEvent[]): LeadOutcome {
  const outcome: LeadOutcome = {
    leadId,
    tier,
    intakeBand: 'cold',
    clocks: [],
    escalations: [],
    nurtureReasons: [],
    assignments: [],
    finalStage: 'LEAD',
    ownerId: null,
    ownerKnown: true,
    queueId: null,
  };
  // The running speed-to-lead clock: open from MQL until met or until the lead leaves MQL/SAL.
  let clock: { breached: boolean } | null = null;
  const endClock = (ending: ClockOutcome) => {
    outcome.clocks.push(ending);
    clock = null;
  };
  const assign = (queueId: string | null, repId: string | null) => {
    outcome.queueId = queueId;
    outcome.ownerId = repId;
    outcome.ownerKnown = repId !== null;
    outcome.assignments.push({ queueId, repId });
  };
  for (const event of events) {
    const { payload } = event;
    switch (event.type) {
      case 'received':
        // Intakes audited before the band was part of the score have only the stage to go by.
        outcome.intakeBand = (payload.score as { band?: LeadOutcome['intakeBand'] } | undefined)?.band ?? (payload.stage === 'MQL' ? 'mql' : 'cold');
        if (payload.stage === 'MQL') clock = { breached: false };
        break;
      case 'stage-changed':
        if (payload.to === 'MQL') clock = { breached: false };
        break;
      case 'sla-breached':
        if (clock) clock.breached = true;
        break;
      case 'speed-to-lead-met':
        endClock(payload.breached === true ? 'met-late' : 'met-on-time');
        break;
      case 'escalated':
        outcome.escalations.push(Number(payload.level));
        if (payload.action === 'reassign' && typeof payload.failed !== 'string') assign(outcome.queueId, (payload.to as string | null) ?? null);
        break;
      case 'routed':
        assign((payload.queueId as string | null) ?? null, (payload.repId as string | null) ?? null);
        break;
      case 'reassigned':
        assign((payload.queueId as string | undefined) ?? outcome.queueId, (payload.to as string | null) ?? null);
        break;
      case 'returned-to-nurture':
        outcome.nurtureReasons.push(String(payload.reason));
        if (clock) endClock((clock as { breached: boolean }).breached ? 'breached-unmet' : 'ended-before-due');
        break;
      case 'closed':
        if (clock) endClock((clock as { breached: boolean }).breached ? 'breached-unmet' : 'ended-before-due');
        break;
    }
    outcome.finalStage = stageAfter(event, outcome.finalStage);
  }
  if (clock) endClock((clock as { breached: boolean }).breached ? 'breached-unmet' : 'open');
  return outcome;
}

const listed = (values: readonly unknown[]) => (values.length === 0 ? 'none' : values.join(', '));

/**
 * Why two outcomes of one lead differ, one line per difference; empty when they agree. Owners are compared only
 * where both sides know them: a rotation the simulation cannot replay is no change.
 */
export function outcomeDifferences(recorded: LeadOutcome, simulated: LeadOutcome): string[] {
  const why: string[] = [];
  if (recorded.intakeBand !== simulated.intakeBand) why.push(`intake band ${recorded.intakeBand} → ${simulated.intakeBand}`);
  if (listed(recorded.clocks) !== listed(simulated.clocks)) why.push(`Tier ${recorded.tier} speed-to-lead: ${listed(recorded.clocks)} → ${listed(simulated.clocks)}`);
  if (listed(recorded.escalations) !== listed(simulated.escalations)) why.push(`escalation levels fired: ${listed(recorded.escalations)} → ${listed(simulated.escalations)}`);
  if (listed(recorded.nurtureReasons) !== listed(simulated.nurtureReasons)) why.push(`returns to nurture: ${listed(recorded.nurtureReasons)} → ${listed(simulated.nurtureReasons)}`);
  if (recorded.finalStage !== simulated.finalStage) why.push(`stage now ${recorded.finalStage} → ${simulated.finalStage}`);
  if (recorded.queueId !== simulated.queueId) why.push(`queue ${recorded.queueId ?? 'none'} → ${simulated.queueId ?? 'none'}`);
  else if (recorded.ownerKnown && simulated.ownerKnown && recorded.ownerId !== simulated.ownerId) why.push(`owner ${recorded.ownerId ?? 'none'} → ${simulated.ownerId ?? 'none'}`);
  return why;
}
