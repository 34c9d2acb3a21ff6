import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolvePolicy } from '../../domain/policy-source.js';
import { parsePolicy, PolicyValidationError } from '../../domain/policy.js';
import { defaultPolicyDocument } from '../support/policies.js';

describe('policy documents', () => {
  test('the shipped default policy is valid and carries the DOMAIN.md numbers', () => {
    const policy = parsePolicy(defaultPolicyDocument());
    assert.equal(policy.scoring.mqlThreshold, 40);
    assert.equal(policy.scoring.hotThreshold, 70);
    assert.deepEqual(policy.speedToLead.tier1, { amount: 15, unit: 'minutes', clock: 'business' });
    assert.deepEqual(policy.speedToLead.tier2, { amount: 4, unit: 'hours', clock: 'business' });
    assert.equal(policy.cadence.attempts.length, 5);
  });

  test('resolving a policy snapshots the public holidays of each calendar', () => {
    const policy = resolvePolicy(defaultPolicyDocument(), new Date('2026-06-01T00:00:00Z'));
    const holidays = policy.calendars['pl-sales']!.holidays;
    assert.ok(holidays.includes('2026-11-11'), 'Polish Independence Day');
    assert.ok(holidays.includes('2027-01-06'), 'Epiphany of the following year');
    assert.ok(!holidays.includes('2026-11-12'));
  });

  test('the snapshot a workflow receives leaves the rationale in the stored document, and every rule as parsed', () => {
    const document = defaultPolicyDocument() as any;
    const parsed = parsePolicy(document);
    const snapshot = resolvePolicy(document, new Date('2026-06-01T00:00:00Z'));
    assert.ok(Object.keys(parsed.rationale).length > 0, 'the shipped default explains its choices');
    assert.deepEqual(snapshot.rationale, {});
    assert.deepEqual({ ...snapshot, calendars: {}, rationale: {} }, { ...parsed, calendars: {}, rationale: {} });
  });

  test('every problem is reported with its path', () => {
    const document = defaultPolicyDocument() as any;
    document.scoring.hotThreshold = 10;
    document.defaultCalendarId = 'nowhere';
    document.speedToLead.tier3 = { amount: 1.5, unit: 'days', clock: 'business' };
    assert.throws(
      () => parsePolicy(document),
      (error: unknown) => {
        assert.ok(error instanceof PolicyValidationError);
        const paths = error.issues.join('\n');
        assert.match(paths, /scoring\.hotThreshold: must be at or above mqlThreshold/);
        assert.match(paths, /defaultCalendarId: names no calendar/);
        assert.match(paths, /speedToLead\.tier3: business days must be a whole number/);
        return true;
      },
    );
  });

  test('a calendar with no working time is refused rather than looping at run time', () => {
    const document = defaultPolicyDocument() as any;
    document.calendars['pl-sales'].workingHours = {};
    assert.throws(() => parsePolicy(document), /calendars\.pl-sales/);
  });
});

describe('policy decisions (scoring.nurtureReturn, rationale)', () => {
  test('the default policy states its Tier 3 choice and its nurture-return rule', () => {
    const policy = parsePolicy(defaultPolicyDocument());
    assert.deepEqual(policy.speedToLead.tier3, { amount: 1, unit: 'days', clock: 'business' });
    assert.match(policy.rationale['speedToLead.tier3']!, /24 hours/);
    assert.equal(policy.scoring.nurtureReturn, 'positive-engagement');
    assert.ok(policy.rationale['scoring.nurtureReturn']);
  });

  test('a version stored before these fields existed still parses, with the behaviour it had', () => {
    const document = defaultPolicyDocument() as any;
    delete document.scoring.nurtureReturn;
    delete document.rationale;
    const policy = parsePolicy(document);
    assert.equal(policy.scoring.nurtureReturn, 'positive-engagement');
    assert.deepEqual(policy.rationale, {});
  });

  test('an unknown nurture-return rule is refused with its path', () => {
    const document = defaultPolicyDocument() as any;
    document.scoring.nurtureReturn = 'sometimes';
    assert.throws(() => parsePolicy(document), /scoring\.nurtureReturn/);
  });
});

describe('data quality at intake', () => {
  test('the domain\'s e-mail pattern is zod\'s, so the API and the intake check agree', async () => {
    const { z } = await import('zod');
    const { EMAIL_PATTERN_SOURCE } = await import('../../domain/data-quality.js');
    assert.equal(EMAIL_PATTERN_SOURCE, z.email()._zod.pattern!.source);
  });

  test('an invalid or missing e-mail and a blank company are flagged; the default target is 95 %', async () => {
    const { intakeQualityFlags } = await import('../../domain/data-quality.js');
    assert.deepEqual(intakeQualityFlags({ email: 'ana@example.com', company: 'Acme' }), []);
    assert.deepEqual(intakeQualityFlags({ email: 'ana@example', company: '  ' }), ['email-invalid', 'company-missing']);
    assert.deepEqual(intakeQualityFlags({ email: '', company: 'Acme' }), ['email-invalid']);
    assert.deepEqual(intakeQualityFlags({ email: `${'a'.repeat(250)}@x.io`, company: 'Acme' }), ['email-invalid'], 'longer than 254');
    assert.equal(parsePolicy(defaultPolicyDocument()).dataQuality?.validRecordsTarget, 0.95);
  });
});
