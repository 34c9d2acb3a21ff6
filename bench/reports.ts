import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import type { BenchContext } from './context.js';
import { roundSummary } from './intake.js';
import { leadSlaReport, plainSqlLeadSlaReport } from './report-query.js';
import type { SeedResult } from './seed-events.js';
import { firstDifference, now, progress, round, summarize, type Summary } from './support.js';

/**
 * 6. Report query time over N seeded lead events (bench/seed-events.ts): the management report — through
 * GET /reports/lead-sla if the API has it, otherwise the bench's own SQL stand-in (bench/report-query.ts) —
 * vs the same question in plain SQL over the events (report-query.ts plainSqlLeadSlaReport: the report's raw
 * statement, db/reports.ts rawLeadSlaQuery, over facts derived at query time; no rollup). Median of several
 * runs after one warm-up run each.
 */

export interface ReportsResult {
  how: string;
  seeded: SeedResult;
  window: { from: string; to: string; days: number };
  /** What "report" was: the API endpoint, or the bench's SQL stand-in. */
  report: 'GET /reports/lead-sla (in-process app.request)' | 'bench SQL stand-in (bench/report-query.ts), no report endpoint in api/';
  reportMs: Summary;
  /** The same report in plain SQL over lead_events + leads, no write-time facts. */
  plainSqlMs: Summary;
  /** Whether the plain-SQL answer equals the endpoint's (null: no endpoint to compare with). */
  sameAnswer: boolean | null;
  /** The bench's single-statement SQL stand-in, timed too as a reference point when the endpoint exists. */
  standInMs: Summary | null;
  /** report p50 ÷ plain-SQL p50. */
  ratio: number;
  reportRows: unknown;
}

const DAY = 24 * 60 * 60 * 1000;
const WINDOW_DAYS = 90;

async function timed(runs: number, run: () => Promise<unknown>): Promise<{ samples: number[]; last: unknown }> {
  let last = await run(); // warm-up: plans cached, pages in memory
  const samples: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const t0 = now();
    last = await run();
    samples.push(now() - t0);
  }
  return { samples, last };
}

export async function measureReports(ctx: BenchContext): Promise<ReportsResult> {
  const total = ctx.options.events;
  // Enough runs for a steady median: a report is tens of milliseconds, and one garbage collection in the API process is ten.
  const runs = ctx.options.quick ? 3 : 21;
  const sql = postgres(ctx.service.database.url, { max: 1, onnotice: () => {} });
  try {
    progress(`report queries: seeding ${total} lead events (COPY, bench/seed-events.ts, in a child process)`);
    const seeded = await seedInChildProcess(ctx.service.database.url, total, `seed-${ctx.runId}-`);
    const to = new Date();
    progress(`report queries: seeded ${seeded.events} events for ${seeded.leads} leads in ${seeded.seconds.toFixed(1)} s`);

    const windowFrom = new Date(to.getTime() - WINDOW_DAYS * DAY);
    const windowTo = new Date(to.getTime() + DAY);
    const endpoint = await reportEndpoint(ctx, windowFrom, windowTo);
    progress(`report queries: timing ${endpoint ? 'GET /reports/lead-sla' : 'the bench SQL stand-in'} and the same report in plain SQL over ${WINDOW_DAYS} days, ${runs} runs each`);
    const reportRun = await timed(runs, endpoint ?? (() => leadSlaReport(sql, windowFrom, windowTo)));
    const plain = await plainSqlLeadSlaReport(ctx.service.database.url);
    const plainRun = await timed(runs, () => plain.run({ from: windowFrom, to: windowTo })).finally(() => plain.close());
    const standIn = endpoint ? await timed(runs, () => leadSlaReport(sql, windowFrom, windowTo)) : null;
    const reportMs = roundSummary(summarize(reportRun.samples));
    const plainSqlMs = roundSummary(summarize(plainRun.samples));
    // The endpoint answers JSON and adds the range it read: compare the report's own sections, as serialised.
    const plainAnswer = JSON.parse(JSON.stringify(plainRun.last)) as Record<string, unknown>;
    const endpointAnswer = Object.fromEntries(Object.keys(plainAnswer).map((key) => [key, (reportRun.last as Record<string, unknown>)[key]]));
    const difference = endpoint ? firstDifference(endpointAnswer, plainAnswer) : null;
    const sameAnswer = endpoint ? difference === null : null;
    if (difference) ctx.notes.push(`report queries: the plain-SQL baseline answered differently from GET /reports/lead-sla (endpoint vs plain SQL at ${difference}); its time is not comparable`);
    return {
      how: `p50 of ${runs} runs after one warm-up, one connection; seeded rows spread over 365 days, report window the last ${WINDOW_DAYS} days`,
      seeded,
      window: { from: windowFrom.toISOString(), to: windowTo.toISOString(), days: WINDOW_DAYS },
      report: endpoint ? 'GET /reports/lead-sla (in-process app.request)' : 'bench SQL stand-in (bench/report-query.ts), no report endpoint in api/',
      reportMs,
      plainSqlMs,
      sameAnswer,
      standInMs: standIn ? roundSummary(summarize(standIn.samples)) : null,
      ratio: round(reportMs.p50 / plainSqlMs.p50, 2),
      reportRows: reportRun.last,
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** GET /reports/lead-sla through the app if the API serves it (probed: 404 "no route" means it does not). */
async function reportEndpoint(ctx: BenchContext, from: Date, to: Date): Promise<(() => Promise<unknown>) | null> {
  const query = `?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`;
  for (const path of [`/reports/lead-sla${query}`, '/reports/lead-sla']) {
    const probe = await ctx.api('GET', path, undefined, 'manager');
    if (probe.status === 404 && String(probe.body?.message ?? '').startsWith('no route')) return null;
    if (probe.status === 200) {
      return async () => {
        const response = await ctx.api('GET', path, undefined, 'manager');
        if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}`);
        return response.body;
      };
    }
  }
  ctx.notes.push('report queries: GET /reports/lead-sla exists but did not answer 200 to the bench probe; timed the SQL stand-in instead');
  return null;
}

/**
 * Seeds in a child process (bench/seed-events.ts's command line), so the API under test, which runs in this
 * process, keeps the heap a live API has, not the garbage of a million generated events. Leads arrive over the
 * 365 days before now.
 */
async function seedInChildProcess(databaseUrl: string, events: number, prefix: string): Promise<SeedResult> {
  const script = fileURLToPath(new URL('./seed-events.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, '--database-url', databaseUrl, '--events', String(events), '--prefix', prefix, '--days', '365'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) progress(line);
  });
  const code = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('exit', resolve));
  if (code !== 0) throw new Error(`seeding the report's events exited with ${code}`);
  return JSON.parse(output) as SeedResult;
}
