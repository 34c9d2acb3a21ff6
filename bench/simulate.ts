import postgres from 'postgres';
import { createPolicyStore, PolicyVersionConflictError } from '../db/policy-store.js';
import { runSimulation, type SimulationAnswer } from '../api/simulation.js';
import type { PolicyInput } from '../domain/policy.js';
import { defaultPolicyDocument } from '../test/support/policies.js';
import type { BenchContext } from './context.js';
import { seedLeadEvents, type SeedResult } from './seed-events.js';
import { now, progress, round, summarize, throttledProgress, type Summary } from './support.js';

/**
 * 8. Policy backtesting (POST /policies/simulate's engine, api/simulation.ts runSimulation): a quarter of
 * 10,000 leads' recorded history seeded into Postgres (bench/seed-events.ts), then the whole simulation timed:
 * reading the window from the audit, resolving the versions, replaying every lead against a candidate and
 * again under its recorded policy (the reproduction check). Target (issue 15): at most 10 s.
 *
 * The seeded history is synthetic (seed-events.ts writes audit rows directly, not through workflows), so its
 * reproduction count says how far that generator is from the workflow's rules, not how faithful the replay is:
 * that is test/workflows/simulation-equals-history.test.ts's job.
 */

export interface SimulateResult {
  how: string;
  seeded: SeedResult;
  window: { from: string; to: string; days: number };
  /** End to end: load + resolve + replay (candidate and reproduction). */
  simulateMs: Summary;
  /** One run with the phases apart. */
  phasesMs: { load: number; replay: number };
  leads: number;
  deals: number;
  changes: number;
  reproductionMismatches: number | null;
  targetMs: number;
}

const DAY = 86_400_000;
const LEADS = 10_000;
const QUARTER_DAYS = 91;
const RECORDED_VERSION = 'seeded';

/** The rules the seeder's history follows most closely: wall-clock allowances of 15 min / 4 h / 1 day on an always-open calendar. */
function seededRules(version: string): PolicyInput {
  const document = defaultPolicyDocument();
  const allDay = [{ start: '00:00', end: '24:00' }];
  return {
    ...document,
    version,
    calendars: {
      'always-open': { id: 'always-open', timeZone: 'UTC', workingHours: Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((day) => [day, allDay])) },
    },
    defaultCalendarId: 'always-open',
    speedToLead: {
      metBy: 'first-attempt',
      tier1: { amount: 15, unit: 'minutes', clock: 'wall' },
      tier2: { amount: 4, unit: 'hours', clock: 'wall' },
      tier3: { amount: 1, unit: 'days', clock: 'wall' },
    },
    segments: {},
    queues: {},
  };
}

export async function measureSimulate(ctx: BenchContext): Promise<SimulateResult> {
  const { db } = ctx.service.database;
  const store = createPolicyStore(db);
  try {
    await store.publish({ document: seededRules(RECORDED_VERSION), author: 'bench', note: 'the rules the seeded history ran under' });
  } catch (error) {
    if (!(error instanceof PolicyVersionConflictError)) throw error;
  }
  // A quarter outside the reports' last 90 days, so a full run's report figures are not moved by these leads.
  const to = new Date(Date.now() - 110 * DAY);
  const from = new Date(to.getTime() - QUARTER_DAYS * DAY);
  const sql = postgres(ctx.service.database.url, { max: 1, onnotice: () => {} });
  let seeded: SeedResult;
  try {
    progress(`simulate: seeding ${LEADS.toLocaleString('en-US')} leads' history over ${QUARTER_DAYS} days (bench/seed-events.ts)`);
    seeded = await seedLeadEvents(sql, { events: 0, leads: LEADS, prefix: `sim-${ctx.runId}-`, from, to, seed: 20261206, onProgress: throttledProgress('seeding lead events', LEADS * 8) });
  } finally {
    await sql.end({ timeout: 5 });
  }
  progress(`simulate: seeded ${seeded.events} events for ${seeded.leads} leads in ${seeded.seconds.toFixed(1)} s`);

  // The candidate: Tier 1 in 10 minutes, Tier 2 in 2 hours.
  const candidate = seededRules('candidate-faster');
  candidate.speedToLead = { ...candidate.speedToLead, tier1: { amount: 10, unit: 'minutes', clock: 'wall' }, tier2: { amount: 2, unit: 'hours', clock: 'wall' } };
  const request = { policy: candidate, from, to: new Date(to.getTime() + DAY), sample: 20 };

  const runs = ctx.options.quick ? 2 : 3;
  let last: SimulationAnswer = await runSimulation(db, store, request); // warm-up: plans cached, pages in memory
  const samples: number[] = [];
  const phases = { load: 0, replay: 0 };
  for (let i = 0; i < runs; i += 1) {
    let loaded = 0;
    const t0 = now();
    last = await runSimulation(db, store, {
      ...request,
      onProgress: (_done, _total, phase) => {
        if (phase === 'replaying' && loaded === 0) loaded = now();
      },
    });
    const t1 = now();
    samples.push(t1 - t0);
    if (loaded > 0) {
      phases.load = round(loaded - t0, 0);
      phases.replay = round(t1 - loaded, 0);
    }
    progress(`simulate: run ${i + 1}/${runs}: ${(samples.at(-1)! / 1000).toFixed(2)} s for ${last.recorded.leads} leads`);
  }
  return {
    how: `p50 of ${runs} runs after one warm-up, in process (runSimulation: the audit read through the service's pool, replay in pure code); candidate: Tier 1 10 min, Tier 2 2 h`,
    seeded,
    window: { from: from.toISOString(), to: request.to.toISOString(), days: QUARTER_DAYS },
    simulateMs: summarize(samples),
    phasesMs: phases,
    leads: last.recorded.leads,
    deals: last.recorded.deals,
    changes: last.changes.count,
    reproductionMismatches: last.reproduction?.mismatches ?? null,
    targetMs: 10_000,
  };
}
