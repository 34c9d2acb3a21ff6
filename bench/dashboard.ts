import postgres from 'postgres';
import type { BenchContext } from './context.js';
import { roundSummary } from './intake.js';
import { tokenFor } from '../test/support/service.js';
import { random, seedLeadEvents, type SeedResult } from './seed-events.js';
import { now, progress, summarize, type Summary } from './support.js';

/**
 * 7. The management dashboard's pages over a database of N lead events (bench/seed-events.ts, topped up to
 * --events when the report measurement seeded some already) and 10,000 closed-won deals with their
 * milestones spread over the last year. Each page is requested through the app in process as a signed-in
 * manager (session cookie, HTML rendered), p50 of several runs after a warm-up each. The handoff page is
 * timed over the default 90 days and over the whole year (every deal summarised, one page of them listed).
 * The two management reports are timed the same way as the API answers them (a manager's bearer token, the
 * JSON text read, not parsed): GET /reports/handoffs over 90 days and the year (every deal summarised, its first page
 * of 50 listed), GET /reports/lead-sla over 90 days.
 */

export interface DashboardResult {
  how: string;
  seeded: { events: number; eventsSeededHere: SeedResult | null; deals: number; milestones: number };
  pages: Array<{ page: string; path: string; ms: Summary; bytes: number }>;
}

const DAY = 86_400_000;
const DEALS = 10_000;
const SALES = Array.from({ length: 24 }, (_, i) => `rep-${String(i + 1).padStart(2, '0')}`);
const CS = Array.from({ length: 8 }, (_, i) => `cs-${i + 1}`);

/** 10,000 deals won uniformly over [from, to): dossier, kickoff and first QBR, some late, some overdue, some open. */
async function seedDeals(sql: postgres.Sql, prefix: string, from: number, to: number): Promise<{ deals: number; milestones: number }> {
  const rand = random(20261206);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
  let milestones = 0;
  for (let start = 0; start < DEALS; start += 1000) {
    const dealRows = [];
    const milestoneRows = [];
    for (let i = start; i < Math.min(DEALS, start + 1000); i += 1) {
      const dealId = `${prefix}${i}`;
      const won = from + rand() * (to - from);
      const workflowId = `deal-${dealId}`;
      dealRows.push({
        deal_id: dealId,
        workflow_id: workflowId,
        account_name: `Account ${i}`,
        amount: Math.round(5_000 + rand() * 200_000),
        currency: 'EUR',
        sales_owner_id: pick(SALES),
        cs_owner_id: pick(CS),
        stage: 'ONBOARDING',
        handoff_state: 'on-track',
        policy_version: 'bench',
        signed_at: new Date(won),
        closed_won_at: new Date(won),
        last_event_seq: 1,
        created_at: new Date(won),
        updated_at: new Date(won),
      });
      for (const [milestone, kind, dueDays] of [
        ['dossier', 'dossier', 2],
        ['kickoff', 'kickoff', 7],
        ['qbr-1', 'qbr', 90],
      ] as const) {
        const due = won + dueDays * DAY;
        const roll = rand();
        // 70 % on time, 15 % late, the rest not done: overdue once past due, else open.
        const done = roll < 0.7 ? won + rand() * (due - won) : roll < 0.85 ? due + rand() * 3 * DAY : null;
        const doneAt = done !== null && done < Date.now() ? done : null;
        const breached = doneAt !== null ? doneAt > due : due < Date.now();
        milestoneRows.push({
          deal_id: dealId,
          milestone,
          kind,
          workflow_id: workflowId,
          started_at: new Date(won),
          due_at: new Date(due),
          done_at: doneAt === null ? null : new Date(doneAt),
          actor: doneAt === null ? null : 'bench',
          breached,
          business_minutes_taken: doneAt === null ? null : (doneAt - won) / 60_000,
          business_minutes_late: doneAt === null ? null : Math.max(0, (doneAt - due) / 60_000),
          last_event_seq: 1,
          updated_at: new Date(won),
        });
      }
    }
    await sql`insert into deals ${sql(dealRows)}`;
    await sql`insert into deal_milestones ${sql(milestoneRows)}`;
    milestones += milestoneRows.length;
  }
  return { deals: DEALS, milestones };
}

/** A manager's session cookie, obtained the way a browser gets it. */
async function signIn(ctx: BenchContext): Promise<string> {
  const response = await ctx.service.app.request('http://bench.local/dashboard/sign-in', {
    method: 'POST',
    headers: { origin: 'http://bench.local', host: 'bench.local', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: 'token-manager', next: '/dashboard/handoffs' }).toString(),
  });
  const cookie = response.headers.get('set-cookie');
  if (response.status !== 303 || !cookie) throw new Error(`dashboard sign-in answered ${response.status}`);
  return cookie.split(';')[0]!;
}

export async function measureDashboard(ctx: BenchContext): Promise<DashboardResult> {
  const runs = ctx.options.quick ? 3 : 5;
  const sql = postgres(ctx.service.database.url, { max: 1, onnotice: () => {} });
  try {
    const to = Date.now();
    const from = to - 365 * DAY;
    const [{ count: present } = { count: 0 }] = await sql<Array<{ count: number }>>`select count(*)::int as count from lead_events`;
    const missing = ctx.options.events - present;
    let eventsSeededHere: SeedResult | null = null;
    if (missing > 1000) {
      progress(`dashboard: seeding ${missing} lead events (bench/seed-events.ts) on top of the ${present} there`);
      eventsSeededHere = await seedLeadEvents(sql, { events: missing, prefix: `dash-${ctx.runId}-`, from: new Date(from), to: new Date(to), seed: 20261206 });
    }
    progress(`dashboard: seeding ${DEALS} deals with their milestones`);
    const deals = await seedDeals(sql, `dash-${ctx.runId}-`, from, to);
    await sql`analyze`;
    const [{ count: events } = { count: 0 }] = await sql<Array<{ count: number }>>`select count(*)::int as count from lead_events`;

    const cookie = await signIn(ctx);
    const yearAgo = new Date(from).toISOString().slice(0, 10);
    const tomorrow = new Date(to + DAY).toISOString().slice(0, 10);
    const pages = [
      { page: 'Handoff timelines (90 days)', path: '/dashboard/handoffs' },
      { page: `Handoff timelines (365 days, all ${DEALS.toLocaleString('en-US')} deals)`, path: `/dashboard/handoffs?from=${yearAgo}&to=${tomorrow}` },
      { page: 'Lead SLA (90 days, weekly)', path: '/dashboard/lead-sla' },
      { page: 'Funnel (90 days, weekly)', path: '/dashboard/funnel' },
      { page: 'Planner (measured over 90 days)', path: '/dashboard/planner?revenueGoal=1000000&months=3' },
      { page: 'API GET /reports/handoffs (90 days, about 2,500 deals summarised, 50 listed)', path: '/reports/handoffs', api: true },
      { page: `API GET /reports/handoffs (365 days, all ${DEALS.toLocaleString('en-US')} deals summarised, 50 listed)`, path: `/reports/handoffs?from=${yearAgo}&to=${tomorrow}`, api: true },
      { page: 'API GET /reports/lead-sla (90 days)', path: '/reports/lead-sla', api: true },
    ];
    const results: DashboardResult['pages'] = [];
    for (const { page, path, api } of pages) {
      let bytes = 0;
      const headers: Record<string, string> = api ? { authorization: `Bearer ${tokenFor('manager')}`, host: 'bench.local' } : { cookie, host: 'bench.local' };
      const get = async () => {
        const response = await ctx.service.app.request(`http://bench.local${path}`, { headers });
        const body = await response.text();
        if (response.status !== 200) throw new Error(`${path} answered ${response.status}: ${body.slice(0, 300)}`);
        bytes = body.length;
      };
      await get();
      const samples: number[] = [];
      for (let i = 0; i < runs; i += 1) {
        const t0 = now();
        await get();
        samples.push(now() - t0);
      }
      const ms = roundSummary(summarize(samples));
      progress(`dashboard: ${page}: p50 ${ms.p50} ms (${(bytes / 1024).toFixed(0)} KiB)`);
      results.push({ page, path, ms, bytes });
    }
    return {
      how: `p50 of ${runs} requests after one warm-up each, in process (app.request) with a manager's session cookie, HTML rendered (the API's reports with a manager's token, JSON text read); lead events spread over 365 days`,
      seeded: { events, eventsSeededHere, ...deals },
      pages: results,
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}
