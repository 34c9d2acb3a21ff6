import { createServer, type Server } from 'node:http';
import type { Client } from '@temporalio/client';
import { count, eq, notInArray, sql } from 'drizzle-orm';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../db/client.js';
import { dealEvents, dealMilestones, leadEvents, leads, notifications } from '../db/schema.js';
import { logger } from './logger.js';
import { slaStateClause } from '../workflows/lead-search-attributes.js';

/**
 * The one home of the service's Prometheus series. Three sources:
 * - this process: HTTP requests (API), activity executions and notification failures (worker), Node itself;
 * - the Temporal SDK's runtime (worker): its own Prometheus exporter on a loopback port, appended to /metrics;
 * - the business figures (API): read at scrape time from Postgres, and the SLA state from Temporal visibility.
 */

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const httpRequests = new Counter({
  name: 'revops_http_requests_total',
  help: 'HTTP requests answered, by method, route pattern and status',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [registry],
});

export const httpDuration = new Histogram({
  name: 'revops_http_request_duration_seconds',
  help: 'Time to answer an HTTP request, by method, route pattern and status class',
  labelNames: ['method', 'route', 'status_class'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const activityDuration = new Histogram({
  name: 'revops_activity_duration_seconds',
  help: 'Activity attempts run by this worker, by activity type and outcome (completed, failed, cancelled)',
  labelNames: ['activity_type', 'outcome'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

export const notificationFailures = new Counter({
  name: 'revops_notification_failures_total',
  help: 'Notification attempts that failed (webhook refused or unreachable, database away); each is retried until delivered',
  registers: [registry],
});

/** Where the Temporal SDK's own exporter listens (worker processes), set by the runtime's installation. */
let runtimeMetricsAddress: string | undefined;
export function setRuntimeMetricsAddress(address: string): void {
  runtimeMetricsAddress = address;
}

async function runtimeMetricsText(): Promise<string> {
  if (!runtimeMetricsAddress) return '';
  try {
    const response = await fetch(`http://${runtimeMetricsAddress}/metrics`, { signal: AbortSignal.timeout(2_000) });
    return response.ok ? await response.text() : '';
  } catch (error) {
    logger.warn({ component: 'metrics', err: error }, 'Temporal runtime metrics unavailable for this scrape');
    return '';
  }
}

/** The text a scrape of /metrics answers: this process's series, then the SDK runtime's. */
export async function metricsText(): Promise<{ contentType: string; body: string }> {
  const [own, runtime] = await Promise.all([registry.metrics(), runtimeMetricsText()]);
  return { contentType: registry.contentType, body: runtime ? `${own}\n${runtime}` : own };
}

const businessSeries = [
  'revops_leads_open',
  'revops_leads_open_sla',
  'revops_lead_sla_breaches_total',
  'revops_lead_escalations_total',
  'revops_deal_escalations_total',
  'revops_deal_milestones',
  'revops_deal_milestone_breaches_total',
  'revops_notifications_undelivered',
];

/**
 * A business series whose source is away (database or Temporal down) keeps its last values for that scrape
 * and logs why, rather than failing the whole scrape and hiding the process's own series with it.
 */
function tolerant<T>(name: string, collect: (this: T) => Promise<void>): (this: T) => Promise<void> {
  return async function (this: T) {
    try {
      await collect.call(this);
    } catch (error) {
      logger.warn({ component: 'metrics', series: name, err: error }, 'business series not refreshed for this scrape');
    }
  };
}

const terminalLeadStages = ['WON', 'LOST'];
const slaStates = ['on-track', 'due-soon', 'breached'] as const;
/** Stages whose leads run an SLA clock; the others always show SlaState "none". */
const stagesWithClocks = ['MQL', 'SAL'] as const;

/**
 * Registers the business series, computed at scrape time so that every API replica answers the fleet's
 * figures (no per-process count to add up, none lost on restart, none doubled by an activity retry):
 * - counts of what happened come from the audit (lead_events, deal_milestones, notifications), which holds
 *   each event exactly once;
 * - open leads by stage come from the leads projection;
 * - open leads by SLA state come from Temporal visibility (SlaState): SLA state changes with the clock
 *   ("due soon" is an instant, not an event), and only the workflow's search attribute tracks it.
 */
export function registerBusinessMetrics(deps: { db: Database; client?: Client }): void {
  const { db, client } = deps;
  // One set per process: a second app in the same process (tests) reads its own database.
  for (const name of businessSeries) registry.removeSingleMetric(name);
  new Gauge({
    name: 'revops_leads_open',
    help: 'Open leads (not WON or LOST) by stage, from the leads projection',
    labelNames: ['stage'] as const,
    registers: [registry],
    collect: tolerant('revops_leads_open', async function () {
      const rows = await db.select({ stage: leads.stage, n: count() }).from(leads).where(notInArray(leads.stage, terminalLeadStages)).groupBy(leads.stage);
      this.reset();
      for (const row of rows) this.set({ stage: row.stage }, row.n);
    }),
  });
  if (client) {
    new Gauge({
      name: 'revops_leads_open_sla',
      help: 'Running lead workflows by stage and SLA state (on-track, due-soon, breached), from Temporal visibility (SlaState)',
      labelNames: ['stage', 'sla_state'] as const,
      registers: [registry],
      collect: tolerant('revops_leads_open_sla', async function () {
        const counts = await Promise.all(
          stagesWithClocks.flatMap((stage) =>
            slaStates.map(async (state) => {
              const query = `WorkflowType="leadWorkflow" AND ExecutionStatus="Running" AND LeadStage="${stage}" AND ${slaStateClause(state, new Date())}`;
              const { count: n } = await client.workflow.count(query);
              return { stage, state, n };
            }),
          ),
        );
        this.reset();
        for (const { stage, state, n } of counts) this.set({ stage, sla_state: state }, n);
      }),
    });
  }
  new Counter({
    name: 'revops_lead_sla_breaches_total',
    help: 'Speed-to-lead deadlines missed, from the audit (sla-breached events)',
    registers: [registry],
    collect: tolerant<Counter>('revops_lead_sla_breaches_total', async function () {
      const [row] = await db.select({ n: count() }).from(leadEvents).where(eq(leadEvents.type, 'sla-breached'));
      this.reset();
      this.inc(row?.n ?? 0);
    }),
  });
  new Counter({
    name: 'revops_lead_escalations_total',
    help: 'Lead escalations by level and action, from the audit (escalated events)',
    labelNames: ['level', 'action'] as const,
    registers: [registry],
    collect: tolerant('revops_lead_escalations_total', async function () {
      const level = sql<string>`${leadEvents.payload}->>'level'`;
      const action = sql<string>`${leadEvents.payload}->>'action'`;
      const rows = await db.select({ level, action, n: count() }).from(leadEvents).where(eq(leadEvents.type, 'escalated')).groupBy(level, action);
      this.reset();
      for (const row of rows) this.inc({ level: row.level ?? 'unknown', action: row.action ?? 'unknown' }, row.n);
    }),
  });
  new Counter({
    name: 'revops_deal_escalations_total',
    help: 'Deal milestone escalations by milestone kind (dossier, kickoff, qbr), level and action, from the audit (escalated events)',
    labelNames: ['milestone', 'level', 'action'] as const,
    registers: [registry],
    collect: tolerant('revops_deal_escalations_total', async function () {
      // qbr-1, qbr-2, … count as one kind, so the series stay few however long a deal runs.
      const milestone = sql<string>`regexp_replace(${dealEvents.payload}->>'milestone', '-[0-9]+$', '')`;
      const level = sql<string>`${dealEvents.payload}->>'level'`;
      const action = sql<string>`${dealEvents.payload}->>'action'`;
      const rows = await db
        .select({ milestone, level, action, n: count() })
        .from(dealEvents)
        .where(eq(dealEvents.type, 'escalated'))
        .groupBy(milestone, level, action);
      this.reset();
      for (const row of rows) this.inc({ milestone: row.milestone ?? 'unknown', level: row.level ?? 'unknown', action: row.action ?? 'unknown' }, row.n);
    }),
  });
  new Gauge({
    name: 'revops_deal_milestones',
    help: 'Deal milestones by milestone and state: due (open, not late), overdue (open, breached), done, done-late',
    labelNames: ['milestone', 'state'] as const,
    registers: [registry],
    collect: tolerant('revops_deal_milestones', async function () {
      const state = sql<string>`case when ${dealMilestones.doneAt} is null then (case when ${dealMilestones.breached} then 'overdue' else 'due' end) else (case when ${dealMilestones.breached} then 'done-late' else 'done' end) end`;
      const rows = await db.select({ milestone: dealMilestones.kind, state, n: count() }).from(dealMilestones).groupBy(dealMilestones.kind, state);
      this.reset();
      for (const row of rows) this.set({ milestone: row.milestone, state: row.state }, row.n);
    }),
  });
  new Counter({
    name: 'revops_deal_milestone_breaches_total',
    help: 'Deal milestones missed (breached), by milestone kind, from deal_milestones',
    labelNames: ['milestone'] as const,
    registers: [registry],
    collect: tolerant('revops_deal_milestone_breaches_total', async function () {
      const rows = await db
        .select({ milestone: dealMilestones.kind, n: count() })
        .from(dealMilestones)
        .where(eq(dealMilestones.breached, true))
        .groupBy(dealMilestones.kind);
      this.reset();
      for (const row of rows) this.inc({ milestone: row.milestone }, row.n);
    }),
  });
  new Gauge({
    name: 'revops_notifications_undelivered',
    help: 'Notifications on record that the webhook has not accepted yet (status pending): each is being retried',
    registers: [registry],
    collect: tolerant<Gauge>('revops_notifications_undelivered', async function () {
      const [row] = await db.select({ n: count() }).from(notifications).where(eq(notifications.status, 'pending'));
      this.set(row?.n ?? 0);
    }),
  });
}

/** The worker's own port (WORKER_METRICS_PORT): GET /metrics for Prometheus, GET /health for a liveness probe. */
export function serveMetrics(port: number, host = process.env.HOST || '0.0.0.0'): Promise<{ server: Server; port: number }> {
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/metrics') {
      metricsText().then(
        ({ contentType, body }) => response.writeHead(200, { 'content-type': contentType }).end(body),
        (error) => {
          logger.error({ component: 'metrics', err: error }, 'metrics scrape failed');
          response.writeHead(500).end();
        },
      );
    } else if (request.method === 'GET' && request.url === '/health') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : port });
    });
  });
}
