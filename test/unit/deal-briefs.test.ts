import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stakeholderBriefs } from '../../domain/deal-briefs.js';
import type { Dossier } from '../../domain/deal-dossier.js';

const deal = { accountName: 'Acme', amount: 120000, currency: 'EUR' };
const timeline = { kickoffDueAt: '2027-11-15T09:00:00.000Z', kickoffHeldAt: null, firstQbrDueAt: '2028-02-03T09:00:00.000Z' };
const dossier: Dossier = {
  businessGoals: ['Cut first-response time', 'One inbox for all regions'],
  scope: 'Helpdesk for 3 teams; SSO via Azure AD; CRM sync',
  kpis: [
    { name: 'FRT', metric: 'median first-response time', target: 2, unit: 'hours', dueBy: '2028-03-31' },
    { name: 'CSAT', metric: 'survey score', target: 90 },
  ],
  stakeholders: [
    { name: 'Jan', role: 'champion' },
    { name: 'Ewa', role: 'economic-buyer', email: 'ewa@acme.example' },
    { name: 'Piotr', role: 'it-contact' },
    { name: 'Ola', role: 'it-contact', email: 'ola@acme.example' },
  ],
  risks: [
    { description: 'Legacy CRM API rate limits', severity: 'medium' },
    { description: 'SSO tenant owned by parent company', severity: 'high' },
  ],
};

describe('role-tailored onboarding briefs', () => {
  const briefs = stakeholderBriefs(deal, dossier, timeline);

  test('one brief per role present, in the order CS meets them, each for that role’s people', () => {
    assert.deepEqual(briefs.map((brief) => brief.role), ['economic-buyer', 'champion', 'it-contact']);
    assert.deepEqual(briefs[2]!.audience, [{ name: 'Piotr' }, { name: 'Ola', email: 'ola@acme.example' }]);
    assert.deepEqual(briefs[0]!.audience, [{ name: 'Ewa', email: 'ewa@acme.example' }]);
  });

  test('the economic buyer gets ROI and the KPIs with their targets', () => {
    const buyer = briefs[0]!;
    assert.equal(buyer.focus, 'ROI and KPIs');
    assert.match(buyer.headline, /120000 EUR/);
    assert.deepEqual(buyer.points, [
      'Investment: 120000 EUR',
      'KPI FRT: median first-response time, target 2 hours by 2028-03-31',
      'KPI CSAT: survey score, target 90',
      'Results reviewed at the first QBR, due by 2028-02-03',
    ]);
    assert.ok(!buyer.points.some((point) => point.includes('SSO')), 'no integration detail for the CFO');
  });

  test('IT gets the scope and the risks, worst first, and no money', () => {
    const it = briefs[2]!;
    assert.equal(it.focus, 'integration and scope');
    assert.deepEqual(it.points, [
      'Scope: Helpdesk for 3 teams; SSO via Azure AD; CRM sync',
      'Risk (high): SSO tenant owned by parent company',
      'Risk (medium): Legacy CRM API rate limits',
      'Onboarding kickoff due by 2027-11-15',
    ]);
    assert.ok(!it.points.concat(it.headline).some((point) => point.includes('EUR')));
  });

  test('the champion gets goals and the timeline', () => {
    const champion = briefs[1]!;
    assert.equal(champion.focus, 'goals and timeline');
    assert.deepEqual(champion.points, [
      'Goal: Cut first-response time',
      'Goal: One inbox for all regions',
      'Onboarding kickoff due by 2027-11-15',
      'Target for FRT by 2028-03-31',
      'Progress reviewed at the first QBR, due by 2028-02-03',
    ]);
    const held = stakeholderBriefs(deal, dossier, { ...timeline, kickoffHeldAt: '2027-11-10T10:00:00.000Z' })[1]!;
    assert.ok(held.points.includes('Onboarding kickoff held 2027-11-10'));
  });

  test('users and other roles get a brief of their own', () => {
    const withUsers = stakeholderBriefs(deal, { ...dossier, stakeholders: [{ name: 'Kasia', role: 'user' }, { name: 'Marek', role: 'other' }] }, timeline);
    assert.deepEqual(withUsers.map((brief) => [brief.role, brief.focus]), [
      ['user', 'what changes day to day'],
      ['other', 'overview'],
    ]);
  });
});
