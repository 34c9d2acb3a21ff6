import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { redact, setLogDestination } from '../../observability/logger.js';
import { serveMetrics } from '../../observability/metrics.js';
import { installWorkerRuntime } from '../../worker/boot.js';
import { createPolicyStore } from '../../db/policy-store.js';
import { alwaysOpenPolicy, secondsScalePolicy } from '../support/policies.js';
import { completeDossier, eventually, intakeRoutedLead, ownerOf, runEscalatedLead, seedInboundQueue } from '../support/scenarios.js';
import { startService, type RunningService } from '../support/service.js';
import { uniqueId } from '../support/temporal.js';

/** The value of one series in a Prometheus text page, labels matched exactly (in any order). */
function sample(page: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of page.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((pair) => [pair[1], pair[2]]));
    if (Object.keys(found).length === Object.keys(labels).length && Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

describe('logs and metrics of a service running lifecycles (seconds-scale policy)', () => {
  let service: RunningService;
  const lines: string[] = [];
  const escalated = uniqueId('obs-esc');
  const waiting = uniqueId('obs-mql');
  const worked = uniqueId('obs-sal');
  const lateDeal = uniqueId('obs-deal');
  const email = `${escalated.toLowerCase()}@acme-private.example`;
  const notes = 'Spoke to jan.kowalski@acme-private.example, call back Tuesday';

  before(async () => {
    await installWorkerRuntime();
    let partial = '';
    setLogDestination(
      new Writable({
        write(chunk, _encoding, done) {
          const text = partial + chunk.toString();
          const complete = text.split('\n');
          partial = complete.pop() ?? '';
          lines.push(...complete.filter((line) => line.length > 0));
          done();
        },
      }),
      'debug',
    );
    service = await startService(secondsScalePolicy());
    await seedInboundQueue(service);
    // A lead nobody answers (escalated, reassigned, then won), with personal data the logs must not show.
    await runEscalatedLead(service, escalated, { email, company: 'Acme Private' });
    // A deal whose dossier comes after both escalations (reminder, manager alert).
    const signedAt = new Date().toISOString();
    const deal = await service.request('POST', '/deals', {
      role: 'ops',
      body: { dealId: lateDeal, accountName: 'Acme Private', amount: 1000, currency: 'EUR', signedAt, closedWonAt: signedAt, salesOwnerId: 'rep-anna', csOwnerId: 'cs-eva' },
    });
    assert.equal(deal.status, 201, JSON.stringify(deal.body));
    await eventually(
      () => service.request('GET', `/deals/${lateDeal}/timeline`, { role: 'ops' }),
      (r) => r.status === 200 && r.body.events.filter((event: any) => event.type === 'escalated' && event.payload.milestone === 'dossier').length === 2,
      'both escalations of the dossier',
    );
    const dossier = await service.request('POST', `/deals/${lateDeal}/dossier`, { as: 'rep-anna', body: completeDossier });
    assert.equal(dossier.status, 200, JSON.stringify(dossier.body));
    // Then a policy with hours, not seconds, for leads that must stay where they are while the test reads them.
    await createPolicyStore(service.database.db).publish({ document: alwaysOpenPolicy(uniqueId('obs-hours')), author: 'test', note: 'steady leads' });
    await intakeRoutedLead(service, waiting, 3);
    await intakeRoutedLead(service, worked, 2);
  });
  after(async () => {
    await service?.stop();
  });

  test('/metrics: HTTP series, the SDK runtime, and the business figures match the lifecycle that ran', async () => {
    const scrape = async () => {
      const response = await service.app.request('/metrics');
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
      return response.text();
    };
    const page = await eventually(scrape, (text) => sample(text, 'revops_leads_open_sla', { stage: 'MQL', sla_state: 'on-track' }) === 2, 'visibility to show the waiting lead on track').catch(async (error: Error) => {
      throw new Error(`${error.message.slice(0, 200)}\n${(await scrape()).split('\n').filter((line) => line.startsWith('revops_') && !line.includes('_http_') && !line.includes('_activity_')).join('\n')}`);
    });

    // One lead escalated through the three levels and was won; two wait in MQL, on track.
    assert.equal(sample(page, 'revops_lead_sla_breaches_total'), 1);
    assert.equal(sample(page, 'revops_lead_escalations_total', { level: '1', action: 'remind-owner' }), 1);
    assert.equal(sample(page, 'revops_lead_escalations_total', { level: '2', action: 'alert-manager' }), 1);
    assert.equal(sample(page, 'revops_lead_escalations_total', { level: '3', action: 'reassign' }), 1);
    assert.equal(sample(page, 'revops_leads_open', { stage: 'MQL' }), 2);
    assert.equal(sample(page, 'revops_leads_open', { stage: 'WON' }), undefined, 'a won lead is not open');
    assert.equal(sample(page, 'revops_leads_open_sla', { stage: 'MQL', sla_state: 'breached' }), 0);
    assert.equal(sample(page, 'revops_notifications_undelivered'), 0);
    // The deal's dossier came late, after its reminder and its manager alert.
    assert.equal(sample(page, 'revops_deal_milestones', { milestone: 'dossier', state: 'done-late' }), 1);
    assert.equal(sample(page, 'revops_deal_milestone_breaches_total', { milestone: 'dossier' }), 1);
    assert.equal(sample(page, 'revops_deal_escalations_total', { milestone: 'dossier', level: '1', action: 'remind-owner' }), 1);
    assert.equal(sample(page, 'revops_deal_escalations_total', { milestone: 'dossier', level: '2', action: 'alert-manager' }), 1);

    const accepts = sample(page, 'revops_http_requests_total', { method: 'POST', route: '/leads/:leadId/accept', status: '200' });
    assert.ok(accepts !== undefined && accepts >= 1, 'accept requests counted by route pattern');
    assert.ok((sample(page, 'revops_http_request_duration_seconds_count', { method: 'POST', route: '/leads', status_class: '2xx' }) ?? 0) >= 2);
    assert.ok((sample(page, 'revops_activity_duration_seconds_count', { activity_type: 'recordLeadEvents', outcome: 'completed' }) ?? 0) >= 5);
    assert.match(page, /^temporal_workflow_completed(_total)?\{/m, 'the SDK runtime series');
    assert.match(page, /^process_cpu_seconds_total /m);
  });
  test("the worker's own port (WORKER_METRICS_PORT) answers /metrics with the runtime and activity series, and /health", async () => {
    const { server, port } = await serveMetrics(0, '127.0.0.1');
    try {
      const page = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(page, /^temporal_\w+/m);
      // A step's notifications go out together (notifyAll); a lone one through notify.
      const notifications = ['notify', 'notifyAll'].map((type) => sample(page, 'revops_activity_duration_seconds_count', { activity_type: type, outcome: 'completed' }) ?? 0);
      assert.ok(notifications[0]! + notifications[1]! >= 1, 'notification activities counted');
      assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
    } finally {
      server.close();
    }
  });

  test('every log line is JSON; none holds an e-mail address or a contact note; access and activity lines say who, what, how long', async () => {
    const owner = await ownerOf(service, worked);
    const accepted = await service.request('POST', `/leads/${worked}/accept`, { as: owner, body: {} });
    assert.equal(accepted.status, 200);
    const attempt = await service.request('POST', `/leads/${worked}/contact-attempts`, { as: owner, body: { channel: 'phone', outcome: 'no-answer', notes } });
    assert.equal(attempt.status, 200, JSON.stringify(attempt.body));
    // A query string is never logged: it may carry an e-mail.
    await service.request('GET', `/leads?ownerId=${encodeURIComponent(email)}`, { role: 'ops' });

    assert.ok(lines.length > 50, `only ${lines.length} log lines`);
    const entries = lines.map((line) => {
      try {
        return JSON.parse(line) as Record<string, any>;
      } catch {
        assert.fail(`not JSON: ${line}`);
      }
    });
    for (const line of lines) {
      assert.doesNotMatch(line, /[\w.+-]+@[\w-]+\.[\w.-]+/, `an e-mail address in the log: ${line}`);
      assert.ok(!line.includes('call back Tuesday'), `a contact note in the log: ${line}`);
      assert.ok(!line.includes('Acme Private'), `the lead's company in the log: ${line}`);
    }
    const access = entries.find((entry) => entry.component === 'http' && entry.route === '/leads/:leadId/contact-attempts' && entry.workflowId === `lead-${worked}`);
    assert.ok(access, `an access line for the contact attempt; routes seen: ${[...new Set(entries.filter((entry) => entry.component === 'http').map((entry) => entry.route))].join(', ')}`);
    assert.equal(access.actor, owner);
    assert.equal(access.status, 200);
    assert.equal(access.workflowId, `lead-${worked}`);
    assert.equal(typeof access.durationMs, 'number');
    assert.equal(access.level, 'info');
    const activity = entries.find((entry) => entry.component === 'activity' && entry.activityType === 'recordLeadEvents' && entry.workflowId === `lead-${worked}`);
    assert.ok(activity, 'an activity line for the audit write');
    assert.equal(activity.outcome, 'completed');
    assert.equal(typeof activity.durationMs, 'number');
    assert.ok(entries.some((entry) => entry.component === 'temporal'), 'the SDK logs through the same logger');
  });

  test('a failed query is logged without its bound parameters', () => {
    const failure = new Error('Failed query: insert into "leads" ("lead_id", "email") values ($1, $2)\nparams: L-1,ceo@acme.example');
    const logged = JSON.stringify(redact({ err: failure, email: 'ceo@acme.example', nested: { notes: 'x', text: 'mail ceo@acme.example' } }));
    assert.ok(!logged.includes('acme.example'), logged);
    assert.match(logged, /params: \[redacted\]/);
    assert.match(logged, /insert into/);
  });

});
