import './quiet-logs.js';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { temporalCliPath } from '../worker/temporal-binaries.js';
import { adminDatabaseUrl } from '../test/support/database.js';
import { createBenchContext, type BenchContext, type BenchOptions } from './context.js';
import { measureCost } from './cost.js';
import { measureDashboard } from './dashboard.js';
import { measureIntake } from './intake.js';
import { measureLatency } from './latency.js';
import { measureMemory } from './memory.js';
import { renderMarkdown, type BenchResult } from './report.js';
import { measureReplay } from './replay.js';
import { measureReports } from './reports.js';
import { measureSimulate } from './simulate.js';
import { measureStorm } from './storm.js';
import { progress } from './support.js';

/**
 * `npm run bench` (tsx bench/run.ts): measures the service next to raw Temporal on one dev server and one
 * Postgres database it starts itself, and writes bench/results/<timestamp>.json and .md. Asserts nothing.
 *
 *   --quick             small sizes everywhere (a few minutes on 2 cores)
 *   --leads N           timer storm size (default 10000; quick 300)
 *   --events N          lead events seeded for the report queries (default 1000000; quick 50000)
 *   --only a,b          run only these: cost, intake, latency, storm, memory, reports, dashboard, simulate, replay
 *   --intake N          intake requests per side and round (default 2000; quick 100)
 *   --samples N         step latency samples per side and round (default 300; quick 40)
 *   --rounds N          rounds of intake and step latency, sides alternating (default 3)
 *   --memory-workflows N  open workflows in the memory worker (default 1000; quick 100)
 *   --concurrency N     in-flight requests for intake and starts (default 20)
 */

const MEASUREMENTS = ['cost', 'intake', 'latency', 'storm', 'memory', 'reports', 'dashboard', 'simulate', 'replay'] as const;
type MeasurementName = (typeof MEASUREMENTS)[number];

function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      leads: { type: 'string' },
      events: { type: 'string' },
      only: { type: 'string' },
      intake: { type: 'string' },
      samples: { type: 'string' },
      rounds: { type: 'string' },
      'memory-workflows': { type: 'string' },
      concurrency: { type: 'string' },
    },
  });
  const quick = values.quick ?? false;
  const number = (name: string, value: string | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name} needs a whole number ≥ 1, got ${value}`);
    return parsed;
  };
  const only = values.only ? new Set(values.only.split(',').map((name) => name.trim()).filter(Boolean)) : null;
  for (const name of only ?? []) {
    if (!(MEASUREMENTS as readonly string[]).includes(name)) throw new Error(`--only: unknown measurement "${name}"; known: ${MEASUREMENTS.join(', ')}`);
  }
  return {
    quick,
    leads: number('leads', values.leads, quick ? 300 : 10_000),
    events: number('events', values.events, quick ? 50_000 : 1_000_000),
    intake: number('intake', values.intake, quick ? 100 : 2_000),
    latencySamples: number('samples', values.samples, quick ? 40 : 300),
    rounds: number('rounds', values.rounds, 3),
    memoryWorkflows: number('memory-workflows', values['memory-workflows'], quick ? 100 : 1_000),
    concurrency: number('concurrency', values.concurrency, 20),
    only,
  };
}

async function versions(): Promise<{ temporal: string; postgres: string }> {
  let temporal = 'temporal CLI (version unknown)';
  try {
    temporal = execFileSync(temporalCliPath() ?? 'temporal', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // keep the placeholder
  }
  let server = 'Postgres (version unknown)';
  const sql = postgres(adminDatabaseUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql`show server_version`;
    server = `Postgres ${row?.server_version as string}`;
  } catch {
    // keep the placeholder
  } finally {
    await sql.end({ timeout: 5 });
  }
  return { temporal, postgres: server };
}

/** The notifier logs every notification on stdout; the table must stay readable, so they are counted instead. */
function muteNotificationLog(): () => number {
  let muted = 0;
  const log = console.log;
  console.log = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('[notify]')) {
      muted += 1;
      return;
    }
    log(...args);
  };
  return () => muted;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const wanted = (name: MeasurementName) => options.only === null || options.only.has(name);
  const started = new Date();
  const runId = randomBytes(3).toString('hex');
  const mutedNotifications = muteNotificationLog();
  progress(`run ${runId}: ${options.quick ? 'quick' : 'full'} — ${JSON.stringify({ ...options, only: options.only ? [...options.only] : 'all' })}`);

  const result: BenchResult = {
    startedAt: started.toISOString(),
    finishedAt: '',
    durationSeconds: 0,
    machine: {
      cpus: cpus().length,
      memoryGiB: Math.round(totalmem() / 1024 ** 3),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      ...(await versions()),
    },
    options: { ...options, only: options.only ? [...options.only] : 'all' },
    measurements: {},
    errors: {},
    load: {},
    notes: [],
  };

  let ctx: BenchContext | undefined;
  try {
    ctx = await createBenchContext(options, runId);
    const context = ctx;
    const step = async <K extends MeasurementName>(name: K, run: () => Promise<NonNullable<BenchResult['measurements'][K]>>) => {
      if (!wanted(name)) return;
      const t0 = Date.now();
      const before = loadavg()[0]!;
      progress(`— ${name} —`);
      try {
        result.measurements[name] = await run();
        progress(`${name}: done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      } catch (error) {
        result.errors[name] = String((error as Error).stack ?? error);
        progress(`${name}: FAILED: ${(error as Error).message}`);
      }
      result.load[name] = { before: Math.round(before * 100) / 100, after: Math.round(loadavg()[0]! * 100) / 100 };
    };
    // Replay first, while no other work runs in this process: it times the process's own CPU.
    await step('replay', () => measureReplay(context));
    // Cost next: its escalated lead runs on second-scale timers and should not share the machine with a backlog.
    await step('cost', () => measureCost(context));
    await step('intake', () => measureIntake(context));
    await step('latency', () => measureLatency(context));
    // Reports before the storm: the dev server keeps closing and cleaning up the storm's 20,000 workflows for
    // minutes after it, and that CPU would otherwise be timed as query time.
    // Backtesting before the report seeding: its window then holds only its own quarter of leads.
    await step('simulate', () => measureSimulate(context));
    await step('reports', () => measureReports(context));
    await step('dashboard', () => measureDashboard(context));
    await step('storm', () =>
      measureStorm(context, {
        rawProcessedPerSecond: result.measurements.intake?.raw.processedPerSecond.median,
        leadsProcessedPerSecond: result.measurements.intake?.service.processedPerSecond.median,
      }),
    );
    await step('memory', () => measureMemory(context));
    result.notes.push(...context.notes);
  } catch (error) {
    result.errors.setup = String((error as Error).stack ?? error);
    progress(`setup FAILED: ${(error as Error).message}`);
  } finally {
    if (ctx) {
      progress('stopping the service and dropping the bench database');
      await ctx.stop().catch((error: unknown) => progress(`stop: ${(error as Error).message}`));
    }
  }

  const finished = new Date();
  result.finishedAt = finished.toISOString();
  result.durationSeconds = Math.round((finished.getTime() - started.getTime()) / 1000);
  if (mutedNotifications() > 0) result.notes.push(`${mutedNotifications()} notifier log lines ("[notify] …" on stdout) were suppressed during the run`);

  const directory = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(directory, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const markdown = renderMarkdown(result);
  writeFileSync(`${directory}${stamp}.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(`${directory}${stamp}.md`, markdown);
  process.stdout.write(`\n${markdown}\nwritten: bench/results/${stamp}.json and bench/results/${stamp}.md (${result.durationSeconds} s)\n`);
  if (Object.keys(result.errors).length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
