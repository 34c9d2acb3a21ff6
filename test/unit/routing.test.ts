import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  chooseOwner,
  chooseQueue,
  isAvailable,
  NoAvailableRepError,
  type OwnerChoice,
  type RoutingLead,
  type RoutingQueue,
  type RoutingRep,
  type RoutingRule,
} from '../../domain/routing.js';

const NOW = new Date('2024-05-06T10:00:00Z');

function rep(id: string, overrides: Partial<RoutingRep> = {}): RoutingRep {
  return { id, seniority: 'junior', active: true, outOfOffice: [], openLeads: 0, ...overrides };
}

function queue(members: RoutingRep[], overrides: Partial<RoutingQueue> = {}): RoutingQueue {
  return { id: 'q-inbound', strategy: 'round-robin', members, lastAssignedRepId: null, ...overrides };
}

function lead(overrides: Partial<RoutingLead> = {}): RoutingLead {
  return { tier: 2, hot: false, company: 'Acme', ...overrides };
}

function pick(q: RoutingQueue, overrides: { lead?: RoutingLead; at?: Date; accountOwner?: RoutingRep | null; exclude?: string[] } = {}): OwnerChoice {
  return chooseOwner({ queue: q, lead: overrides.lead ?? lead(), at: overrides.at ?? NOW, accountOwner: overrides.accountOwner ?? null, exclude: overrides.exclude });
}

/** Routes `count` leads one after another, persisting the rotation state and the new load like the caller would. */
function routeSequence(initial: RoutingQueue, count: number, leadFor: (index: number) => RoutingLead = () => lead()): string[] {
  let current: RoutingQueue = { ...initial, members: initial.members.map((member) => ({ ...member })) };
  const assignees: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const choice = pick(current, { lead: leadFor(index) });
    assignees.push(choice.repId);
    current = {
      ...current,
      lastAssignedRepId: choice.repId,
      members: current.members.map((member) => (member.id === choice.repId ? { ...member, openLeads: member.openLeads + 1 } : member)),
    };
  }
  return assignees;
}

function countBy(ids: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const id of ids) counts[id] = (counts[id] ?? 0) + 1;
  return counts;
}

function consecutiveRepeats(ids: string[]): number {
  return ids.filter((id, index) => index > 0 && ids[index - 1] === id).length;
}

describe('chooseQueue', () => {
  const rules: RoutingRule[] = [
    { queueId: 'q-enterprise-dach', segments: ['enterprise'], countries: ['DE', 'AT', 'CH'] },
    { queueId: 'q-tier1', tiers: [1] },
    { queueId: 'q-pl', countries: ['PL'] },
    { queueId: 'q-smb', segments: ['smb'], tiers: [2, 3] },
  ];

  test('matches on tier', () => {
    assert.equal(chooseQueue(rules, 'q-default', lead({ tier: 1, country: 'US' })), 'q-tier1');
    assert.equal(chooseQueue(rules, 'q-default', lead({ tier: 2, country: 'US' })), 'q-default');
  });

  test('matches on segment, requiring every present criterion', () => {
    assert.equal(chooseQueue(rules, 'q-default', lead({ tier: 3, segment: 'smb', country: 'US' })), 'q-smb');
    // The smb rule also restricts tiers, so a Tier 1 smb lead cannot land there.
    assert.equal(chooseQueue([rules[3]!], 'q-default', lead({ tier: 1, segment: 'smb' })), 'q-default');
  });

  test('matches on country, ignoring letter case', () => {
    assert.equal(chooseQueue(rules, 'q-default', lead({ country: 'PL' })), 'q-pl');
    assert.equal(chooseQueue(rules, 'q-default', lead({ country: 'pl' })), 'q-pl');
    assert.equal(chooseQueue(rules, 'q-default', lead({ segment: 'Enterprise', country: 'de' })), 'q-enterprise-dach');
  });

  test('a lead missing the field a rule filters on does not match that rule', () => {
    assert.equal(chooseQueue(rules, 'q-default', lead({ segment: 'enterprise' })), 'q-default');
    assert.equal(chooseQueue([{ queueId: 'q-pl', countries: ['PL'] }], 'q-default', lead()), 'q-default');
  });

  test('the first matching rule wins, even when a later one is also satisfied', () => {
    const tier1GermanEnterprise = lead({ tier: 1, segment: 'enterprise', country: 'DE' });
    assert.equal(chooseQueue(rules, 'q-default', tier1GermanEnterprise), 'q-enterprise-dach');
    assert.equal(chooseQueue([rules[1]!, rules[0]!], 'q-default', tier1GermanEnterprise), 'q-tier1');
  });

  test('a rule without criteria matches every lead; no rules means the fallback', () => {
    assert.equal(chooseQueue([{ queueId: 'q-catch-all' }], 'q-default', lead({ tier: 3 })), 'q-catch-all');
    assert.equal(chooseQueue([], 'q-default', lead({ tier: 1, country: 'PL' })), 'q-default');
  });

  test('an empty criterion list matches no lead', () => {
    assert.equal(chooseQueue([{ queueId: 'q-nobody', countries: [] }], 'q-default', lead({ country: 'PL' })), 'q-default');
  });
});

describe('isAvailable', () => {
  const vacation = { from: '2024-05-06T00:00:00Z', to: '2024-05-10T00:00:00Z' };
  const onVacation = rep('ana', { outOfOffice: [vacation] });

  test('out of office from the start instant (inclusive) until the end instant (exclusive)', () => {
    assert.equal(isAvailable(onVacation, new Date('2024-05-05T23:59:59.999Z')), true);
    assert.equal(isAvailable(onVacation, new Date('2024-05-06T00:00:00Z')), false);
    assert.equal(isAvailable(onVacation, new Date('2024-05-09T23:59:59.999Z')), false);
    assert.equal(isAvailable(onVacation, new Date('2024-05-10T00:00:00Z')), true);
  });

  test('any of several periods makes the rep unavailable; offsets are honoured', () => {
    const twoTrips = rep('ana', {
      outOfOffice: [
        { from: '2024-01-01T00:00:00Z', to: '2024-01-02T00:00:00Z' },
        { from: '2024-05-06T09:00:00+02:00', to: '2024-05-06T13:00:00+02:00' },
      ],
    });
    assert.equal(isAvailable(twoTrips, new Date('2024-05-06T06:59:00Z')), true);
    assert.equal(isAvailable(twoTrips, new Date('2024-05-06T07:00:00Z')), false);
    assert.equal(isAvailable(twoTrips, new Date('2024-05-06T11:00:00Z')), true);
  });

  test('an inactive rep is never available', () => {
    assert.equal(isAvailable(rep('ana', { active: false }), NOW), false);
    assert.equal(isAvailable(rep('ana'), NOW), true);
  });

  test('rejects absence instants without an offset, and invalid dates', () => {
    assert.throws(() => isAvailable(rep('ana', { outOfOffice: [{ from: '2024-05-06T00:00:00', to: '2024-05-07T00:00:00Z' }] }), NOW), RangeError);
    assert.throws(() => isAvailable(rep('ana', { outOfOffice: [{ from: 'next monday', to: '2024-05-07T00:00:00Z' }] }), NOW), RangeError);
    assert.throws(() => isAvailable(rep('ana'), new Date(Number.NaN)), RangeError);
  });
});

describe('chooseOwner: round robin with load balancing', () => {
  test('rotates in member order starting after the last assignee, wrapping around', () => {
    const members = [rep('a'), rep('b'), rep('c')];
    assert.equal(pick(queue(members, { lastAssignedRepId: null })).repId, 'a');
    assert.equal(pick(queue(members, { lastAssignedRepId: 'a' })).repId, 'b');
    assert.equal(pick(queue(members, { lastAssignedRepId: 'b' })).repId, 'c');
    assert.equal(pick(queue(members, { lastAssignedRepId: 'c' })).repId, 'a');
    // The last assignee left the queue: the rotation restarts rather than failing.
    assert.equal(pick(queue(members, { lastAssignedRepId: 'gone' })).repId, 'a');
    assert.equal(pick(queue(members)).reason, 'round-robin');
  });

  test('the rep with the fewest open leads wins over rotation order', () => {
    const members = [rep('a', { openLeads: 4 }), rep('b', { openLeads: 1 }), rep('c', { openLeads: 2 })];
    assert.equal(pick(queue(members, { lastAssignedRepId: 'b' })).repId, 'b');
    assert.equal(pick(queue(members, { lastAssignedRepId: 'a' })).repId, 'b');
  });

  test('9 leads over 3 equally loaded reps: 3 each, never the same rep twice in a row', () => {
    const assignees = routeSequence(queue([rep('a'), rep('b'), rep('c')]), 9);
    assert.deepEqual(countBy(assignees), { a: 3, b: 3, c: 3 });
    assert.equal(consecutiveRepeats(assignees), 0);
    assert.deepEqual(assignees, ['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c']);
  });

  test('an unevenly loaded queue is levelled before rotation resumes', () => {
    const members = [rep('a', { openLeads: 3 }), rep('b', { openLeads: 0 }), rep('c', { openLeads: 2 })];
    const assignees = routeSequence(queue(members, { lastAssignedRepId: 'a' }), 10);
    // b catches up to c, then b and c catch up to a; from then on all three share equally.
    assert.deepEqual(assignees.slice(0, 5), ['b', 'b', 'c', 'b', 'c']);
    assert.deepEqual(countBy(assignees), { a: 2, b: 5, c: 3 });
    // b repeats only while it is strictly below everyone else.
    assert.equal(consecutiveRepeats(assignees), 1);
  });

  test('an out-of-office rep is skipped only during the absence', () => {
    const members = [rep('a', { outOfOffice: [{ from: '2024-05-06T00:00:00Z', to: '2024-05-06T12:00:00Z' }] }), rep('b', { openLeads: 5 })];
    assert.equal(pick(queue(members), { at: new Date('2024-05-05T23:59:59Z') }).repId, 'a');
    assert.equal(pick(queue(members), { at: new Date('2024-05-06T00:00:00Z') }).repId, 'b');
    assert.equal(pick(queue(members), { at: new Date('2024-05-06T11:59:59Z') }).repId, 'b');
    assert.equal(pick(queue(members), { at: new Date('2024-05-06T12:00:00Z') }).repId, 'a');
  });

  test('an inactive rep is skipped even when least loaded', () => {
    const members = [rep('a', { active: false }), rep('b', { openLeads: 5 })];
    assert.equal(pick(queue(members)).repId, 'b');
  });

  test('excluded reps are never chosen (reassignment away from the current owner)', () => {
    const members = [rep('a'), rep('b', { openLeads: 2 }), rep('c', { openLeads: 3 })];
    assert.equal(pick(queue(members), { exclude: ['a'] }).repId, 'b');
    assert.equal(pick(queue(members), { exclude: ['a', 'b'] }).repId, 'c');
  });

  test('same inputs give the same choice', () => {
    const q = queue([rep('a', { openLeads: 1 }), rep('b', { openLeads: 1 }), rep('c', { openLeads: 2 })], { lastAssignedRepId: 'a' });
    assert.deepEqual(pick(q), pick(structuredClone(q)));
  });
});

describe('chooseOwner: account-based routing', () => {
  const members = [rep('a'), rep('b')];

  test('the account owner is preferred, even when busier and outside the queue', () => {
    const owner = rep('owner', { openLeads: 20 });
    assert.deepEqual(pick(queue(members), { accountOwner: owner }), { repId: 'owner', queueId: 'q-inbound', reason: 'account-owner' });
  });

  test('the account owner is skipped while out of office, inactive or excluded', () => {
    const away = rep('owner', { outOfOffice: [{ from: '2024-05-01T00:00:00Z', to: '2024-05-08T00:00:00Z' }] });
    assert.deepEqual(pick(queue(members), { accountOwner: away }), { repId: 'a', queueId: 'q-inbound', reason: 'round-robin' });
    assert.equal(pick(queue(members), { accountOwner: away, at: new Date('2024-05-08T00:00:00Z') }).repId, 'owner');
    assert.equal(pick(queue(members), { accountOwner: rep('owner', { active: false }) }).repId, 'a');
    assert.equal(pick(queue(members), { accountOwner: rep('owner'), exclude: ['owner'] }).repId, 'a');
  });

  test('an available account owner is chosen even when no queue member is available', () => {
    assert.equal(pick(queue([rep('a', { active: false })]), { accountOwner: rep('owner') }).repId, 'owner');
  });
});

describe('chooseOwner: tier priority', () => {
  const members = [rep('junior-1'), rep('senior-1', { seniority: 'senior', openLeads: 6 }), rep('junior-2'), rep('senior-2', { seniority: 'senior', openLeads: 4 })];
  const tierPriority = queue(members, { strategy: 'tier-priority' });

  test('Tier 1 leads go to the least loaded senior, even when juniors are lighter', () => {
    assert.deepEqual(pick(tierPriority, { lead: lead({ tier: 1 }) }), { repId: 'senior-2', queueId: 'q-inbound', reason: 'tier-priority' });
  });

  test('hot leads go to seniors whatever their tier', () => {
    assert.deepEqual(pick(tierPriority, { lead: lead({ tier: 3, hot: true }) }), { repId: 'senior-2', queueId: 'q-inbound', reason: 'tier-priority' });
  });

  test('other leads use every candidate', () => {
    assert.deepEqual(pick(tierPriority, { lead: lead({ tier: 2 }) }), { repId: 'junior-1', queueId: 'q-inbound', reason: 'round-robin' });
  });

  test('seniors rotate among themselves on equal load', () => {
    const equalSeniors = queue([rep('j'), rep('s1', { seniority: 'senior' }), rep('s2', { seniority: 'senior' })], { strategy: 'tier-priority' });
    const assignees = routeSequence(equalSeniors, 4, () => lead({ tier: 1 }));
    assert.deepEqual(assignees, ['s1', 's2', 's1', 's2']);
  });

  test('falls back to juniors when no senior is available', () => {
    const seniorsAway = queue(
      [rep('junior-1', { openLeads: 3 }), rep('senior-1', { seniority: 'senior', active: false }), rep('junior-2', { openLeads: 1 }), rep('senior-2', { seniority: 'senior' })],
      { strategy: 'tier-priority' },
    );
    assert.deepEqual(pick(seniorsAway, { lead: lead({ tier: 1 }), exclude: ['senior-2'] }), { repId: 'junior-2', queueId: 'q-inbound', reason: 'round-robin' });
  });

  test('a round-robin queue ignores seniority for Tier 1 and hot leads', () => {
    const roundRobin = queue(members, { strategy: 'round-robin' });
    assert.deepEqual(pick(roundRobin, { lead: lead({ tier: 1, hot: true }) }), { repId: 'junior-1', queueId: 'q-inbound', reason: 'round-robin' });
  });
});

describe('chooseOwner: nobody available', () => {
  test('throws NoAvailableRepError naming each member and why it is unavailable', () => {
    const members = [
      rep('a', { outOfOffice: [{ from: '2024-05-01T00:00:00Z', to: '2024-05-31T00:00:00Z' }] }),
      rep('b', { active: false }),
      rep('c'),
    ];
    assert.throws(
      () => pick(queue(members), { exclude: ['c'], accountOwner: rep('owner', { active: false }) }),
      (error: unknown) => {
        assert.ok(error instanceof NoAvailableRepError);
        assert.equal(error.name, 'NoAvailableRepError');
        assert.equal(error.queueId, 'q-inbound');
        assert.match(error.detail, /a \(out of office\)/);
        assert.match(error.detail, /b \(inactive\)/);
        assert.match(error.detail, /c \(excluded\)/);
        assert.match(error.message, /q-inbound/);
        return true;
      },
    );
  });

  test('throws NoAvailableRepError for a queue without members', () => {
    assert.throws(() => pick(queue([])), (error: unknown) => error instanceof NoAvailableRepError && /no members/.test(error.detail));
  });
});

describe('chooseOwner properties', () => {
  const AT = NOW.getTime();
  const HOUR = 3_600_000;
  const iso = (millis: number): string => new Date(millis).toISOString();

  // Periods are placed around AT so that some cover it, some end exactly at it, some start right after it.
  const absenceArb = fc
    .record({ startOffsetHours: fc.integer({ min: -3, max: 3 }), lengthHours: fc.integer({ min: 0, max: 4 }) })
    .map(({ startOffsetHours, lengthHours }) => ({ from: iso(AT + startOffsetHours * HOUR), to: iso(AT + (startOffsetHours + lengthHours) * HOUR) }));

  const scenarioArb = fc
    .uniqueArray(fc.constantFrom('r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6'), { minLength: 0, maxLength: 7 })
    .chain((ids) =>
      fc.record({
        members: fc.tuple(
          ...ids.map((id) =>
            fc.record({
              id: fc.constant(id),
              seniority: fc.constantFrom<'junior' | 'senior'>('junior', 'senior'),
              active: fc.boolean(),
              outOfOffice: fc.array(absenceArb, { maxLength: 2 }),
              openLeads: fc.integer({ min: 0, max: 4 }),
            }),
          ),
        ),
        strategy: fc.constantFrom<'round-robin' | 'tier-priority'>('round-robin', 'tier-priority'),
        lastAssignedRepId: fc.constantFrom<string | null>(null, 'departed', ...ids),
        exclude: fc.subarray(ids),
        tier: fc.constantFrom<1 | 2 | 3>(1, 2, 3),
        hot: fc.boolean(),
      }),
    );

  test('the chosen rep is available, not excluded, and has the minimum open leads of its pool; otherwise NoAvailableRepError', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const q: RoutingQueue = { id: 'q-prop', strategy: scenario.strategy, members: scenario.members, lastAssignedRepId: scenario.lastAssignedRepId };
        const l = lead({ tier: scenario.tier, hot: scenario.hot });
        const candidates = scenario.members.filter((member) => !scenario.exclude.includes(member.id) && isAvailable(member, NOW));
        if (candidates.length === 0) {
          assert.throws(() => pick(q, { lead: l, exclude: scenario.exclude }), NoAvailableRepError);
          return;
        }
        const seniors = candidates.filter((member) => member.seniority === 'senior');
        const seniorPoolApplies = scenario.strategy === 'tier-priority' && (scenario.tier === 1 || scenario.hot) && seniors.length > 0;
        const pool = seniorPoolApplies ? seniors : candidates;

        const choice = pick(q, { lead: l, exclude: scenario.exclude });
        const chosen = pool.find((member) => member.id === choice.repId);
        assert.ok(chosen, `chosen ${choice.repId} is not in the pool`);
        assert.ok(isAvailable(chosen, NOW));
        assert.equal(chosen.openLeads, Math.min(...pool.map((member) => member.openLeads)));
        assert.equal(choice.reason, seniorPoolApplies ? 'tier-priority' : 'round-robin');
        assert.equal(choice.queueId, 'q-prop');
        assert.deepEqual(pick(structuredClone(q), { lead: l, exclude: [...scenario.exclude] }), choice);
      }),
      { numRuns: 500 },
    );
  });

  test('no rep receives twice in a row while a peer of the same pool has the same or fewer open leads', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const q: RoutingQueue = { id: 'q-prop', strategy: scenario.strategy, members: scenario.members, lastAssignedRepId: scenario.lastAssignedRepId };
        const l = lead({ tier: scenario.tier, hot: scenario.hot });
        let choice: OwnerChoice;
        try {
          choice = pick(q, { lead: l, exclude: scenario.exclude });
        } catch (error) {
          if (error instanceof NoAvailableRepError) return;
          throw error;
        }
        if (choice.repId !== scenario.lastAssignedRepId) return;
        const candidates = scenario.members.filter((member) => !scenario.exclude.includes(member.id) && isAvailable(member, NOW));
        const pool = choice.reason === 'tier-priority' ? candidates.filter((member) => member.seniority === 'senior') : candidates;
        const repeated = pool.find((member) => member.id === choice.repId)!;
        for (const peer of pool) {
          if (peer.id !== repeated.id) assert.ok(peer.openLeads > repeated.openLeads, `${repeated.id} received twice while ${peer.id} had ${peer.openLeads} ≤ ${repeated.openLeads}`);
        }
      }),
      { numRuns: 500 },
    );
  });

  test('feeding results back keeps every pool within one lead of balance and avoids back-to-back repeats', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 40 }), (repCount, leadCount) => {
        const members = Array.from({ length: repCount }, (_, index) => rep(`r${index}`));
        const assignees = routeSequence(queue(members), leadCount);
        const counts = Object.values(countBy(assignees));
        const fewest = counts.length < repCount ? 0 : Math.min(...counts);
        assert.ok(Math.max(...counts) - fewest <= 1);
        assert.equal(consecutiveRepeats(assignees), 0);
      }),
    );
  });
});

describe('chooseOwner: the rep a nurtured lead returns to', () => {
  const members = [rep('a'), rep('b')];
  test('an available returning owner gets the lead back, even from outside the queue', () => {
    const choice = chooseOwner({ queue: queue(members), lead: lead(), at: NOW, accountOwner: null, returningOwner: rep('former') });
    assert.deepEqual(choice, { repId: 'former', queueId: 'q-inbound', reason: 'returning-owner' });
  });
  test('the account owner still comes first (one account, one owner)', () => {
    const choice = chooseOwner({ queue: queue(members), lead: lead(), at: NOW, accountOwner: rep('kam'), returningOwner: rep('former') });
    assert.equal(choice.reason, 'account-owner');
  });
  test('an inactive, absent or excluded returning owner leaves the lead to the rotation', () => {
    const away = rep('former', { outOfOffice: [{ from: '2024-05-06T00:00:00Z', to: '2024-05-07T00:00:00Z' }] });
    for (const returningOwner of [rep('former', { active: false }), away]) {
      assert.equal(chooseOwner({ queue: queue(members), lead: lead(), at: NOW, accountOwner: null, returningOwner }).reason, 'round-robin');
    }
    assert.equal(chooseOwner({ queue: queue(members), lead: lead(), at: NOW, accountOwner: null, returningOwner: rep('former'), exclude: ['former'] }).reason, 'round-robin');
  });
});
