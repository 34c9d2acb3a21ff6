import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { moveToCalendar } from '../../domain/lead-clocks.js';
import { cadenceFor, ownerCalendarId, scoringFor, speedToLeadAllowance } from '../../domain/lead-rules.js';
import { parsePolicy, type Duration, type Policy } from '../../domain/policy.js';
import { chooseQueue } from '../../domain/routing.js';
import { defaultPolicyDocument } from '../support/policies.js';

const hours = (amount: number): Duration => ({ amount, unit: 'hours', clock: 'business' });

function policy(): Policy {
  const document = defaultPolicyDocument() as any;
  document.calendars['us-sales'] = { ...document.calendars['pl-sales'], id: 'us-sales', timeZone: 'America/New_York', publicHolidays: undefined };
  document.segments = { enterprise: { speedToLead: { tier2: hours(2), hot: hours(1) } }, smb: { mqlThreshold: 65 } };
  document.queues = { 'us-team': { calendarId: 'us-sales', speedToLead: { tier2: hours(3) } }, enterprise: { speedToLead: { tier1: hours(1) } } };
  return parsePolicy(document);
}

describe('lead rules by segment and queue', () => {
  test('thresholds: the segment\'s over the policy\'s, matched case-insensitively; unknown segments get the policy\'s', () => {
    assert.equal(scoringFor(policy(), 'SMB').mqlThreshold, 65);
    assert.equal(scoringFor(policy(), 'smb').hotThreshold, 70);
    assert.equal(scoringFor(policy(), 'startup').mqlThreshold, 40);
    assert.equal(scoringFor(policy(), undefined).mqlThreshold, 40);
  });

  test('speed-to-lead: queue over segment over policy, per allowance; a hot lead takes the first hot allowance set', () => {
    const p = policy();
    assert.deepEqual(speedToLeadAllowance(p, { tier: 2, hot: false, segment: 'enterprise', queueId: 'us-team' }), hours(3));
    assert.deepEqual(speedToLeadAllowance(p, { tier: 2, hot: false, segment: 'enterprise', queueId: 'inbound' }), hours(2));
    assert.deepEqual(speedToLeadAllowance(p, { tier: 2, hot: false, segment: 'smb' }), hours(4));
    assert.deepEqual(speedToLeadAllowance(p, { tier: 1, hot: false, segment: 'enterprise', queueId: 'enterprise' }), hours(1));
    assert.deepEqual(speedToLeadAllowance(p, { tier: 3, hot: true, segment: 'enterprise', queueId: 'us-team' }), hours(1));
    assert.deepEqual(speedToLeadAllowance(p, { tier: 3, hot: true }), { amount: 5, unit: 'minutes', clock: 'business' });
  });

  test('a snapshot from before segments and queue rules gets the policy\'s rules', () => {
    const old = { ...policy() } as Partial<Policy>;
    delete old.segments;
    delete old.queues;
    const p = old as Policy;
    assert.deepEqual(speedToLeadAllowance(p, { tier: 2, hot: false, segment: 'enterprise', queueId: 'us-team' }), hours(4));
    assert.equal(cadenceFor(p, 'enterprise'), p.cadence);
    assert.equal(ownerCalendarId(p, 'us-team'), 'pl-sales');
  });

  test('the shipped default: enterprise 8 attempts in 10 business days, SMB 3 in 5, mid-market the policy\'s 5', () => {
    const p = parsePolicy(defaultPolicyDocument());
    assert.equal(cadenceFor(p, 'enterprise').attempts.length, 8);
    assert.deepEqual(cadenceFor(p, 'enterprise').window, { amount: 10, unit: 'days', clock: 'business' });
    assert.equal(cadenceFor(p, 'smb').attempts.length, 3);
    assert.equal(cadenceFor(p, 'mid-market').attempts.length, 5);
    assert.deepEqual(speedToLeadAllowance(p, { tier: 2, hot: false, queueId: 'enterprise' }), hours(2));
  });

  test('the owner\'s calendar is their queue\'s, else the default', () => {
    assert.equal(ownerCalendarId(policy(), 'us-team'), 'us-sales');
    assert.equal(ownerCalendarId(policy(), 'inbound'), 'pl-sales');
    assert.equal(ownerCalendarId(policy(), null), 'pl-sales');
  });

  test('a business deadline moved to another calendar keeps its business time left; wall and passed ones stay', () => {
    const p = policy();
    const warsaw = p.calendars['pl-sales']!;
    const newYork = p.calendars['us-sales']!;
    // Tuesday 2026-12-08 10:00 in Warsaw (09:00 UTC), due at 12:00 Warsaw: 2 business hours left.
    const now = new Date('2026-12-08T09:00:00Z');
    const due = { at: '2026-12-08T11:00:00Z', clock: 'business' as const };
    // New York opens at 09:00 EST = 14:00 UTC; two hours later is 16:00 UTC.
    assert.equal(moveToCalendar(warsaw, newYork, due, now).at, '2026-12-08T16:00:00.000Z');
    assert.deepEqual(moveToCalendar(warsaw, newYork, { ...due, clock: 'wall' }, now), { ...due, clock: 'wall' });
    assert.deepEqual(moveToCalendar(warsaw, newYork, { at: '2026-12-08T08:00:00Z', clock: 'business' }, now), { at: '2026-12-08T08:00:00Z', clock: 'business' });
  });

  test('policy validation: a queue calendar must exist; a segment\'s hot threshold must be at or above its MQL threshold', () => {
    const document = defaultPolicyDocument() as any;
    document.queues = { x: { calendarId: 'nowhere' } };
    document.segments = { smb: { mqlThreshold: 80 }, Big: {} };
    assert.throws(() => parsePolicy(document), (error: Error) => {
      assert.match(error.message, /queues\.x\.calendarId: names no calendar/);
      assert.match(error.message, /segments\.smb\.hotThreshold/);
      assert.match(error.message, /segments\.Big: segment names are lower case/);
      return true;
    });
  });
});

describe('routing rules by territory, product and skills', () => {
  const rules = [
    { queueId: 'dach', regions: ['DACH'] },
    { queueId: 'sso', products: ['helpdesk'], skills: ['sso', 'scim'] },
    { queueId: 'de-enterprise', countries: ['DE'], segments: ['enterprise'] },
  ];
  const lead = (extra: object) => ({ tier: 2 as const, hot: false, company: 'Acme', ...extra });
  test('first match wins, case-insensitively; a rule needs every skill it lists; else the fallback', () => {
    assert.equal(chooseQueue(rules, 'inbound', lead({ region: 'dach', country: 'DE', segment: 'enterprise' })), 'dach');
    assert.equal(chooseQueue(rules, 'inbound', lead({ product: 'Helpdesk', skills: ['SCIM', 'SSO', 'api'] })), 'sso');
    assert.equal(chooseQueue(rules, 'inbound', lead({ product: 'helpdesk', skills: ['sso'] })), 'inbound');
    assert.equal(chooseQueue(rules, 'inbound', lead({ country: 'DE', segment: 'enterprise' })), 'de-enterprise');
    assert.equal(chooseQueue(rules, 'inbound', lead({})), 'inbound');
  });
});
