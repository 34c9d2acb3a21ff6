import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Policy } from '../../domain/policy.js';
import { replayLead } from '../../domain/simulation/lead-replay.js';
import type { DealRecord, LeadRecord, RecordedEvent } from '../../domain/simulation/records.js';
import { simulatePolicy } from '../../domain/simulation/simulate.js';
import { alwaysOpenPolicy } from '../support/policies.js';

/**
 * The simulator on hand-built records over the always-open calendar (business time = wall time), so every
 * instant below can be checked by hand. Default ladder: remind at the deadline, alert 15 min later, reassign
 * 30 min after that (the new owner gets the full allowance again), return to marketing when that one passes.
 */

const T0 = Date.parse('2027-03-01T08:00:00.000Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const at = (offset: number) => new Date(T0 + offset).toISOString();

const recorded = alwaysOpenPolicy('recorded');
const policies = new Map<string, Policy>([[recorded.version, recorded]]);
const policyOf = (version: string) => policies.get(version);

function variant(version: string, change: (policy: Policy) => void): Policy {
  const policy = structuredClone(recorded);
  policy.version = version;
  change(policy);
  return policy;
}

function lead(leadId: string, score: Record<string, number>, steps: Array<[number, string, Record<string, unknown>, string?]>): LeadRecord {
  const profile = { leadId, email: `${leadId}@example.com`, company: `Company ${leadId}`, icpTier: 2 };
  const total = score.fit! + score.behavior! + score.intent! - score.negative!;
  const band = total >= 70 ? 'hot' : total >= 40 ? 'mql' : 'cold';
  const events: RecordedEvent[] = [{ seq: 1, type: 'received', at: at(0), actor: 'marketing-bot', payload: { stage: band === 'cold' ? 'LEAD' : 'MQL', score: { ...score, total, band }, profile } }];
  for (const [offset, type, payload, actor] of steps) events.push({ seq: events.length + 1, type, at: at(offset), actor: actor ?? 'rep-a', payload });
  return { leadId, policyVersion: recorded.version, events };
}

const mql = { fit: 30, behavior: 10, intent: 5, negative: 0 };
const cold = { fit: 10, behavior: 5, intent: 0, negative: 0 };

/** Tier 2 (4 h), accepted after 1 h, first contact after 3 h: met on time under the recorded rules. */
const onTimeLead = lead('L-on-time', mql, [
  [0, 'routed', { repId: 'rep-a', queueId: 'inbound', reason: 'round-robin' }, 'system'],
  [HOUR, 'accepted', { from: 'MQL', to: 'SAL' }],
  [3 * HOUR, 'contact-attempted', { number: 1, channel: 'phone', outcome: 'connected' }],
  [3 * HOUR, 'speed-to-lead-met', { by: 'first-attempt', breached: false }, 'system'],
]);

/** Cold at intake; a webinar (+10) leaves it at 25, still cold. */
const coldLead = lead('L-cold', cold, [[2 * HOUR, 'score-changed', { signal: 'webinar', from: 15, to: 25, band: 'cold' }, 'marketing-bot']]);

const deal: DealRecord = {
  dealId: 'D-1',
  policyVersion: recorded.version,
  salesOwnerId: 'rep-a',
  csOwnerId: 'cs-1',
  closedWonAt: at(0),
  milestones: [
    // Delivered 40 h after the win: inside 48 h.
    { milestone: 'dossier', kind: 'dossier', startedAt: at(0), dueAt: at(48 * HOUR), doneAt: at(40 * HOUR), reportedAt: at(40 * HOUR), breached: false },
    // Held on day 4 of 5 but reported on day 6, after the due timer fired: breached.
    { milestone: 'kickoff', kind: 'kickoff', startedAt: at(0), dueAt: at(120 * HOUR), doneAt: at(96 * HOUR), reportedAt: at(144 * HOUR), breached: true },
  ],
};

describe('policy simulation', () => {
  test('under the policy it ran under, a lead replays to its recorded outcome', () => {
    const result = simulatePolicy({ leads: [onTimeLead, coldLead], deals: [deal], candidate: recorded, policyOf, asOf: at(30 * 24 * HOUR), sample: 10 });
    assert.deepEqual(result.reproduction, { records: 3, mismatches: 0, first: [] });
    assert.deepEqual(result.changes, { count: 0, first: [] });
    assert.deepEqual(result.simulated, result.recorded);
    assert.deepEqual(result.recorded.deadlinesByTier[1], { tier: 2, metOnTime: 1, metLate: 0, breachedUnmet: 0, endedBeforeDue: 0, open: 0 });
    assert.deepEqual(result.recorded.loadByRep, [{ repId: 'rep-a', leads: 1 }]);
  });

  test('a tighter deadline runs the whole ladder on the recorded step times, and the late contact is refused', () => {
    const tight = variant('tight', (policy) => (policy.speedToLead.tier2 = { amount: 1, unit: 'hours', clock: 'business' }));
    const replay = replayLead(onTimeLead, { policy: tight, mode: 'candidate', recordedPolicy: recorded, policyOf, asOf: at(30 * 24 * HOUR) });
    // Due at 1 h (the acceptance's instant: the deadline fires first), reminded at once, alert at 1:15, reassigned at
    // 1:45 with a fresh hour, breached again at 2:45 and returned to marketing; the 3 h contact comes too late.
    assert.deepEqual(replay.outcome.clocks, ['breached-unmet']);
    assert.deepEqual(replay.outcome.escalations, [1, 2, 3, 4]);
    assert.deepEqual(replay.outcome.nurtureReasons, ['sla-expired']);
    assert.equal(replay.outcome.finalStage, 'NURTURE');
    assert.equal(replay.outcome.ownerKnown, false, 'the escalation’s rotation pick is not something the replay can know');
    assert.deepEqual(replay.refused.map((step) => [step.step, step.at]), [['contact-attempt', at(3 * HOUR)]]);

    const result = simulatePolicy({ leads: [onTimeLead], deals: [], candidate: tight, policyOf, asOf: at(30 * 24 * HOUR), sample: 10 });
    assert.equal(result.changes.count, 1);
    const why = result.changes.first[0]!.why;
    assert.ok(why.includes('Tier 2 speed-to-lead: met-on-time → breached-unmet'), why.join('; '));
    assert.ok(why.includes('escalation levels fired: none → 1, 2, 3, 4'), why.join('; '));
    assert.ok(why.includes('returns to nurture: none → sla-expired'), why.join('; '));
    assert.ok(why.some((line) => /contact-attempt at .* would be refused: cannot log a contact attempt on a lead in stage NURTURE/.test(line)), why.join('; '));
    assert.deepEqual(result.simulated.escalationsByLevel, [1, 2, 3, 4].map((level) => ({ level, count: 1 })));
    assert.equal(result.refusedSteps, 1);
  });

  test('routing to another queue keeps the queue known and the rep unknown', () => {
    const specialists = variant('specialists', (policy) => (policy.routing.rules = [{ queueId: 'specialists', tiers: [2] }]));
    const result = simulatePolicy({ leads: [onTimeLead], deals: [], candidate: specialists, policyOf, asOf: at(30 * 24 * HOUR), sample: 10 });
    assert.deepEqual(result.recorded.loadByQueue, [{ queueId: 'inbound', leads: 1, repUnknown: 0 }]);
    assert.deepEqual(result.simulated.loadByQueue, [{ queueId: 'specialists', leads: 1, repUnknown: 1 }]);
    assert.deepEqual(result.simulated.loadByRep, []);
    assert.deepEqual(result.changes.first[0]!.why, ['queue inbound → specialists']);
  });

  test('engagement keeps its recorded points and takes the candidate’s points for its signal', () => {
    const richerWebinar = variant('webinar-30', (policy) => (policy.scoring.signals.webinar = { behavior: 30 }));
    const replay = replayLead(coldLead, { policy: richerWebinar, mode: 'candidate', recordedPolicy: recorded, policyOf, asOf: at(HOUR * 3) });
    // 15 + 30 = 45 crosses the MQL threshold of 40: the lead becomes an MQL at 2 h and its 4 h clock is still running.
    assert.equal(replay.outcome.finalStage, 'MQL');
    assert.deepEqual(replay.outcome.clocks, ['open']);
    const unknownSignal = variant('no-webinar', (policy) => delete policy.scoring.signals.webinar);
    const refused = replayLead(coldLead, { policy: unknownSignal, mode: 'candidate', recordedPolicy: recorded, policyOf, asOf: at(HOUR * 3) });
    assert.match(refused.refused[0]!.why, /knows no signal "webinar"/);
  });

  test('deal milestones: a shorter dossier allowance breaches; a meeting reported after its due time stays breached; an open one breaches when due', () => {
    const faster = variant('faster-dossier', (policy) => (policy.deal!.dossierDue = { amount: 24, unit: 'hours', clock: 'wall' }));
    const open: DealRecord = { ...deal, dealId: 'D-2', milestones: [{ ...deal.milestones[0]!, doneAt: null, reportedAt: null }] };
    const result = simulatePolicy({ leads: [], deals: [deal, open], candidate: faster, policyOf, asOf: at(30 * HOUR), sample: 10 });
    assert.equal(result.reproduction!.mismatches, 0, 'under 48 h, the open dossier is not due yet at 30 h');
    assert.deepEqual(result.recorded.dealMilestones, [
      { kind: 'dossier', milestones: 2, breached: 0 },
      { kind: 'kickoff', milestones: 1, breached: 1 },
    ]);
    assert.deepEqual(result.simulated.dealMilestones, [
      { kind: 'dossier', milestones: 2, breached: 2 },
      { kind: 'kickoff', milestones: 1, breached: 1 },
    ]);
    assert.deepEqual(result.changes.first.map((change) => change.id), ['D-1', 'D-2']);
    assert.match(result.changes.first[0]!.why[0]!, /^dossier: on time → breached \(due 2027-03-02T08:00:00.000Z\)$/);
  });

  test('a record whose version the store does not hold is skipped and named', () => {
    const orphan = { ...onTimeLead, policyVersion: 'gone' };
    const result = simulatePolicy({ leads: [orphan], deals: [], candidate: recorded, policyOf, asOf: at(HOUR), sample: 10 });
    assert.deepEqual(result.skipped, { leads: 1, deals: 0, unknownVersions: ['gone'], failures: [] });
    assert.equal(result.recorded.leads, 0);
  });

  test('an audit that cannot be replayed skips its record, named with why, and the rest is simulated', () => {
    const headless = { ...onTimeLead, leadId: 'L-headless', events: onTimeLead.events.slice(1) };
    const result = simulatePolicy({ leads: [headless, onTimeLead], deals: [], candidate: recorded, policyOf, asOf: at(HOUR), sample: 10 });
    assert.deepEqual(result.skipped.failures, ['lead L-headless: the audit does not start with its intake']);
    assert.equal(result.skipped.leads, 1);
    assert.equal(result.recorded.leads, 1);
  });
});
