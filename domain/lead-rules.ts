import type { CadenceRules, Duration, IcpTier, Policy, SegmentRules } from './policy.js';

/**
 * Which of the policy's rules apply to one lead: its segment's thresholds, deadlines and cadence, and its queue's
 * own SLA and team calendar, each falling back to the policy's own. Snapshots from before segments and queue
 * rules existed have neither section and get the policy's rules unchanged.
 */

export interface LeadRuleSubject {
  tier: IcpTier;
  hot: boolean;
  segment?: string;
  /** The queue the lead was routed through; absent before routing. */
  queueId?: string | null;
}

export function segmentRules(policy: Policy, segment: string | undefined): SegmentRules | undefined {
  if (segment === undefined) return undefined;
  const segments = policy.segments as Policy['segments'] | undefined;
  return segments?.[segment.toLowerCase()];
}

/** The scoring a lead of `segment` is banded by: the segment's MQL and hot thresholds over the policy's. */
export function scoringFor(policy: Policy, segment: string | undefined): Policy['scoring'] {
  const rules = segmentRules(policy, segment);
  if (!rules) return policy.scoring;
  return {
    ...policy.scoring,
    mqlThreshold: rules.mqlThreshold ?? policy.scoring.mqlThreshold,
    hotThreshold: rules.hotThreshold ?? policy.scoring.hotThreshold,
  };
}

export function cadenceFor(policy: Policy, segment: string | undefined): CadenceRules {
  return segmentRules(policy, segment)?.cadence ?? policy.cadence;
}

function queueRules(policy: Policy, queueId: string | null | undefined): Policy['queues'][string] | undefined {
  if (!queueId) return undefined;
  const queues = policy.queues as Policy['queues'] | undefined;
  return queues?.[queueId];
}

/**
 * The time a lead has to be answered. Hot leads take the hot allowance wherever one is set; otherwise the tier's.
 * The most specific source wins: the lead's queue (seed 003, each queue its own SLA), then its segment, then the policy.
 */
export function speedToLeadAllowance(policy: Policy, lead: LeadRuleSubject): Duration {
  const sources = [queueRules(policy, lead.queueId)?.speedToLead, segmentRules(policy, lead.segment)?.speedToLead, policy.speedToLead];
  if (lead.hot) {
    const hot = sources.map((source) => source?.hot).find((allowance) => allowance !== undefined);
    if (hot) return hot;
  }
  const key = `tier${lead.tier}` as const;
  return sources.map((source) => source?.[key]).find((allowance) => allowance !== undefined)!;
}

/** The calendar a lead's clocks count on: that of the team (queue) its owner works in, else the policy's default. */
export function ownerCalendarId(policy: Policy, queueId: string | null | undefined): string {
  const calendarId = queueRules(policy, queueId)?.calendarId;
  return calendarId && policy.calendars[calendarId] ? calendarId : policy.defaultCalendarId;
}

/** Whether the queue has rules of its own (an SLA or a calendar): moving a lead into or out of it changes its deadlines. */
export function hasQueueRules(policy: Policy, queueId: string | null | undefined): boolean {
  return queueRules(policy, queueId) !== undefined;
}
