import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { recordLeadEvents } from '../../activities/lead-audit.js';
import { leadSlaReport, leadSlaSeries } from '../../db/reports.js';
import { HANDOFF_LIMIT_MAX } from '../../api/reports.js';
import { dealMilestones, deals } from '../../db/schema.js';
import { MINUTE_DECIMALS, percentile, rounded } from '../../domain/report-stats.js';
import type { Role } from '../../service.config.js';
import { secondsScalePolicy } from '../support/policies.js';
import { eventually, intakeRoutedLead, runStandardLead, seedCsQueue, seedInboundQueue } from '../support/scenarios.js';
import { startService, tokenFor, type RunningService } from '../support/service.js';
import { uniqueId } from '../support/temporal.js';

/**
 * GET /reports/handoffs and /reports/lead-sla on the whole service: real lifecycles on the seconds-scale
 * policy show up in both, and audit rows inserted directly (in windows of their own, years back) pin the
 * aggregation down to the number.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const CS_REPS = ['cs-rep-1', 'cs-rep-2'];
const at = (iso: string, plusMs = 0) => new Date(Date.parse(iso) + plusMs);

describe('reports API on a real Temporal dev server and Postgres', () => {
  let service: RunningService;
  const policy = secondsScalePolicy();

  before(async () => {
    service = await startService(policy);
    await seedInboundQueue(service);
    await seedCsQueue(service, policy.deal!.csQueueId, CS_REPS);
  });
  after(async () => {
    await service?.stop();
  });

  /** The raw answer, for CSV and headers (service.request parses JSON). */
  async function get(path: string, options: { role?: Role | null; accept?: string } = {}) {
    const headers: Record<string, string> = {};
    const role = options.role === undefined ? 'manager' : options.role;
    if (role) headers.authorization = `Bearer ${tokenFor(role)}`;
    if (options.accept) headers.accept = options.accept;
    const response = await service.app.request(path, { headers });
    const text = await response.text();
    const json = (response.headers.get('content-type') ?? '').startsWith('application/json') ? JSON.parse(text) : null;
    return { status: response.status, headers: response.headers, text, body: json };
  }

  const query = (params: Record<string, string | undefined>) =>
    `?${new URLSearchParams(Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined)).toString()}`;

  // ---- direct inserts --------------------------------------------------------------------------------

  interface MilestoneSeed {
    milestone: string;
    kind: string;
    dueAfterMs: number;
    doneAfterMs?: number;
    breached: boolean;
    minutesLate?: number;
  }

  async function insertDeal(deal: { dealId: string; accountName?: string; salesOwnerId: string; csOwnerId: string; closedWonAt: Date; milestones: MilestoneSeed[] }) {
    const { db } = service.database;
    const won = deal.closedWonAt;
    await db.insert(deals).values({
      dealId: deal.dealId,
      workflowId: `deal-${deal.dealId}`,
      accountName: deal.accountName ?? `Account ${deal.dealId}`,
      amount: 1000,
      currency: 'EUR',
      salesOwnerId: deal.salesOwnerId,
      csOwnerId: deal.csOwnerId,
      stage: 'ONBOARDING',
      handoffState: 'on-track',
      policyVersion: 'inserted',
      signedAt: won,
      closedWonAt: won,
      lastEventSeq: 1,
      createdAt: won,
      updatedAt: won,
    });
    await db.insert(dealMilestones).values(
      deal.milestones.map((m) => ({
        dealId: deal.dealId,
        milestone: m.milestone,
        kind: m.kind,
        workflowId: `deal-${deal.dealId}`,
        startedAt: won,
        dueAt: at(won.toISOString(), m.dueAfterMs),
        doneAt: m.doneAfterMs === undefined ? null : at(won.toISOString(), m.doneAfterMs),
        actor: m.doneAfterMs === undefined ? null : 'someone',
        breached: m.breached,
        businessMinutesTaken: m.doneAfterMs === undefined ? null : m.doneAfterMs / MINUTE,
        businessMinutesLate: m.doneAfterMs === undefined ? null : (m.minutesLate ?? 0),
        lastEventSeq: 1,
        updatedAt: won,
      })),
    );
  }

  const dossier = (doneAfterMs: number | undefined, minutesLate = 0): MilestoneSeed => ({ milestone: 'dossier', kind: 'dossier', dueAfterMs: 2 * DAY, doneAfterMs, breached: minutesLate > 0, minutesLate });
  const kickoff = (doneAfterMs: number | undefined, minutesLate = 0, breached = minutesLate > 0): MilestoneSeed => ({ milestone: 'kickoff', kind: 'kickoff', dueAfterMs: 7 * DAY, doneAfterMs, breached, minutesLate });
  const qbr = (doneAfterMs: number | undefined, minutesLate = 0): MilestoneSeed => ({ milestone: 'qbr-1', kind: 'qbr', dueAfterMs: 90 * DAY, doneAfterMs, breached: minutesLate > 0, minutesLate });

  /** One lead's audit rows, in order, plus its projection row. */
  /** A lead's audit trail, written through the audit writer the activity uses (events, projection, report facts). */
  async function insertLead(leadId: string, tier: number, events: Array<{ type: string; at: Date; payload?: Record<string, unknown> }>) {
    const intake = events.find((event) => event.type === 'received')?.payload?.profile as { source?: string } | undefined;
    await recordLeadEvents(
      service.database.db,
      events.map((event, index) => ({
        workflowId: `lead-${leadId}`,
        leadId,
        seq: index + 1,
        stepKey: `${index + 1}-${event.type}`,
        type: event.type,
        at: event.at.toISOString(),
        actor: 'inserted',
        payload: event.payload ?? {},
        projection: {
          email: `${leadId}@example.com`,
          company: leadId,
          icpTier: tier,
          source: intake?.source ?? null,
          stage: 'MQL',
          ownerId: null,
          score: 50,
          policyVersion: 'inserted',
        },
      })),
    );
  }

  const received = (atIso: Date, tier: number, source: string | undefined, stage = 'MQL') => ({
    type: 'received',
    at: atIso,
    payload: { stage, score: { total: 50 }, profile: { icpTier: tier, ...(source === undefined ? {} : { source }) } },
  });
  const met = (started: Date, atIso: Date, minutes: number, breached = false) => ({
    type: 'speed-to-lead-met',
    at: atIso,
    payload: { by: 'first-attempt', startedAt: started.toISOString(), dueAt: started.toISOString(), breached, businessMinutes: minutes },
  });
  const breach = (atIso: Date) => ({ type: 'sla-breached', at: atIso, payload: { deadline: 'speed-to-lead', dueAt: atIso.toISOString() } });
  const event = (type: string, atIso: Date, payload: Record<string, unknown> = {}) => ({ type, at: atIso, payload });
  const nurture = (atIso: Date, reason: string) => event('returned-to-nurture', atIso, { to: 'NURTURE', reason });

  // ---- access and input --------------------------------------------------------------------------------

  test('managers and ops read the reports; sales and CS get 403, no token 401', async () => {
    for (const path of ['/reports/handoffs', '/reports/lead-sla']) {
      assert.equal((await get(path, { role: 'manager' })).status, 200, path);
      assert.equal((await get(path, { role: 'ops' })).status, 200, path);
      const sales = await get(path, { role: 'sales' });
      assert.equal(sales.status, 403, path);
      assert.equal(sales.body.error, 'forbidden');
      assert.equal((await get(path, { role: 'cs' })).status, 403, path);
      assert.equal((await get(path, { role: null })).status, 401, path);
    }
  });

  test('the OpenAPI document describes both reports, as JSON and as CSV, for managers and ops', async () => {
    const doc = await get('/openapi.json', { role: null });
    assert.equal(doc.status, 200);
    for (const path of ['/reports/handoffs', '/reports/lead-sla']) {
      const operation = doc.body.paths[path]?.get;
      assert.ok(operation, `${path} is documented`);
      assert.deepEqual(Object.keys(operation.responses[200].content).sort(), ['application/json', 'text/csv']);
      assert.deepEqual(Object.keys(operation.responses).sort(), ['200', '400', '401', '403']);
      assert.ok(operation.parameters.some((parameter: { name: string }) => parameter.name === 'from'));
    }
    assert.deepEqual(
      doc.body.paths['/reports/handoffs'].get.parameters.map((parameter: { name: string }) => parameter.name).sort(),
      ['csOwner', 'cursor', 'from', 'limit', 'salesOwner', 'to'],
    );
    assert.deepEqual(doc.body.components.schemas.HandoffReport.required.filter((name: string) => ['limit', 'nextCursor', 'deals', 'summary'].includes(name)).sort(), ['deals', 'limit', 'nextCursor', 'summary']);
    const leadSla = doc.body.components.schemas.LeadSlaReport;
    for (const section of ['stageAging', 'salesCycle', 'winRate', 'conversionBySource']) assert.ok(leadSla.properties[section], `lead-sla documents ${section}`);
    const plan = doc.body.paths['/reports/plan']?.get;
    assert.ok(plan, '/reports/plan is documented');
    assert.deepEqual(Object.keys(plan.responses).sort(), ['200', '400', '401', '403']);
    const parameter = (name: string) => plan.parameters.find((candidate: { name: string }) => candidate.name === name);
    assert.equal(parameter('revenueGoal').required, true);
    assert.deepEqual([parameter('months').schema.minimum, parameter('months').schema.maximum, parameter('months').schema.type], [1, 36, 'integer']);
    for (const rate of ['leadToMql', 'mqlToSal', 'salToSql', 'winRate']) {
      assert.deepEqual([parameter(rate).schema.exclusiveMinimum, parameter(rate).schema.maximum, parameter(rate).required ?? false], [0, 1, false], rate);
    }
  });

  test('400 names a bound that is not ISO, and a range that is empty or backwards', async () => {
    for (const path of ['/reports/handoffs', '/reports/lead-sla']) {
      const notIso = await get(`${path}${query({ from: 'yesterday', to: '2026-13-01' })}`);
      assert.equal(notIso.status, 400, path);
      assert.deepEqual(notIso.body.issues.map((issue: { path: string }) => issue.path).sort(), ['from', 'to']);

      const noOffset = await get(`${path}${query({ from: '2026-01-01T10:00:00' })}`);
      assert.equal(noOffset.status, 400, 'a date-time without an offset is ambiguous');

      for (const range of [
        { from: '2026-02-01', to: '2026-01-01' },
        { from: '2026-01-01T00:00:00Z', to: '2026-01-01' },
      ]) {
        const backwards = await get(`${path}${query(range)}`);
        assert.equal(backwards.status, 400, `${path} ${JSON.stringify(range)}`);
        assert.deepEqual(backwards.body.issues.map((issue: { path: string }) => issue.path), ['from']);
      }
      const farFuture = await get(`${path}${query({ from: '2999-01-01' })}`);
      assert.equal(farFuture.status, 400, 'from after the default to (now)');
    }
    assert.equal((await get(`/reports/handoffs${query({ csOwner: 'not valid!' })}`)).status, 400);
  });

  // ---- handoffs ----------------------------------------------------------------------------------------

  test('handoffs: milestones due vs done per deal, on-time shares, delays, breaches per owner, filters and [from, to)', async () => {
    const tag = uniqueId('h');
    const [s1, s2, c1, c2] = ['s1', 's2', 'c1', 'c2'].map((name) => `${name}-${tag}`) as [string, string, string, string];
    await insertDeal({ dealId: `D1-${tag}`, salesOwnerId: s1, csOwnerId: c1, closedWonAt: at('2020-03-01T00:00:00Z'), milestones: [dossier(DAY), kickoff(8 * DAY, 90), qbr(undefined)] });
    await insertDeal({ dealId: `D2-${tag}`, salesOwnerId: s1, csOwnerId: c2, closedWonAt: at('2020-03-15T00:00:00Z'), milestones: [dossier(3 * DAY, 120), kickoff(undefined, 0, true), qbr(undefined)] });
    await insertDeal({ dealId: `D3-${tag}`, salesOwnerId: s2, csOwnerId: c1, closedWonAt: at('2020-03-20T00:00:00Z'), milestones: [dossier(DAY), kickoff(6 * DAY), qbr(91 * DAY, 30)] });
    await insertDeal({ dealId: `D4-${tag}`, salesOwnerId: s2, csOwnerId: c1, closedWonAt: at('2020-04-01T00:00:00Z'), milestones: [dossier(DAY)] });
    await insertDeal({ dealId: `D5-${tag}`, salesOwnerId: s2, csOwnerId: c1, closedWonAt: at('2020-02-29T23:59:59Z'), milestones: [dossier(DAY)] });
    const range = { from: '2020-03-01', to: '2020-04-01T00:00:00Z' };

    const report = await get(`/reports/handoffs${query(range)}`, { role: 'ops' });
    assert.equal(report.status, 200, report.text);
    assert.equal(report.body.from, '2020-03-01T00:00:00.000Z');
    assert.equal(report.body.to, '2020-04-01T00:00:00.000Z');
    assert.deepEqual(
      report.body.deals.map((d: { dealId: string }) => d.dealId),
      [`D1-${tag}`, `D2-${tag}`, `D3-${tag}`],
      'won in [from, to): the deal at `from` is in, the one at `to` is out',
    );
    const [d1, d2] = report.body.deals;
    assert.deepEqual(d1.milestones, [
      { milestone: 'dossier', kind: 'dossier', owner: 'sales', ownerId: s1, startedAt: '2020-03-01T00:00:00.000Z', dueAt: '2020-03-03T00:00:00.000Z', doneAt: '2020-03-02T00:00:00.000Z', breached: false, status: 'on-time', delayBusinessHours: 0 },
      { milestone: 'kickoff', kind: 'kickoff', owner: 'cs', ownerId: c1, startedAt: '2020-03-01T00:00:00.000Z', dueAt: '2020-03-08T00:00:00.000Z', doneAt: '2020-03-09T00:00:00.000Z', breached: true, status: 'late', delayBusinessHours: 1.5 },
      { milestone: 'qbr-1', kind: 'qbr', owner: 'cs', ownerId: c1, startedAt: '2020-03-01T00:00:00.000Z', dueAt: '2020-05-30T00:00:00.000Z', doneAt: null, breached: false, status: 'open', delayBusinessHours: null },
    ]);
    assert.deepEqual(
      d2.milestones.map((m: { milestone: string; status: string; delayBusinessHours: number | null }) => [m.milestone, m.status, m.delayBusinessHours]),
      [
        ['dossier', 'late', 2],
        ['kickoff', 'overdue', null],
        ['qbr-1', 'open', null],
      ],
    );
    assert.deepEqual(report.body.summary, {
      deals: 3,
      milestones: [
        { kind: 'dossier', total: 3, onTime: 2, late: 1, overdue: 0, open: 0, onTimeShare: 0.6667, delayBusinessHours: { count: 3, median: 0, p90: 1.6 } },
        { kind: 'kickoff', total: 3, onTime: 1, late: 1, overdue: 1, open: 0, onTimeShare: 0.3333, delayBusinessHours: { count: 2, median: 0.75, p90: 1.35 } },
        { kind: 'qbr', total: 3, onTime: 0, late: 1, overdue: 0, open: 2, onTimeShare: 0, delayBusinessHours: { count: 1, median: 0.5, p90: 0.5 } },
      ],
      breachesByOwner: {
        sales: [
          { ownerId: s1, milestones: 2, breaches: 1 },
          { ownerId: s2, milestones: 1, breaches: 0 },
        ],
        cs: [
          { ownerId: c1, milestones: 4, breaches: 2 },
          { ownerId: c2, milestones: 2, breaches: 1 },
        ],
      },
    });

    const ids = async (params: Record<string, string>) =>
      (await get(`/reports/handoffs${query({ ...range, ...params })}`)).body.deals.map((d: { dealId: string }) => d.dealId.split('-')[0]);
    assert.deepEqual(await ids({ csOwner: c1 }), ['D1', 'D3']);
    assert.deepEqual(await ids({ salesOwner: s1 }), ['D1', 'D2']);
    assert.deepEqual(await ids({ salesOwner: s1, csOwner: c1 }), ['D1']);
    assert.deepEqual(await ids({ csOwner: 'nobody' }), []);
    const filtered = await get(`/reports/handoffs${query({ ...range, csOwner: c2 })}`);
    assert.equal(filtered.body.csOwner, c2);
    assert.deepEqual(filtered.body.summary.breachesByOwner.cs, [{ ownerId: c2, milestones: 2, breaches: 1 }]);

    // Paged: `limit` deals a page, the summary over all of them on every page, the cursor to the next page.
    assert.deepEqual([report.body.limit, report.body.nextCursor], [50, null], 'the default page holds them all');
    const first = await get(`/reports/handoffs${query({ ...range, limit: '2' })}`);
    assert.deepEqual(first.body.deals.map((d: { dealId: string }) => d.dealId), [`D1-${tag}`, `D2-${tag}`]);
    assert.equal(first.body.limit, 2);
    assert.deepEqual(first.body.summary, report.body.summary);
    assert.equal(typeof first.body.nextCursor, 'string');
    const second = await get(`/reports/handoffs${query({ ...range, limit: '2', cursor: first.body.nextCursor })}`);
    assert.deepEqual(second.body.deals, report.body.deals.slice(2));
    assert.deepEqual([second.body.nextCursor, second.body.summary], [null, report.body.summary]);
    for (const bad of [{ limit: '0' }, { limit: `${HANDOFF_LIMIT_MAX + 1}` }, { limit: 'x' }, { cursor: 'bm90LWEtY3Vyc29y' }, { cursor: 'not a cursor!' }]) {
      const refused = await get(`/reports/handoffs${query({ ...range, ...bad })}`);
      assert.equal(refused.status, 400, JSON.stringify(bad));
    }
  });

  test('handoffs as CSV: a header, one row per deal milestone, RFC 4180 quoting', async () => {
    const tag = uniqueId('csv');
    await insertDeal({
      dealId: `D-${tag}`,
      accountName: 'Acme, "Widgets" Inc.',
      salesOwnerId: `s-${tag}`,
      csOwnerId: `c-${tag}`,
      closedWonAt: at('2019-06-03T10:00:00Z'),
      milestones: [dossier(DAY), kickoff(9 * DAY, 150)],
    });
    const csv = await get(`/reports/handoffs${query({ from: '2019-06-01', to: '2019-07-01', salesOwner: `s-${tag}` })}`, { accept: 'text/csv' });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv; charset=utf-8/);
    assert.match(csv.headers.get('content-disposition') ?? '', /attachment; filename="handoffs.csv"/);
    assert.equal(csv.headers.get('vary'), 'Accept');
    assert.equal(
      csv.text,
      [
        'dealId,accountName,salesOwnerId,csOwnerId,dealStage,closedWonAt,milestone,kind,owner,ownerId,startedAt,dueAt,doneAt,status,breached,delayBusinessHours',
        `D-${tag},"Acme, ""Widgets"" Inc.",s-${tag},c-${tag},ONBOARDING,2019-06-03T10:00:00.000Z,dossier,dossier,sales,s-${tag},2019-06-03T10:00:00.000Z,2019-06-05T10:00:00.000Z,2019-06-04T10:00:00.000Z,on-time,false,0`,
        `D-${tag},"Acme, ""Widgets"" Inc.",s-${tag},c-${tag},ONBOARDING,2019-06-03T10:00:00.000Z,kickoff,kickoff,cs,c-${tag},2019-06-03T10:00:00.000Z,2019-06-10T10:00:00.000Z,2019-06-12T10:00:00.000Z,late,true,2.5`,
        '',
      ].join('\r\n'),
    );
    const empty = await get(`/reports/handoffs${query({ from: '2019-06-01', to: '2019-07-01', salesOwner: 'nobody' })}`, { accept: 'text/csv' });
    assert.equal(empty.text.split('\r\n').length, 2, 'the header alone');
    const json = await get(`/reports/handoffs${query({ from: '2019-06-01', to: '2019-07-01' })}`, { accept: 'text/csv;q=0.5, application/json' });
    assert.match(json.headers.get('content-type') ?? '', /^application\/json/, 'JSON when the client prefers it');
  });

  test('the default range is the last 90 days', async () => {
    const tag = uniqueId('default');
    const now = Date.now();
    await insertDeal({ dealId: `D-recent-${tag}`, salesOwnerId: `s-${tag}`, csOwnerId: 'c', closedWonAt: new Date(now - 10 * DAY), milestones: [dossier(undefined)] });
    await insertDeal({ dealId: `D-old-${tag}`, salesOwnerId: `s-${tag}`, csOwnerId: 'c', closedWonAt: new Date(now - 91 * DAY), milestones: [dossier(undefined)] });
    const report = await get(`/reports/handoffs${query({ salesOwner: `s-${tag}` })}`);
    assert.deepEqual(report.body.deals.map((d: { dealId: string }) => d.dealId), [`D-recent-${tag}`]);
    const span = Date.parse(report.body.to) - Date.parse(report.body.from);
    assert.equal(span, 90 * DAY);
    assert.ok(Math.abs(Date.parse(report.body.to) - Date.now()) < MINUTE, 'ends now');
    const fromOnly = await get(`/reports/handoffs${query({ salesOwner: `s-${tag}`, to: new Date(now - 80 * DAY).toISOString() })}`);
    assert.deepEqual(fromOnly.body.deals.map((d: { dealId: string }) => d.dealId), [`D-old-${tag}`], 'without from: 90 days before to');
  });

  // ---- lead SLA ----------------------------------------------------------------------------------------

  test('lead SLA over audit rows: speed-to-lead and adherence by tier, attempts, conversion, rejections by source and tier', async () => {
    const p = uniqueId('sla');
    const t = (iso: string, plusMs = 0) => at(iso, plusMs);
    const t0 = '2021-05-10T09:00:00Z';
    // A, tier 1: met on time in 10 minutes, won.
    await insertLead(`${p}-A`, 1, [
      received(t(t0), 1, 'web'),
      event('routed', t(t0, 1000)),
      event('accepted', t(t0, 5 * MINUTE)),
      event('contact-attempted', t(t0, 10 * MINUTE)),
      met(t(t0), t(t0, 10 * MINUTE), 10),
      event('qualified', t(t0, DAY)),
      event('closed', t(t0, 2 * DAY), { outcome: 'won' }),
    ]);
    // B, tier 1: breached, reassigned (the new owner's met says breached: false), met after 80 minutes: late. Lost.
    await insertLead(`${p}-B`, 1, [
      received(t(t0), 1, 'event'),
      breach(t(t0, 15 * MINUTE)),
      event('escalated', t(t0, 60 * MINUTE), { level: 3, action: 'reassign' }),
      event('accepted', t(t0, 70 * MINUTE)),
      event('contact-attempted', t(t0, 80 * MINUTE)),
      met(t(t0), t(t0, 80 * MINUTE), 80, false),
      event('contact-attempted', t(t0, DAY)),
      event('qualified', t(t0, 2 * DAY)),
      event('closed', t(t0, 3 * DAY), { outcome: 'lost' }),
    ]);
    // C, tier 1: met on time in 4 minutes, then rejected for budget.
    await insertLead(`${p}-C`, 1, [
      received(t(t0), 1, 'web'),
      event('accepted', t(t0, 2 * MINUTE)),
      event('contact-attempted', t(t0, 4 * MINUTE)),
      met(t(t0), t(t0, 4 * MINUTE), 4),
      nurture(t(t0, HOUR), 'no-budget'),
    ]);
    // D, tier 2, no source: nobody answered; returned to marketing when the ladder ran out.
    await insertLead(`${p}-D`, 2, [received(t(t0), 2, undefined), breach(t(t0, 4 * HOUR)), breach(t(t0, 9 * HOUR)), nurture(t(t0, 9 * HOUR), 'sla-expired')]);
    // E, tier 2: met on time in 30 minutes, three attempts, cadence ran out.
    await insertLead(`${p}-E`, 2, [
      received(t(t0), 2, 'web'),
      event('accepted', t(t0, 20 * MINUTE)),
      event('contact-attempted', t(t0, 30 * MINUTE)),
      met(t(t0), t(t0, 30 * MINUTE), 30),
      event('contact-attempted', t(t0, DAY)),
      event('contact-attempted', t(t0, 2 * DAY)),
      nurture(t(t0, 5 * DAY), 'unresponsive'),
    ]);
    // F, tier 3: came in cold, became MQL by engagement, accepted, rejected as the wrong ICP before any attempt.
    await insertLead(`${p}-F`, 3, [
      received(t(t0), 3, 'partner', 'LEAD'),
      event('stage-changed', t(t0, DAY), { from: 'LEAD', to: 'MQL' }),
      event('accepted', t(t0, DAY + HOUR)),
      nurture(t(t0, DAY + 2 * HOUR), 'wrong-icp'),
    ]);
    // G, tier 2: breached in the range but met exactly at `to`: its clock ends in the next range, counted there.
    await insertLead(`${p}-G`, 2, [received(t('2021-05-31T18:00:00Z'), 2, 'web'), breach(t('2021-05-31T22:00:00Z')), met(t('2021-05-31T18:00:00Z'), t('2021-06-01T00:00:00Z'), 360, true)]);
    // H, tier 3: clock started and breached before `from`, met inside: a late clock of this range. Accepted before the range.
    await insertLead(`${p}-H`, 3, [
      received(t('2021-04-29T09:00:00Z'), 3, 'web'),
      breach(t('2021-04-30T09:00:00Z')),
      event('accepted', t('2021-04-30T10:00:00Z')),
      event('contact-attempted', t('2021-05-01T10:00:00Z')),
      met(t('2021-04-29T09:00:00Z'), t('2021-05-01T10:00:00Z'), 1500, true),
    ]);
    // I, tier 1: received before the range (its source still counts), rejected inside it.
    await insertLead(`${p}-I`, 1, [received(t('2021-04-20T09:00:00Z'), 1, 'web'), event('accepted', t('2021-04-20T10:00:00Z')), nurture(t(t0), 'no-budget')]);

    const report = await get(`/reports/lead-sla${query({ from: '2021-05-01', to: '2021-06-01' })}`);
    assert.equal(report.status, 200, report.text);
    const { speedToLead, attemptsPerLead, conversion, rejections } = report.body;

    assert.deepEqual(speedToLead.all, { clocks: 6, metOnTime: 3, metLate: 2, breachedUnmet: 1, adherence: 0.5, medianBusinessMinutes: 30, p90BusinessMinutes: 932 });
    assert.equal(speedToLead.all.p90BusinessMinutes, rounded(percentile([10, 80, 4, 30, 1500], 0.9), MINUTE_DECIMALS), 'SQL percentile_cont and report-stats agree');
    assert.deepEqual(speedToLead.byTier, [
      { tier: 1, clocks: 3, metOnTime: 2, metLate: 1, breachedUnmet: 0, adherence: 0.6667, medianBusinessMinutes: 10, p90BusinessMinutes: 66 },
      { tier: 2, clocks: 2, metOnTime: 1, metLate: 0, breachedUnmet: 1, adherence: 0.5, medianBusinessMinutes: 30, p90BusinessMinutes: 30 },
      { tier: 3, clocks: 1, metOnTime: 0, metLate: 1, breachedUnmet: 0, adherence: 0, medianBusinessMinutes: 1500, p90BusinessMinutes: 1500 },
    ]);

    assert.deepEqual(attemptsPerLead.all, { leads: 5, attempts: 7, mean: 1.4, median: 1 });
    assert.deepEqual(attemptsPerLead.byTier, [
      { tier: 1, leads: 3, attempts: 4, mean: 1.33, median: 1 },
      { tier: 2, leads: 1, attempts: 3, mean: 3, median: 3 },
      { tier: 3, leads: 1, attempts: 0, mean: 0, median: 0 },
    ]);

    assert.deepEqual(conversion.all, { mql: 7, sal: 5, sql: 2, won: 1, salPerMql: 0.7143, sqlPerSal: 0.4, sqlPerMql: 0.2857, wonPerSql: 0.5 });
    // Seed 001's target from the published policy: 2 SQLs of 7 MQLs is under 30 %.
    assert.deepEqual(report.body.mqlToSql, { actual: 0.2857, target: policy.funnel!.mqlToSqlTarget, meetsTarget: false });
    assert.deepEqual(
      conversion.byTier.map((row: { tier: number; mql: number; sal: number; sql: number; won: number }) => [row.tier, row.mql, row.sal, row.sql, row.won]),
      [
        [1, 3, 3, 2, 1],
        [2, 3, 1, 0, 0],
        [3, 1, 1, 0, 0],
      ],
    );

    assert.deepEqual(rejections, {
      byReason: [
        { reason: 'no-budget', count: 2 },
        { reason: 'sla-expired', count: 1 },
        { reason: 'unresponsive', count: 1 },
        { reason: 'wrong-icp', count: 1 },
      ],
      bySource: [
        { source: 'web', reason: 'no-budget', count: 2 },
        { source: null, reason: 'sla-expired', count: 1 },
        { source: 'partner', reason: 'wrong-icp', count: 1 },
        { source: 'web', reason: 'unresponsive', count: 1 },
      ],
      byTier: [
        { tier: 1, reason: 'no-budget', count: 2 },
        { tier: 2, reason: 'sla-expired', count: 1 },
        { tier: 2, reason: 'unresponsive', count: 1 },
        { tier: 3, reason: 'wrong-icp', count: 1 },
      ],
    });

    // Stage aging: MQL stays end at acceptance (A 5 min, B 70, C 2, E 20, F 1 h after its MQL entry by
    // engagement; H and I were accepted before the range); SAL stays at qualification, SQL stays at the close.
    const { stageAging, salesCycle, winRate, conversionBySource } = report.body;
    const mqlHours = [5 / 60, 70 / 60, 2 / 60, 20 / 60, 1];
    assert.deepEqual(stageAging.mql.all, { stays: 5, medianHours: 0.3333, p90Hours: rounded(percentile(mqlHours, 0.9), 4) });
    assert.equal(stageAging.mql.all.p90Hours, 1.1);
    assert.deepEqual(
      stageAging.mql.byTier.map((row: { tier: number; stays: number; medianHours: number }) => [row.tier, row.stays, row.medianHours]),
      [
        [1, 3, 0.0833],
        [2, 1, 0.3333],
        [3, 1, 1],
      ],
    );
    assert.deepEqual(stageAging.sal.all, { stays: 2, medianHours: 35.375, p90Hours: 44.5417 });
    assert.deepEqual(stageAging.sql.all, { stays: 2, medianHours: 24, p90Hours: 24 });
    assert.deepEqual(stageAging.sql.byTier[1], { tier: 2, stays: 0, medianHours: null, p90Hours: null });
    // A was won two days after it came in as MQL; A won and B lost are the range's closes.
    assert.deepEqual(salesCycle.all, { won: 1, meanDays: 2, medianDays: 2 });
    assert.deepEqual(winRate.all, { closed: 2, won: 1, lost: 1, winRate: 0.5 });
    assert.deepEqual(winRate.byTier[2], { tier: 3, closed: 0, won: 0, lost: 0, winRate: null });
    assert.deepEqual(
      conversionBySource.map((row: { source: string | null; mql: number; sal: number; sql: number; won: number }) => [row.source, row.mql, row.sal, row.sql, row.won]),
      [
        ['web', 4, 3, 1, 1],
        [null, 1, 0, 0, 0],
        ['event', 1, 1, 1, 0],
        ['partner', 1, 1, 0, 0],
      ],
    );

    // The dashboard's series: each week's figures are the report's for that week alone.
    const series = await leadSlaSeries(service.database.db, { from: new Date('2021-05-01T00:00:00Z'), to: new Date('2021-06-01T00:00:00Z') }, 'week');
    assert.deepEqual(
      series.map((period) => period.from.toISOString().slice(0, 10)),
      ['2021-05-01', '2021-05-03', '2021-05-10', '2021-05-17', '2021-05-24', '2021-05-31'],
    );
    for (const period of series) {
      const alone = await leadSlaReport(service.database.db, period);
      assert.deepEqual(period.speedToLead, alone.speedToLead, `speed-to-lead, week of ${period.from.toISOString()}`);
      assert.deepEqual(period.conversion, alone.conversion, `conversion, week of ${period.from.toISOString()}`);
    }
    assert.equal(series.reduce((sum, period) => sum + period.speedToLead.all.clocks, 0), speedToLead.all.clocks, 'the weeks add up to the month');

    // The next range holds G's clock: breached, then met at its very start.
    const june = await get(`/reports/lead-sla${query({ from: '2021-06-01', to: '2021-07-01' })}`);
    assert.deepEqual(june.body.speedToLead.all, { clocks: 1, metOnTime: 0, metLate: 1, breachedUnmet: 0, adherence: 0, medianBusinessMinutes: 360, p90BusinessMinutes: 360 });

    // Nothing in a range: zeros, and null where a share or median would divide by nothing.
    const empty = await get(`/reports/lead-sla${query({ from: '2000-01-01', to: '2000-02-01' })}`);
    assert.deepEqual(empty.body.speedToLead.byTier[0], { tier: 1, clocks: 0, metOnTime: 0, metLate: 0, breachedUnmet: 0, adherence: null, medianBusinessMinutes: null, p90BusinessMinutes: null });
    assert.deepEqual(empty.body.conversion.all.salPerMql, null);
    assert.deepEqual(empty.body.rejections, { byReason: [], bySource: [], byTier: [] });

    const csv = await get(`/reports/lead-sla${query({ from: '2021-05-01', to: '2021-06-01' })}`, { accept: 'text/csv' });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    const lines = csv.text.split('\r\n');
    assert.equal(lines[0], 'section,tier,source,reason,metric,value');
    assert.equal(lines.at(-1), '', 'every line CRLF-terminated');
    for (const line of [
      'speed-to-lead,all,,,adherence,0.5',
      'speed-to-lead,1,,,p90BusinessMinutes,66',
      'attempts-per-lead,all,,,mean,1.4',
      'conversion,3,,,mql,1',
      'rejections-by-reason,all,,no-budget,count,2',
      'rejections-by-source,all,,sla-expired,count,1',
      'rejections-by-source,all,partner,wrong-icp,count,1',
      'rejections-by-tier,2,,unresponsive,count,1',
      'stage-aging-sal,all,,,medianHours,35.375',
      'sales-cycle,all,,,meanDays,2',
      'win-rate,1,,,winRate,0.5',
      'conversion-by-source,all,partner,,sal,1',
    ]) {
      assert.ok(lines.includes(line), `CSV has "${line}"`);
    }
    assert.equal(lines.filter((line) => line.startsWith('speed-to-lead,')).length, 4 * 7, 'all + three tiers, seven figures each');
  });

  test('plan: the funnel back-calculated from the goal, with measured rates as defaults, the run rate and the gap', async () => {
    const p = uniqueId('plan');
    const t0 = '2019-03-04T09:00:00Z';
    const t = (plusMs: number) => at(t0, plusMs);
    await insertLead(`${p}-won`, 1, [received(t(0), 1, 'web'), event('accepted', t(HOUR)), event('qualified', t(DAY)), event('closed', t(2 * DAY), { outcome: 'won' })]);
    await insertLead(`${p}-lost`, 1, [received(t(0), 1, 'web'), event('accepted', t(HOUR)), event('qualified', t(DAY)), event('closed', t(2 * DAY), { outcome: 'lost' })]);
    await insertLead(`${p}-sal`, 2, [received(t(0), 2, 'web'), event('accepted', t(HOUR))]);
    await insertLead(`${p}-cold`, 3, [received(t(0), 3, 'web', 'LEAD')]);
    for (const n of [1, 2]) await insertDeal({ dealId: `${p}-deal-${n}`, salesOwnerId: 'rep-anna', csOwnerId: 'cs-rep-1', closedWonAt: t(2 * DAY), milestones: [dossier(DAY)] });
    const window = { from: '2019-03-01', to: '2019-04-01' };

    const measured = await get(`/reports/plan${query({ ...window, revenueGoal: '10000', months: '1' })}`);
    assert.equal(measured.status, 200, measured.text);
    assert.equal(measured.body.currency, 'EUR');
    assert.deepEqual(measured.body.measured.rates, { leadToMql: 0.75, mqlToSal: 1, salToSql: 0.6667, winRate: 0.5 });
    assert.equal(measured.body.measured.averageDealSize, 1000);
    const byStage = (body: { stages: Array<{ stage: string; total: number | null; gapPerMonth: number | null }> }) =>
      Object.fromEntries(body.stages.map((stage) => [stage.stage, stage.total]));
    // 10,000 at 1,000 is 10 deals; at 50 % 20 SQLs; at 66.67 % 30 SALs; all MQLs accepted; 75 % of leads MQL: 40.
    assert.deepEqual(byStage(measured.body), { leads: 40, mqls: 30, sals: 30, sqls: 20, deals: 10 });
    // March has 31 days, 1.0185 months: 2 deals won is 1.96 a month.
    const deals = measured.body.stages.find((stage: { stage: string }) => stage.stage === 'deals');
    assert.deepEqual([deals.perMonth, deals.runRatePerMonth, deals.gapPerMonth], [10, 1.96, 8.04]);

    // Seed 001's own example, every rate given: 134 MQLs a quarter; leads at the measured 75 %.
    const seed = await get(
      `/reports/plan${query({ ...window, revenueGoal: '1000000', months: '3', averageDealSize: '100000', winRate: '0.25', mqlToSal: '1', salToSql: '0.3' })}`,
    );
    assert.equal(seed.status, 200, seed.text);
    assert.deepEqual(byStage(seed.body), { leads: 179, mqls: 134, sals: 134, sqls: 40, deals: 10 });
    assert.equal(seed.body.mqlToSql, 0.3);

    for (const bad of [{ months: '0' }, { months: '1.5' }, { winRate: '1.5' }, { winRate: '0' }, { revenueGoal: undefined }, { revenueGoal: 'lots' }, { currency: 'eur' }]) {
      const answer = await get(`/reports/plan${query({ revenueGoal: '1000', ...bad })}`);
      assert.equal(answer.status, 400, `${JSON.stringify(bad)}: ${answer.text}`);
    }
    assert.equal((await get(`/reports/plan${query({ revenueGoal: '1000' })}`, { role: 'sales' })).status, 403);
  });

  // ---- real lifecycles ----------------------------------------------------------------------------------

  test('real lifecycles on the seconds-scale policy show up in both reports', async () => {
    const from = new Date(Date.now() - MINUTE).toISOString();
    const wonLead = uniqueId('L-won');
    await runStandardLead(service, wonLead);

    const rejected = uniqueId('L-rej');
    const intake = await service.request('POST', '/leads', {
      body: { leadId: rejected, email: `${rejected.toLowerCase()}@example.com`, company: `Company ${rejected}`, icpTier: 3, source: 'webinar', score: { fit: 30, behavior: 10, intent: 5 } },
    });
    assert.equal(intake.status, 201, JSON.stringify(intake.body));
    const routed = await eventually(() => service.request('GET', `/leads/${rejected}`), (r) => r.body.ownerId !== null, 'routing');
    const as = routed.body.ownerId as string;
    assert.equal((await service.request('POST', `/leads/${rejected}/accept`, { as, body: {} })).status, 200);
    assert.equal((await service.request('POST', `/leads/${rejected}/reject`, { as, body: { reason: 'no-budget' } })).status, 200);

    const salesRep = 'rep-anna';
    const dealId = uniqueId('D');
    const now = new Date().toISOString();
    const dealIntake = await service.request('POST', '/deals', {
      body: { dealId, accountName: 'Lifecycle Co', amount: 5000, currency: 'EUR', signedAt: now, closedWonAt: now, salesOwnerId: salesRep },
    });
    assert.equal(dealIntake.status, 201, JSON.stringify(dealIntake.body));
    await eventually(() => service.request('GET', `/deals/${dealId}`), (r) => r.body.csOwnerId !== null, 'the CS owner');
    const delivered = await service.request('POST', `/deals/${dealId}/dossier`, {
      as: salesRep,
      body: {
        businessGoals: ['Faster onboarding'],
        scope: 'Two teams',
        kpis: [{ name: 'TTV', metric: 'days to first value', target: 14, unit: 'days' }],
        stakeholders: [
          { name: 'Ewa', role: 'economic-buyer' },
          { name: 'Jan', role: 'champion' },
        ],
        risks: [],
      },
    });
    assert.equal(delivered.status, 200, JSON.stringify(delivered.body));

    // Nobody holds the kickoff (6 s) or the QBR (12 s): both breach, and the report shows them overdue.
    const range = () => ({ from, to: new Date(Date.now() + MINUTE).toISOString() });
    const handoffs = await eventually(
      () => get(`/reports/handoffs${query({ ...range(), salesOwner: salesRep })}`),
      (r) => r.status === 200 && r.body.deals.length === 1 && r.body.deals[0].milestones.every((m: { status: string }) => m.status !== 'open'),
      'the missed kickoff and QBR in the handoff report',
      30_000,
    );
    const [deal] = handoffs.body.deals;
    assert.equal(deal.dealId, dealId);
    assert.ok(CS_REPS.includes(deal.csOwnerId));
    assert.deepEqual(
      deal.milestones.map((m: { milestone: string; status: string; breached: boolean; ownerId: string }) => [m.milestone, m.status, m.breached, m.ownerId]),
      [
        ['dossier', 'on-time', false, salesRep],
        ['kickoff', 'overdue', true, deal.csOwnerId],
        ['qbr-1', 'overdue', true, deal.csOwnerId],
      ],
    );
    assert.deepEqual(handoffs.body.summary.breachesByOwner.cs, [{ ownerId: deal.csOwnerId, milestones: 2, breaches: 2 }]);
    const byCsOwner = await get(`/reports/handoffs${query({ ...range(), csOwner: deal.csOwnerId })}`);
    assert.ok(byCsOwner.body.deals.some((d: { dealId: string }) => d.dealId === dealId));
    const otherCsOwner = CS_REPS.find((rep) => rep !== deal.csOwnerId)!;
    const byOther = await get(`/reports/handoffs${query({ ...range(), csOwner: otherCsOwner })}`);
    assert.ok(!byOther.body.deals.some((d: { dealId: string }) => d.dealId === dealId));

    const sla = await eventually(
      () => get(`/reports/lead-sla${query(range())}`),
      (r) => r.status === 200 && r.body.conversion.all.won === 1 && r.body.rejections.byReason.length === 1,
      'both leads in the lead SLA report',
    );
    assert.deepEqual([sla.body.conversion.all.mql, sla.body.conversion.all.sal, sla.body.conversion.all.sql, sla.body.conversion.all.won], [2, 2, 1, 1]);
    assert.deepEqual(sla.body.rejections.bySource, [{ source: 'webinar', reason: 'no-budget', count: 1 }]);
    assert.deepEqual(sla.body.rejections.byTier, [{ tier: 3, reason: 'no-budget', count: 1 }]);
    assert.deepEqual(sla.body.attemptsPerLead.all, { leads: 2, attempts: 5, mean: 2.5, median: 2.5 });
    const tier1 = sla.body.speedToLead.byTier[0];
    assert.equal(tier1.metOnTime + tier1.metLate, 1, 'the standard lead met its speed-to-lead clock with its first attempt');
    assert.ok(tier1.medianBusinessMinutes >= 0 && tier1.medianBusinessMinutes < 1, `seconds-scale minutes: ${tier1.medianBusinessMinutes}`);
  });

  test("pipeline hygiene to the present counts an opportunity's next step the moment the API confirms it", async () => {
    const hygiene = async () => {
      const report = await get('/reports/lead-sla');
      assert.equal(report.status, 200, JSON.stringify(report.body));
      return report.body.pipelineHygiene as { openOpportunities: number; withNextStep: number };
    };
    const leadId = uniqueId('L-hyg');
    let as = await intakeRoutedLead(service, leadId);
    const stepAs = async (path: string, body: object) => {
      const answer = await service.request('POST', `/leads/${leadId}/${path}`, { role: 'sales', as, body });
      assert.equal(answer.status, 200, `${path}: ${JSON.stringify(answer.body)}`);
      as = answer.body.ownerId;
    };
    await stepAs('accept', {});
    await stepAs('contact-attempts', { channel: 'phone', outcome: 'connected' });
    await stepAs('qualify', { need: true, budget: true, timing: true });
    const qualified = await hygiene();
    await stepAs('next-step', { dueAt: new Date(Date.now() + DAY).toISOString(), type: 'call' });
    const withStep = await hygiene();
    assert.equal(withStep.openOpportunities, qualified.openOpportunities);
    assert.equal(withStep.withNextStep, qualified.withNextStep + 1);
  });
});
