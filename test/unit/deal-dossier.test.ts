import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dossierSchema } from '../../api/dossier-schema.js';
import { dossierGaps, type Dossier } from '../../domain/deal-dossier.js';

const completeDossier: Dossier = {
  businessGoals: ['Cut first-response time for support tickets'],
  scope: 'Helpdesk for 3 support teams; SSO via Azure AD; CRM sync',
  kpis: [{ name: 'FRT', metric: 'median first-response time', target: 2, unit: 'hours', dueBy: '2027-03-31' }],
  stakeholders: [
    { name: 'Ewa CFO', role: 'economic-buyer', email: 'ewa@acme.example' },
    { name: 'Jan Lead', role: 'champion' },
  ],
  risks: [],
};

const issuePaths = (body: unknown) => {
  const result = dossierSchema.safeParse(body);
  assert.equal(result.success, false, 'expected the dossier to be refused');
  return result.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
};

describe('the handoff dossier', () => {
  test('a complete dossier passes the schema and has no gaps', () => {
    assert.equal(dossierSchema.safeParse(completeDossier).success, true);
    assert.deepEqual(dossierGaps(completeDossier), []);
  });

  test('a missing economic buyer or champion is named', () => {
    const onlyChampion = { ...completeDossier, stakeholders: [{ name: 'Jan', role: 'champion' }] };
    assert.deepEqual(issuePaths(onlyChampion), ['stakeholders: at least one economic-buyer is required']);
    const onlyUsers = { ...completeDossier, stakeholders: [{ name: 'Ola', role: 'user' }] };
    assert.deepEqual(issuePaths(onlyUsers), ['stakeholders: at least one economic-buyer is required', 'stakeholders: at least one champion is required']);
    assert.deepEqual(dossierGaps({ ...completeDossier, stakeholders: [{ name: 'Ola', role: 'it-contact' }] }), [
      'stakeholders: at least one economic-buyer is required',
      'stakeholders: at least one champion is required',
    ]);
  });

  test('KPIs must be measurable: a metric and a numeric target', () => {
    assert.deepEqual(issuePaths({ ...completeDossier, kpis: [] }), ['kpis: at least one measurable KPI with a target is required']);
    const noTarget = issuePaths({ ...completeDossier, kpis: [{ name: 'FRT', metric: 'median first response' }] });
    assert.deepEqual(noTarget, ['kpis.0.target: a numeric target is required']);
    const vague = issuePaths({ ...completeDossier, kpis: [{ name: 'FRT', metric: '  ', target: 2 }] });
    assert.deepEqual(vague, ['kpis.0.metric: must not be empty']);
    assert.deepEqual(dossierGaps({ ...completeDossier, kpis: [] }), ['kpis: at least one measurable KPI with a target is required']);
  });

  test('goals and scope must be there, risks may be empty but well-formed', () => {
    assert.deepEqual(issuePaths({ ...completeDossier, businessGoals: [] }), ['businessGoals: at least one business goal is required']);
    assert.deepEqual(issuePaths({ ...completeDossier, businessGoals: [''] }), ['businessGoals.0: must not be empty']);
    const { scope: _scope, ...noScope } = completeDossier;
    assert.deepEqual(issuePaths(noScope).map((issue) => issue.split(':')[0]), ['scope']);
    assert.deepEqual(issuePaths({ ...completeDossier, risks: [{ description: 'SSO', severity: 'critical' }] }).map((issue) => issue.split(':')[0]), ['risks.0.severity']);
    assert.deepEqual(dossierGaps({ ...completeDossier, businessGoals: ['  '], scope: '' }), [
      'businessGoals: at least one business goal is required',
      'scope: the agreed scope is required',
    ]);
  });

  test('stakeholder roles are a closed list and unknown fields are refused', () => {
    assert.deepEqual(issuePaths({ ...completeDossier, stakeholders: [...completeDossier.stakeholders, { name: 'X', role: 'cfo' }] }).map((i) => i.split(':')[0]), ['stakeholders.2.role']);
    assert.equal(dossierSchema.safeParse({ ...completeDossier, budget: 1 }).success, false);
  });
});
