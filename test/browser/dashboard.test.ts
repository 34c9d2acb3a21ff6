import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { ServerType } from '@hono/node-server';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createApp } from '../../api/app.js';
import { createPolicyStore } from '../../db/policy-store.js';
import { closeServer, listen } from '../../api/server.js';
import { ARTIFACTS_DIR, launchChromium } from '../support/browser.js';
import { secondsScalePolicy } from '../support/policies.js';
import { completeDossier, eventually, runEscalatedLead, runStandardLead, seedCsQueue, seedInboundQueue } from '../support/scenarios.js';
import { startService, testTokens, tokenFor, type RunningService } from '../support/service.js';
import { uniqueId } from '../support/temporal.js';

/**
 * The dashboard in a real Chromium against the whole service (dev server, worker, Postgres, the API over
 * HTTP): leads and deals run through the API on the seconds-scale policy, then every page's tables and
 * chart data are read in the browser and checked against the /reports API for the same range and against
 * what the run did.
 */

const TEMPORAL_UI = 'http://temporal-ui.test:8233';
const CS_REPS = ['cs-rep-1', 'cs-rep-2'];
const screenshots = fileURLToPath(new URL('dashboard/', ARTIFACTS_DIR));

describe('dashboard in Chromium', () => {
  let service: RunningService;
  let server: ServerType;
  let base: string;
  let browser: Browser;
  let manager: BrowserContext;
  const policy = secondsScalePolicy();
  const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
  // Dates as the form sends them; the API gets the very same range.
  const range = { from: day(-1), to: day(2) };
  const escalatedLead = uniqueId('L-esc');
  const wonLead = uniqueId('L-won');
  const rejectedLead = uniqueId('L-rej');
  const onTimeDeal = uniqueId('D-ok');
  const lateDeal = uniqueId('D-late');
  const hostileName = '<img src=x onerror="document.body.dataset.injected=1">Acme & Co';

  /** The API's answer for the same question, as a manager. */
  async function api(path: string) {
    const response = await service.request('GET', path, { role: 'manager' });
    assert.equal(response.status, 200, `${path}: ${JSON.stringify(response.body)}`);
    return response.body;
  }

  /** A page, loaded and with every chart drawn (or the test fails naming the chart that was not). */
  async function open(path: string): Promise<Page> {
    const page = await manager.newPage();
    page.on('dialog', (dialog) => assert.fail(`a dialog opened: ${dialog.message()}`));
    const response = await page.goto(`${base}${path}`);
    assert.equal(response?.status(), 200, `${path}: ${await response?.text()}`);
    await page.waitForSelector('body[data-charts="ready"]');
    const notDrawn = await page.$$eval('canvas[data-chart]', (canvases) => canvases.filter((c) => (c as HTMLElement).dataset.rendered !== 'true').map((c) => `${c.id}: ${(c as HTMLElement).dataset.error}`));
    assert.deepEqual(notDrawn, [], 'every chart drawn by Chart.js');
    return page;
  }

  /** A data table as rows of { column key: raw value }. */
  function table(page: Page, id: string): Promise<Array<Record<string, string>>> {
    return page.$$eval(`#${id} tbody tr:not(.empty)`, (rows) =>
      rows.map((row) => Object.fromEntries([...row.querySelectorAll('td')].map((cell) => [cell.dataset.col!, cell.dataset.value!]))),
    );
  }

  async function chartSpec(page: Page, id: string): Promise<{ labels: string[]; datasets: Array<{ label: string; data: unknown[] }> }> {
    return JSON.parse((await page.getAttribute(`#${id}`, 'data-chart'))!);
  }

  const num = (value: string | null | undefined) => (value === undefined || value === '' ? null : Number(value));

  async function screenshot(page: Page, name: string) {
    const path = `${screenshots}${name}.png`;
    await page.screenshot({ path, fullPage: true });
    console.log(`screenshot: ${path}`);
  }

  before(async () => {
    service = await startService(policy);
    await seedInboundQueue(service);
    await seedCsQueue(service, policy.deal!.csQueueId, CS_REPS);

    // The run: a won lead, an escalated lead (breach, reminder, manager alert, reassignment) that is won too,
    // a rejected lead; a deal whose milestones are done on time and one whose kickoff is missed.
    await runStandardLead(service, wonLead);
    await runEscalatedLead(service, escalatedLead);
    const intake = await service.request('POST', '/leads', {
      body: { leadId: rejectedLead, email: 'r@example.com', company: 'Rejected Co', icpTier: 3, source: 'webinar', score: { fit: 30, behavior: 10, intent: 5 } },
    });
    assert.equal(intake.status, 201, JSON.stringify(intake.body));
    const routed = await eventually(() => service.request('GET', `/leads/${rejectedLead}`), (r) => r.body.ownerId !== null, 'routing');
    assert.equal((await service.request('POST', `/leads/${rejectedLead}/accept`, { as: routed.body.ownerId, body: {} })).status, 200);
    assert.equal((await service.request('POST', `/leads/${rejectedLead}/reject`, { as: routed.body.ownerId, body: { reason: 'no-budget' } })).status, 200);

    for (const [dealId, salesOwnerId, accountName] of [
      [onTimeDeal, 'rep-anna', 'On Time Inc'],
      [lateDeal, 'rep-bartek', hostileName],
    ] as const) {
      const now = new Date().toISOString();
      const created = await service.request('POST', '/deals', {
        role: 'ops',
        body: { dealId, accountName, amount: 50000, currency: 'EUR', signedAt: now, closedWonAt: now, salesOwnerId, csOwnerId: 'cs-rep-1' },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const dossier = await service.request('POST', `/deals/${dealId}/dossier`, { as: salesOwnerId, body: completeDossier });
      assert.equal(dossier.status, 200, JSON.stringify(dossier.body));
    }
    const kickoff = await service.request('POST', `/deals/${onTimeDeal}/kickoff`, { role: 'cs', as: 'cs-rep-1', body: { heldAt: new Date().toISOString(), attendees: ['Ewa', 'cs-rep-1'] } });
    assert.equal(kickoff.status, 200, JSON.stringify(kickoff.body));
    await eventually(() => service.request('GET', `/deals/${lateDeal}`, { role: 'ops' }), (r) => r.body.milestones?.some((m: { key: string; breached: boolean }) => m.key === 'kickoff' && m.breached), 'the missed kickoff');
    await eventually(() => api(`/reports/handoffs?from=${range.from}&to=${range.to}`), (r) => r.deals.length === 2 && r.summary.breachesByOwner.cs.some((o: { breaches: number }) => o.breaches > 0), 'the breach in the projection');

    const policyStore = createPolicyStore(service.database.db);
    const app = createApp({
      client: service.temporal.client,
      db: service.database.db,
      apiKeys: testTokens,
      currentPolicy: () => policyStore.current(),
      policyStore,
      dashboard: { temporalUiUrl: TEMPORAL_UI },
    });
    const listening = await listen(app, 0);
    server = listening.server;
    base = `http://127.0.0.1:${listening.port}`;

    mkdirSync(screenshots, { recursive: true });
    console.log(`screenshots go to ${screenshots}`);
    browser = await launchChromium();
    manager = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  });

  after(async () => {
    await browser?.close();
    if (server) await closeServer(server);
    await service?.stop();
  });

  test('an unauthenticated visit lands on sign-in; a sales token is refused; a manager signs in with an HttpOnly, SameSite=Strict cookie', async () => {
    const anonymous = await browser.newContext();
    const page = await anonymous.newPage();
    await page.goto(`${base}/dashboard/funnel?period=week`);
    assert.equal(new URL(page.url()).pathname, '/dashboard/sign-in');
    assert.equal(new URL(page.url()).searchParams.get('next'), '/dashboard/funnel?period=week');
    await screenshot(page, '0-sign-in');

    await page.fill('input[name=token]', tokenFor('sales'));
    const refused = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]).then(([response]) => response);
    assert.equal(refused?.status(), 403);
    assert.match(await page.textContent('[role=alert]') ?? '', /a sales token is refused/);
    assert.deepEqual(await anonymous.cookies(), [], 'no session for a sales token');
    const direct = await page.goto(`${base}/dashboard/handoffs`);
    assert.equal(new URL(page.url()).pathname, '/dashboard/sign-in', `still signed out (${direct?.status()})`);

    await page.fill('input[name=token]', tokenFor('cs'));
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.match(await page.textContent('[role=alert]') ?? '', /a cs token is refused/);

    await page.fill('input[name=token]', 'not-a-token');
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.match(await page.textContent('[role=alert]') ?? '', /Unknown API token/);

    await page.goto(`${base}/dashboard/funnel?period=week`);
    await page.fill('input[name=token]', tokenFor('manager'));
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, '/dashboard/funnel?period=week', 'back where the visit began');
    assert.ok(!page.url().includes(tokenFor('manager')), 'no token in the URL');
    const [cookie] = await anonymous.cookies();
    assert.equal(cookie?.httpOnly, true);
    assert.equal(cookie?.sameSite, 'Strict');
    assert.equal(cookie?.path, '/dashboard');
    assert.ok(!cookie!.value.includes(tokenFor('manager')), 'the token is sealed, not stored as it is');
    assert.equal(await page.evaluate(() => document.cookie), '', 'scripts cannot read the session');

    // CSRF: a form posted from another origin is refused even with a valid token.
    const forged = await fetch(`${base}/dashboard/sign-in`, { method: 'POST', headers: { origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${tokenFor('manager')}` });
    assert.equal(forged.status, 403);
    assert.equal(forged.headers.get('set-cookie'), null);

    await Promise.all([page.waitForNavigation(), page.click('form.sign-out button')]);
    assert.equal(new URL(page.url()).pathname, '/dashboard/sign-in');
    await page.goto(`${base}/dashboard/handoffs`);
    assert.equal(new URL(page.url()).pathname, '/dashboard/sign-in', 'signed out');
    await anonymous.close();

    // The manager context used by the page tests below.
    const signIn = await manager.newPage();
    await signIn.goto(`${base}/dashboard`);
    await signIn.fill('input[name=token]', tokenFor('manager'));
    await Promise.all([signIn.waitForNavigation(), signIn.click('button[type=submit]')]);
    assert.equal(new URL(signIn.url()).pathname, '/dashboard/handoffs');
    await signIn.close();
  });

  test('handoff timelines: the figures of GET /reports/handoffs, each deal on the time axis with its breach, owner filters', async () => {
    const query = `from=${range.from}&to=${range.to}`;
    const page = await open(`/dashboard/handoffs?${query}`);
    const report = await api(`/reports/handoffs?${query}`);

    const kinds = await table(page, 'handoff-milestones');
    assert.deepEqual(
      kinds.map((row) => [row.kind, num(row.total), num(row.onTime), num(row.late), num(row.overdue), num(row.open), num(row.onTimeShare), num(row.delayMedian), num(row.delayP90)]),
      report.summary.milestones.map((m: any) => [m.kind, m.total, m.onTime, m.late, m.overdue, m.open, m.onTimeShare, m.delayBusinessHours.median, m.delayBusinessHours.p90]),
    );
    const kickoff = kinds.find((row) => row.kind === 'kickoff')!;
    assert.deepEqual([num(kickoff.total), num(kickoff.onTime), num(kickoff.late)! + num(kickoff.overdue)!], [2, 1, 1], 'one kickoff on time, one missed');
    const onTime = await chartSpec(page, 'handoff-on-time');
    assert.deepEqual(onTime.labels, kinds.map((row) => row.kind));
    assert.deepEqual(onTime.datasets[0]!.data, kinds.map((row) => num(row.onTimeShare)), 'the chart shows the table');

    const cs = await table(page, 'handoff-breaches-cs-table');
    assert.deepEqual(cs.map((row) => [row.ownerId, num(row.breaches)]), report.summary.breachesByOwner.cs.map((o: any) => [o.ownerId, o.breaches]));

    const deals = await table(page, 'handoff-deals');
    assert.deepEqual(deals.map((row) => row.dealId).sort(), [onTimeDeal, lateDeal].sort());
    assert.equal(deals.find((row) => row.dealId === onTimeDeal)!['status-kickoff'], 'on-time');
    assert.match(deals.find((row) => row.dealId === lateDeal)!['status-kickoff']!, /^(late|overdue)$/);
    // Escaped, shown as text: the account name's markup never runs.
    assert.equal(deals.find((row) => row.dealId === lateDeal)!.accountName, hostileName);
    assert.equal(await page.evaluate(() => document.body.dataset.injected ?? null), null);

    const timeline = await chartSpec(page, 'handoff-timeline');
    assert.deepEqual([...timeline.labels].sort(), [onTimeDeal, lateDeal].sort());
    const breachPoints = timeline.datasets.filter((d) => d.label.includes('breach')).flatMap((d) => d.data as Array<{ y: string }>);
    assert.ok(breachPoints.some((point) => point.y === lateDeal), 'the missed kickoff is marked on the late deal');

    const dealLink = await page.getAttribute(`#handoff-deals a[href="/dashboard/deals/${lateDeal}"]`, 'href');
    assert.equal(dealLink, `/dashboard/deals/${lateDeal}`);
    const temporalLink = await page.$eval(`#handoff-deals tr:has(a[href="/dashboard/deals/${lateDeal}"]) a.temporal`, (a) => (a as HTMLAnchorElement).href);
    assert.equal(temporalLink, `${TEMPORAL_UI}/namespaces/default/workflows/deal-${lateDeal}`);
    await screenshot(page, '1-handoffs');

    // Filter by sales owner: one deal, and the figures the API gives for that owner.
    await page.fill('input[name=salesOwner]', 'rep-anna');
    await Promise.all([page.waitForNavigation(), page.click('form.filters button')]);
    await page.waitForSelector('body[data-charts="ready"]');
    const filtered = await api(`/reports/handoffs?${query}&salesOwner=rep-anna`);
    assert.deepEqual((await table(page, 'handoff-deals')).map((row) => row.dealId), [onTimeDeal]);
    assert.equal(num(await page.getAttribute('#kpi-deals', 'data-value')), filtered.summary.deals);
    assert.deepEqual(
      (await table(page, 'handoff-milestones')).map((row) => [row.kind, num(row.onTimeShare)]),
      filtered.summary.milestones.map((m: any) => [m.kind, m.onTimeShare]),
    );
    assert.equal(num((await table(page, 'handoff-milestones')).find((row) => row.kind === 'kickoff')!.onTimeShare), 1, 'only the on-time deal is left');

    // The deal's own timeline page.
    const dealPage = await open(`/dashboard/deals/${lateDeal}`);
    const milestones = await table(dealPage, 'deal-milestones');
    assert.equal(milestones.find((row) => row.milestone === 'kickoff')!.breached, 'true');
    const dealTimeline = await chartSpec(dealPage, 'deal-timeline');
    assert.ok(dealTimeline.datasets.some((d) => d.label.includes('breach') && (d.data as Array<{ y: string }>).some((point) => point.y === 'kickoff')));
    await screenshot(dealPage, '5-deal-timeline');
  });

  test('lead SLA: speed-to-lead by tier as the API reports it, breaches by owner and queue, escalation levels, lead links', async () => {
    const query = `from=${range.from}&to=${range.to}`;
    const page = await open(`/dashboard/lead-sla?${query}&period=week`);
    const report = await api(`/reports/lead-sla?${query}`);

    const tiers = await table(page, 'sla-by-tier');
    assert.deepEqual(
      tiers.map((row) => [num(row.tier), num(row.clocks), num(row.metOnTime), num(row.metLate), num(row.breachedUnmet), num(row.adherence), num(row.median), num(row.p90)]),
      report.speedToLead.byTier.map((r: any) => [r.tier, r.clocks, r.metOnTime, r.metLate, r.breachedUnmet, r.adherence, r.medianBusinessMinutes, r.p90BusinessMinutes]),
    );
    assert.equal(num(await page.getAttribute('#kpi-adherence', 'data-value')), report.speedToLead.all.adherence);
    assert.equal(num(tiers[0]!.metLate), 1, "the escalated lead's clock, met late");
    const adherence = await chartSpec(page, 'sla-adherence');
    assert.deepEqual(adherence.datasets[0]!.data, tiers.map((row) => num(row.adherence)));

    const series = await table(page, 'sla-speed-series');
    assert.ok(series.length >= 3, 'one row per week and tier');
    assert.equal(series.filter((row) => row.tier === '1').reduce((sum, row) => sum + num(row.clocks)!, 0), report.speedToLead.byTier[0].clocks, 'the weeks add up to the range');
    const speedChart = await chartSpec(page, 'sla-speed-over-time');
    assert.ok(speedChart.datasets.some((d) => d.label === 'tier 1 deadline'), 'each tier drawn against its deadline');

    // One speed-to-lead breach (the escalated lead's first owner), in the inbound queue; levels 1-3 reached once.
    const byOwner = await table(page, 'sla-breaches-owner-table');
    assert.equal(byOwner.reduce((sum, row) => sum + num(row.breaches)!, 0), 1);
    assert.deepEqual((await table(page, 'sla-breaches-queue-table')).map((row) => [row.queueId, num(row.breaches)]), [['inbound', 1]]);
    const escalations = await table(page, 'sla-escalations-table');
    assert.deepEqual(
      escalations.map((row) => [num(row.level), row.action, num(row.leads)]),
      [
        [1, 'remind-owner', 1],
        [2, 'alert-manager', 1],
        [3, 'reassign', 1],
      ],
    );
    const breaches = await table(page, 'sla-breach-list');
    assert.deepEqual(breaches.map((row) => row.leadId), [escalatedLead]);
    assert.equal(await page.$eval(`#sla-breach-list a.temporal`, (a) => (a as HTMLAnchorElement).href), `${TEMPORAL_UI}/namespaces/default/workflows/lead-${escalatedLead}`);
    await screenshot(page, '2-lead-sla');

    // The lead's timeline: its audit, as GET /leads/{id}/timeline has it.
    await Promise.all([page.waitForNavigation(), page.click(`#sla-breach-list a[href="/dashboard/leads/${escalatedLead}"]`)]);
    await page.waitForSelector('body[data-charts="ready"]');
    const audit = await api(`/leads/${escalatedLead}/timeline`);
    const events = await table(page, 'lead-events');
    const apiEvents: Array<{ type: string }> = audit.events ?? audit;
    assert.deepEqual(events.map((row) => row.type), apiEvents.map((event) => event.type));
    assert.ok(events.some((row) => row.type === 'sla-breached'));
    await screenshot(page, '6-lead-timeline');
  });

  test('funnel: conversion by tier and source, stage aging, cycle and win rate as the API reports them; the range filter changes them', async () => {
    const query = `from=${range.from}&to=${range.to}`;
    const page = await open(`/dashboard/funnel?${query}`);
    const report = await api(`/reports/lead-sla?${query}`);

    const byTier = await table(page, 'funnel-by-tier');
    assert.deepEqual(
      byTier.map((row) => [num(row.tier), num(row.mql), num(row.sal), num(row.sql), num(row.won), num(row.sqlPerMql), num(row.wonPerSql)]),
      report.conversion.byTier.map((r: any) => [r.tier, r.mql, r.sal, r.sql, r.won, r.sqlPerMql, r.wonPerSql]),
    );
    // The run: three MQLs, all accepted; two qualified and won, one rejected.
    assert.deepEqual([report.conversion.all.mql, report.conversion.all.sal, report.conversion.all.sql, report.conversion.all.won], [3, 3, 2, 2]);
    const tierChart = await chartSpec(page, 'funnel-tier');
    assert.deepEqual(tierChart.datasets.find((d) => d.label === 'MQL')!.data, byTier.map((row) => num(row.mql)));

    const bySource = await table(page, 'funnel-by-source');
    assert.deepEqual(bySource.map((row) => [row.source, num(row.mql), num(row.won)]), report.conversionBySource.map((r: any) => [r.source ?? '', r.mql, r.won]));
    assert.ok(bySource.some((row) => row.source === 'webinar' && num(row.mql) === 1));

    const aging = await table(page, 'funnel-aging-table');
    for (const stage of ['mql', 'sal', 'sql'] as const) {
      const row = aging.find((candidate) => candidate.stage === stage.toUpperCase() && candidate.tier === 'all')!;
      assert.deepEqual([num(row.stays), num(row.medianHours), num(row.p90Hours)], [report.stageAging[stage].all.stays, report.stageAging[stage].all.medianHours, report.stageAging[stage].all.p90Hours], `${stage} aging`);
    }
    assert.equal(report.stageAging.sql.all.stays, 2, 'both SQLs closed');
    const outcomes = await table(page, 'funnel-outcomes');
    const all = outcomes.find((row) => row.tier === 'all')!;
    assert.deepEqual([num(all.closed), num(all.won), num(all.winRate), num(all.meanDays)], [report.winRate.all.closed, report.winRate.all.won, report.winRate.all.winRate, report.salesCycle.all.meanDays]);
    assert.equal(report.winRate.all.winRate, 1, 'both closes were wins');
    assert.equal(num(await page.getAttribute('#kpi-cycle', 'data-value')), report.salesCycle.all.meanDays);
    const rejections = await table(page, 'funnel-rejections-source-table');
    assert.deepEqual(rejections.map((row) => [row.source, row.reason, num(row.count)]), [['webinar', 'no-budget', 1]]);
    await screenshot(page, '3-funnel');

    // A range after the run: nothing in it.
    await page.fill('input[name=from]', day(1));
    await page.fill('input[name=to]', day(2));
    await Promise.all([page.waitForNavigation(), page.click('form.filters button')]);
    await page.waitForSelector('body[data-charts="ready"]');
    assert.deepEqual((await table(page, 'funnel-by-tier')).map((row) => num(row.mql)), [0, 0, 0]);
    assert.equal(await page.getAttribute('#kpi-win-rate', 'data-value'), '');
  });

  test("planner: seed 001's example through the form, as GET /reports/plan answers it", async () => {
    const page = await open('/dashboard/planner');
    const inputs = { revenueGoal: '1000000', months: '3', averageDealSize: '100000', mqlToSal: '1', salToSql: '0.3', winRate: '0.25', from: range.from, to: range.to };
    for (const [name, value] of Object.entries(inputs)) await page.fill(`input[name=${name}]`, value);
    await Promise.all([page.waitForNavigation(), page.click('form.filters button')]);
    await page.waitForSelector('body[data-charts="ready"]');
    const stages: Record<string, Record<string, string>> = Object.fromEntries((await table(page, 'plan-stages')).map((row) => [row.stage, row]));
    assert.deepEqual([num(stages.deals!.total), num(stages.sqls!.total), num(stages.sals!.total), num(stages.mqls!.total)], [10, 40, 134, 134]);
    const plan = await api(`/reports/plan?${new URLSearchParams(inputs).toString()}`);
    assert.deepEqual(
      Object.values(stages).map((row) => [row.stage, num(row.total), num(row.perMonth), num(row.runRatePerMonth), num(row.gapPerMonth)]),
      plan.stages.map((s: any) => [s.stage, s.total, s.perMonth, s.runRatePerMonth, s.gapPerMonth]),
    );
    const chartData = await chartSpec(page, 'plan-funnel');
    assert.deepEqual(chartData.datasets[0]!.data, plan.stages.map((s: any) => s.perMonth));
    const rates = Object.fromEntries((await table(page, 'plan-rates')).map((row) => [row.rate, row]));
    assert.equal(rates.leadToMql!.source, 'measured');
    assert.equal(num(rates.leadToMql!.used), plan.measured.rates.leadToMql);
    await screenshot(page, '4-planner');

    await page.fill('input[name=winRate]', '2');
    const [invalid] = await Promise.all([page.waitForNavigation(), page.click('form.filters button')]);
    assert.equal(invalid?.status(), 400);
    assert.match((await page.textContent('[role=alert]')) ?? '', /winRate/);
  });

  test('policy simulation: a published version and a pasted document through the form, as POST /policies/simulate answers them', async () => {
    const page = await open('/dashboard/simulate');
    await page.fill('input[name=version]', policy.version);
    await page.fill('input[name=from]', range.from);
    await page.fill('input[name=to]', range.to);
    const [answered] = await Promise.all([page.waitForNavigation(), page.click('form.simulate button')]);
    assert.equal(answered?.status(), 200, (await answered?.text())?.slice(0, 500));
    const body = { version: policy.version, from: `${range.from}T00:00:00Z`, to: `${range.to}T00:00:00Z` };
    const fromApi = await service.request('POST', '/policies/simulate', { role: 'manager', body });
    assert.equal(fromApi.status, 200, JSON.stringify(fromApi.body));
    const bands = Object.fromEntries((await table(page, 'sim-0')).map((row) => [row.label, [num(row.recorded), num(row.simulated)]]));
    assert.deepEqual(bands, Object.fromEntries(['cold', 'mql', 'hot'].map((band) => [band, [fromApi.body.recorded.mqlByBand[band], fromApi.body.simulated.mqlByBand[band]]])));
    assert.equal(num(await page.getAttribute('#kpi-sim-leads', 'data-value')), fromApi.body.recorded.leads);
    assert.ok(fromApi.body.recorded.leads >= 3, 'the run’s leads are in the window');
    assert.equal(await page.getAttribute('#kpi-sim-mismatches', 'data-value'), '0', 'the run replays under its own policy as the audit recorded it');
    const deadlines = await table(page, 'sim-1');
    const tier3 = fromApi.body.recorded.deadlinesByTier.find((row: { tier: number }) => row.tier === 3);
    assert.equal(num(deadlines.find((row) => row.label === 'Tier 3 met on time')!.recorded), tier3.metOnTime);
    await screenshot(page, '5-simulate');

    // A pasted document: every lead scored as cold under an MQL threshold of 1000.
    const strict = { ...JSON.parse(JSON.stringify(policy)), version: uniqueId('never-mql') };
    strict.scoring.mqlThreshold = 1000;
    strict.scoring.hotThreshold = 1000;
    await page.fill('input[name=version]', '');
    await page.fill('textarea[name=policy]', JSON.stringify(strict));
    await Promise.all([page.waitForNavigation(), page.click('form.simulate button')]);
    const strictBands = Object.fromEntries((await table(page, 'sim-0')).map((row) => [row.label, num(row.simulated)]));
    assert.deepEqual(strictBands, { cold: fromApi.body.recorded.leads, mql: 0, hot: 0 });
    assert.ok(Number(await page.getAttribute('#kpi-sim-changes', 'data-value')) >= 3);
    assert.ok((await page.$$('#sim-changes li')).length >= 3, 'the changed leads are listed, with why');
    assert.equal(await page.evaluate(() => document.body.dataset.injected), undefined);

    // A broken document: the validator's message, a 400.
    strict.scoring.hotThreshold = 10;
    await page.fill('textarea[name=policy]', JSON.stringify(strict));
    const [refused] = await Promise.all([page.waitForNavigation(), page.click('form.simulate button')]);
    assert.equal(refused?.status(), 400);
    assert.match((await page.textContent('[role=alert]')) ?? '', /policy\.scoring\.hotThreshold: must be at or above mqlThreshold/);
  });

});
