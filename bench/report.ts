import type { CostResult } from './cost.js';
import type { IntakeResult } from './intake.js';
import type { LatencyResult } from './latency.js';
import type { MemoryResult } from './memory.js';
import type { ReportsResult } from './reports.js';
import type { DashboardResult } from './dashboard.js';
import type { ReplayResult } from './replay.js';
import type { SimulateResult } from './simulate.js';
import type { StickyTimeouts, StormResult } from './storm.js';
import type { Spread } from './support.js';

/** The result file's shape, and its rendering as a short markdown table. */

export interface BenchResult {
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  machine: { cpus: number; memoryGiB: number; node: string; platform: string; temporal: string; postgres: string };
  options: Record<string, unknown>;
  measurements: {
    cost?: CostResult;
    intake?: IntakeResult;
    latency?: LatencyResult;
    storm?: StormResult;
    memory?: MemoryResult;
    reports?: ReportsResult;
    dashboard?: DashboardResult;
    simulate?: SimulateResult;
    replay?: ReplayResult;
  };
  errors: Record<string, string>;
  /** 1-minute load average when each measurement started and ended: other work on the machine shows here. */
  load: Record<string, { before: number; after: number }>;
  notes: string[];
}

const fmt = (value: number | undefined, digits = 1): string => {
  if (value === undefined || !Number.isFinite(value)) return '—';
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(digits).replace(/\.0+$/, '');
};
const x = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? '—' : `${value.toFixed(2)}×`);
/** Median of the rounds, with their min–max. */
const fmtSpread = (value: Spread, digits = 1): string => `${fmt(value.median, digits)} (${fmt(value.min, digits)}–${fmt(value.max, digits)})`;
const xSpread = (value: Spread): string => `${x(value.median)} (${x(value.min)}–${x(value.max)})`;
const stickyNote = (timeouts: StickyTimeouts | undefined): string => (timeouts ? `${timeouts.workflowsWithTimeout}/${timeouts.sampled}` : '—');

export function renderMarkdown(result: BenchResult): string {
  const { cost, intake, latency, storm, memory, reports, dashboard, simulate, replay } = result.measurements;
  const rows: string[][] = [];
  if (intake) {
    rows.push([
      `Intake, accepted (leads/s, concurrency ${intake.concurrency}, n=${intake.service.count} × ${intake.rounds} rounds; median (min–max))`,
      fmtSpread(intake.service.acceptedPerSecond),
      fmtSpread(intake.raw.acceptedPerSecond),
      xSpread(intake.acceptedRatio),
      'POST /leads in process vs client.workflow.start with the same payload; sides alternate',
    ]);
    rows.push([
      'Intake, processed (leads/s until routed + audited)',
      fmtSpread(intake.service.processedPerSecond),
      fmtSpread(intake.raw.processedPerSecond),
      xSpread(intake.processedRatio),
      'raw: until the minimal workflow completed',
    ]);
    const cpu = (side: typeof intake.service) =>
      `${fmt(side.cpuPerLeadMs.totalMs.median)} (${fmt(side.cpuPerLeadMs.temporalMs.median)} + ${fmt(side.cpuPerLeadMs.processMs.median)} + ${fmt(side.cpuPerLeadMs.postgresMs.median)})`;
    rows.push([
      'Intake, CPU per lead until processed (ms: all = Temporal server + API and workers + Postgres; medians)',
      cpu(intake.service),
      cpu(intake.raw),
      xSpread(intake.cpuRatio),
      'ratio: service ÷ raw (above 1: the service costs more); from /proc, bench/cpu.ts',
    ]);
  }
  if (latency) {
    const comparisons = [
      {
        measured: (p: string) => `Step round trip ${p} (ms, n=${latency.samples} × ${latency.rounds} rounds)`,
        side: latency.perRound.service,
        baseline: latency.perRound.raw,
        ratio: latency.ratio,
        note: 'POST /leads/{id}/contact-attempts vs bare raw update',
      },
      {
        measured: (p: string) => `Step round trip ${p} vs raw update + durable write (ms)`,
        side: latency.perRound.service,
        baseline: latency.perRound.rawDurable,
        ratio: latency.ratioDurable,
        note: 'raw handler awaits an activity that commits one lead_events row',
      },
      {
        measured: (p: string) => `Step round trip ${p} vs raw update + the same write as a local activity (ms)`,
        side: latency.perRound.service,
        baseline: latency.perRound.rawLocalDurable,
        ratio: latency.ratioLocalDurable,
        note: 'raw handler awaits a local activity that commits one lead_events row, as the step commits its audit',
      },
      {
        measured: (p: string) => `Step round trip ${p} through the API vs the same update from the service's client (ms)`,
        side: latency.perRound.service,
        baseline: latency.perRound.serviceDirect,
        ratio: latency.ratioApi,
        note: "the API's share: authentication, validation, the request's fingerprint",
      },
      {
        measured: (p: string) => `The step's update from the service's client ${p} vs raw update + the same write as a local activity (ms)`,
        side: latency.perRound.serviceDirect,
        baseline: latency.perRound.rawLocalDurable,
        ratio: latency.directToLocalDurable,
        note: "the workflow task's share: encrypted payloads, the audit's projection and report facts, the step engine",
      },
      {
        measured: (p: string) => `Raw update + a local activity doing nothing, ${p} (ms)`,
        side: latency.perRound.rawLocalNothing,
        baseline: latency.perRound.raw,
        ratio: latency.localNothingToBare,
        note: 'the floor of a step that commits before it answers, against the bare update',
      },
    ];
    for (const { measured, side, baseline, ratio, note } of comparisons) {
      for (const p of ['p50', 'p95', 'p99'] as const) {
        rows.push([measured(p), fmtSpread(side[p]), fmtSpread(baseline[p]), xSpread(ratio[p]), p === 'p50' ? note : '']);
      }
    }
  }
  if (cost) {
    for (const lifecycle of cost.lifecycles) {
      rows.push([
        `Actions per ${lifecycle.lifecycle}`,
        `${lifecycle.billed.total} = ${lifecycle.billed.inHistory} in history + ${lifecycle.billed.outsideHistory.queries} queries + ${lifecycle.billed.outsideHistory.rejectedUpdates} rejected updates ($${lifecycle.dollarsPerLifecycle.toFixed(5)})`,
        '—',
        '',
        // The queries are the driving scenario's reads (its polling included), so they depend on how it waits.
        `${lifecycle.actions.historyEvents} history events; ${kinds(lifecycle.actions.byKind)}; queries are the scenario's GET reads and intake conflicts`,
      ]);
    }
    for (const pending of cost.pending) rows.push([`Actions per ${pending.lifecycle}`, 'TODO', '—', '', pending.reason]);
  }
  if (storm) {
    rows.push([
      `Timer storm, deadline → all done (s, n=${storm.service.n})`,
      fmt(storm.service.seconds, 2),
      fmt(storm.raw.seconds, 2),
      x(storm.durationRatio),
      `p50 lag ${fmt(storm.service.lagMs.p50)} ms vs ${fmt(storm.raw.lagMs.p50)} ms; cached at the deadline ${storm.service.cachedAtDeadline} vs ${storm.raw.cachedAtDeadline} workflows; ${stickyNote(storm.service.stickyTimeouts)} vs ${stickyNote(storm.raw.stickyTimeouts)} workflows sampled had a task time out on the sticky queue (${fmt(storm.stickyQueueTimeoutMs / 1000)} s) after the instant (replayed from their whole history); default policy's timers, due-soon mark fired for ${storm.service.dueSoonMarked}/${storm.service.n}`,
    ]);
    rows.push([
      'Timer storm throughput (workflows/s)',
      fmt(storm.service.perSecond),
      fmt(storm.raw.perSecond),
      x(storm.service.perSecond / storm.raw.perSecond),
      `breach + escalation audited vs one activity; timers set before the deadline ${storm.service.readyBeforeDeadline}/${storm.service.n} vs ${storm.raw.readyBeforeDeadline}/${storm.raw.n}`,
    ]);
    const stormCpu = (side: StormResult['service'] | StormResult['raw']) => {
      const cpu = side.cpuPerWorkflowMs;
      return `${fmt(cpu.totalMs)} (${fmt(cpu.temporalMs)} + ${fmt(cpu.processMs)} + ${fmt(cpu.postgresMs)})`;
    };
    rows.push([
      'Timer storm CPU per workflow, deadline → all done (ms): all (Temporal server + API and workers + Postgres)',
      stormCpu(storm.service),
      stormCpu(storm.raw),
      x(storm.service.cpuPerWorkflowMs.totalMs / storm.raw.cpuPerWorkflowMs.totalMs),
      'from /proc, bench/cpu.ts: one escalation against one raw timer and activity',
    ]);
  }
  if (memory) {
    rows.push([
      `Worker rss per open workflow (KiB, n=${memory.service.workflows})`,
      fmt(memory.service.perWorkflowKiB.rss),
      fmt(memory.raw.perWorkflowKiB.rss),
      x(memory.rssRatio),
      `idle worker rss ${fmt(memory.service.baselineMiB.rss)} MiB (lead) / ${fmt(memory.raw.baselineMiB.rss)} MiB (raw)`,
    ]);
    rows.push([
      'Worker heap per open workflow (KiB)',
      fmt(memory.service.perWorkflowKiB.heapUsed),
      fmt(memory.raw.perWorkflowKiB.heapUsed),
      x(memory.service.perWorkflowKiB.heapUsed / memory.raw.perWorkflowKiB.heapUsed),
      'debugMode: sandbox heap on the main thread',
    ]);
  }
  if (reports) {
    rows.push([
      `Lead SLA report p50 (ms, ${reports.seeded.events.toLocaleString('en-US')} events)`,
      fmt(reports.reportMs.p50),
      fmt(reports.plainSqlMs.p50),
      x(reports.ratio),
      `${reports.report.startsWith('GET') ? 'GET /reports/lead-sla' : 'bench SQL stand-in'} vs the report's raw statement (no rollup) over facts derived from the events in plain SQL${reports.sameAnswer === null ? '' : reports.sameAnswer ? ' (same answer)' : ' (DIFFERENT answer)'}; last ${reports.window.days} days`,
    ]);
    if (reports.standInMs) {
      rows.push([
        'Bench SQL stand-in report p50 (ms), for reference',
        fmt(reports.standInMs.p50),
        '—',
        '',
        'one older statement over lead_events (bench/report-query.ts), a nearby question: wall-clock minutes, no window-edge rules',
      ]);
    }
  }
  if (dashboard) {
    for (const page of dashboard.pages) {
      rows.push([
        `${page.path.startsWith('/reports/') ? '' : 'Dashboard: '}${page.page}, p50 (ms)`,
        fmt(page.ms.p50),
        '—',
        '',
        `${dashboard.seeded.events.toLocaleString('en-US')} lead events, ${dashboard.seeded.deals.toLocaleString('en-US')} deals; ${(page.bytes / 1024).toFixed(0)} KiB of ${page.path.startsWith('/reports/') ? 'JSON' : 'HTML'}; max ${fmt(page.ms.max)} ms`,
      ]);
    }
  }

  if (simulate) {
    rows.push([
      `Policy simulation p50 (ms, ${simulate.leads.toLocaleString('en-US')} leads over ${simulate.window.days} days)`,
      fmt(simulate.simulateMs.p50),
      `target ≤ ${fmt(simulate.targetMs)}`,
      x(simulate.simulateMs.p50 / simulate.targetMs),
      `read ${fmt(simulate.phasesMs.load)} ms + replay ${fmt(simulate.phasesMs.replay)} ms (candidate and reproduction); ${simulate.seeded.events.toLocaleString('en-US')} seeded events; ${simulate.changes} leads would change; synthetic history: ${simulate.reproductionMismatches ?? '—'} reproduction mismatches against the seeder's own rules`,
    ]);
  }

  if (replay) {
    for (const [name, cpu] of Object.entries(replay.cpuMsPerLifecycle)) {
      rows.push([
        `Workflow CPU per replayed lifecycle, ${name} (ms, ${cpu.events} history events; median (min–max))`,
        fmtSpread(cpu, 2),
        '—',
        '',
        `${replay.replays} replays per round, ${cpu.rounds.length} rounds, in the bench process: what the workflow code costs the worker`,
      ]);
    }
  }

  const header = ['measurement', 'service', 'raw Temporal / baseline', 'ratio', 'notes'];
  const lines = [
    `## RevOps Orchestrator benchmark — ${result.startedAt}`,
    '',
    `One run on ${result.machine.cpus} cores, ${result.machine.memoryGiB} GiB, Node ${result.machine.node}, ${result.machine.temporal}, ${result.machine.postgres}; ${fmt(result.durationSeconds, 0)} s in all. Options: ${JSON.stringify(result.options)}.`,
    '',
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ];
  const load = Object.entries(result.load);
  if (load.length > 0) {
    lines.push('', `1-minute load average (before → after) on ${result.machine.cpus} cores: ${load.map(([name, { before, after }]) => `${name} ${before.toFixed(1)} → ${after.toFixed(1)}`).join(', ')}.`);
  }
  const errors = Object.entries(result.errors);
  if (errors.length > 0) lines.push('', '**Failed measurements**', ...errors.map(([name, message]) => `- ${name}: ${message.split('\n')[0]}`));
  if (result.notes.length > 0) lines.push('', '**Notes**', ...result.notes.map((note) => `- ${note}`));
  return `${lines.join('\n')}\n`;
}

function kinds(byKind: object): string {
  return Object.entries(byKind as Record<string, number>)
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(', ');
}
