import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkflowUpdateFailedError, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { asc, eq } from 'drizzle-orm';
import { leadEvents, queueMembers, queues, reps } from '../../db/schema.js';
import type { LeadProfile } from '../../domain/lead-lifecycle.js';
import type { IcpTier, Policy } from '../../domain/policy.js';
import type { ScoreComponents } from '../../domain/scoring.js';
import { leadWorkflowId } from '../../temporal.config.js';
import { createWorker } from '../../worker/create-worker.js';
import {
  acceptLeadUpdate,
  leadStateQuery,
  logContactAttemptUpdate,
  STEP_REFUSED,
  type ContactAttemptInput,
  type LeadView,
} from '../../workflows/lead-definitions.js';
import { leadWorkflow } from '../../workflows/lead-workflow.js';
import { DueSoonAtKey, SlaStateKey } from '../../workflows/search-attributes.js';
import { slaStateNow, type SlaState } from '../../domain/lead-clocks.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { alwaysOpenPolicy } from './policies.js';
import { createTimeSkippingEnvironment, quietWorkerLogs, uniqueId, workflowBundle } from './temporal.js';

/**
 * Lead workflows on the time-skipping test server with real activities: a fresh Postgres database,
 * a worker on its own task queue, and a local webhook that records every notification the notifier sends.
 */

export const REP_A = 'rep-a';
export const REP_B = 'rep-b';
export const MANAGER = 'mgr-m';
export const INBOUND_QUEUE = 'inbound';

/** Score components per entry band on the default scoring (MQL threshold 40, hot 70). */
export const scores = {
  cold: { fit: 10, behavior: 5, intent: 0, negative: 0 },
  mql: { fit: 30, behavior: 10, intent: 5, negative: 0 },
  hot: { fit: 40, behavior: 20, intent: 20, negative: 0 },
} satisfies Record<string, ScoreComponents>;

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export type LeadEventRow = typeof leadEvents.$inferSelect;

export interface ReceivedNotification {
  idempotencyKey: string;
  type: string;
  subjectId: string;
  recipients: string[];
  at: string;
  summary: string;
  details: Record<string, unknown>;
}

export type LeadHandle = WorkflowHandle<typeof leadWorkflow>;

export interface StartLeadOptions {
  policy?: Policy;
  tier?: IcpTier;
  score?: ScoreComponents;
  /** Overrides merged into the generated profile (the company is unique per lead unless given). */
  profile?: Partial<LeadProfile>;
  actor?: string;
}

export interface StartedLead {
  leadId: string;
  workflowId: string;
  handle: WorkflowHandleWithFirstExecutionRunId<typeof leadWorkflow>;
}

export interface LeadHarness {
  env: TestWorkflowEnvironment;
  database: TestDatabase;
  taskQueue: string;
  /** Every distinct notification the webhook received, in arrival order (deduplicated by idempotency key). */
  notifications: ReceivedNotification[];
  startLead(options?: StartLeadOptions): Promise<StartedLead>;
  /** Starts a lead and waits until routing gave it an owner. */
  startRoutedLead(options?: StartLeadOptions): Promise<StartedLead & { state: LeadView }>;
  state(handle: LeadHandle): Promise<LeadView>;
  events(leadId: string): Promise<LeadEventRow[]>;
  /** Waits (real time) until an audit event of `type` matching `accept` is in Postgres. */
  waitForEvent(leadId: string, type: string, accept?: (event: LeadEventRow) => boolean): Promise<LeadEventRow>;
  notificationsOf(workflowId: string, type?: string): ReceivedNotification[];
  /** Makes the webhook answer slowly (real time), so a notification activity stays in flight that long. */
  setWebhookDelay(ms: number): void;
  /** The webhook answers `status` (503 unless given: a transient failure) to the next `count` deliveries of `type`. */
  refuseNext(type: string, count: number, status?: number): void;
  waitForNotification(workflowId: string, type: string, accept?: (n: ReceivedNotification) => boolean): Promise<ReceivedNotification>;
  slaState(handle: LeadHandle): Promise<string | undefined>;
  /** Skips server time by `ms`, firing every timer due on the way. */
  skipTime(ms: number): Promise<void>;
  /** The test server's current time. */
  now(): Promise<number>;
  /** Terminates the workflows the last test left running, so their timers do not fire in the next test's time skips. */
  cleanup(): Promise<void>;
  stop(): Promise<void>;
}

/** Polls `read` in real time until `accept` holds; activities run for real, so their effects land a little after a skip. */
export async function eventually<T>(read: () => Promise<T> | T, accept: (value: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(value)?.slice(0, 3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** |actual - expected| within `toleranceMs`: workflow time is the task's start, a few real milliseconds after its timer. */
export function assertInstantNear(actual: string | Date | number, expected: string | Date | number, what: string, toleranceMs = 3_000): void {
  const a = new Date(actual).getTime();
  const e = new Date(expected).getTime();
  assert.ok(Number.isFinite(a) && Number.isFinite(e), `${what}: not instants (${String(actual)}, ${String(expected)})`);
  assert.ok(Math.abs(a - e) <= toleranceMs, `${what}: ${new Date(a).toISOString()} is not within ${toleranceMs} ms of ${new Date(e).toISOString()}`);
}

/** The update fails with a StepRefused ApplicationFailure whose message matches `message`. */
export async function assertRefused(update: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(update, (error: unknown) => {
    assert.ok(error instanceof WorkflowUpdateFailedError, `expected WorkflowUpdateFailedError, got ${String(error)}`);
    assert.ok(error.cause instanceof ApplicationFailure, `expected an ApplicationFailure cause, got ${String(error.cause)}`);
    assert.equal(error.cause.type, STEP_REFUSED);
    assert.match(error.cause.message, message);
    return true;
  });
}

export function accept(handle: LeadHandle, actor: string): Promise<LeadView> {
  return handle.executeUpdate(acceptLeadUpdate, { args: [{ actor }] });
}

export function logAttempt(handle: LeadHandle, actor: string, channel: ContactAttemptInput['channel'], outcome: ContactAttemptInput['outcome']): Promise<LeadView> {
  return handle.executeUpdate(logContactAttemptUpdate, { args: [{ actor, channel, outcome }] });
}

/** Gives activities started by the last skip time to land, then makes the workflow answer a query (it has caught up). */
export async function settle(handle: LeadHandle, ms = 600): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  await handle.query(leadStateQuery);
}

export const plus = (instant: string | Date, ms: number): string => new Date(new Date(instant).getTime() + ms).toISOString();

/** The always-open policy with some parts replaced. */
export function policyWith(overrides: (policy: Policy) => Partial<Policy>, version = uniqueId('policy')): Policy {
  const base = alwaysOpenPolicy(version);
  return { ...base, ...overrides(base) };
}

const WORKFLOW_TASK_ENDS = ['workflowTaskCompletedEventAttributes', 'workflowTaskFailedEventAttributes', 'workflowTaskTimedOutEventAttributes'] as const;

/**
 * Waits until the workflow has no workflow task and no activity in flight; false when it is no longer running.
 * The time-skipping test server never releases the time lock of a workflow task that was in flight when its
 * workflow got terminated, so terminating a busy workflow makes every later skip crawl at wall-clock speed.
 */
async function untilIdle(handle: LeadHandle): Promise<boolean> {
  const snapshot = async () => {
    const description = await handle.describe();
    if (description.status.name !== 'RUNNING') return { running: false, idle: true, length: 0 };
    const events = (await handle.fetchHistory()).events ?? [];
    let lastScheduled = -1;
    let lastEnded = -1;
    events.forEach((event, index) => {
      if (event.workflowTaskScheduledEventAttributes) lastScheduled = index;
      if (WORKFLOW_TASK_ENDS.some((key) => event[key])) lastEnded = index;
    });
    const idle = lastEnded > lastScheduled && (description.raw.pendingActivities ?? []).length === 0;
    return { running: true, idle, length: events.length };
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    const first = await snapshot();
    if (!first.running) return false;
    if (first.idle) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const second = await snapshot();
      if (!second.running) return false;
      if (second.idle && second.length === first.length) return true;
    }
    if (Date.now() > deadline) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Receiver {
  server: Server;
  url: string;
  received: ReceivedNotification[];
  /** How long the webhook takes to answer (real time). */
  delayMs: number;
  /** Notification type → how many more deliveries of it to refuse, and with which status (503: transient, 4xx: for good). */
  refusals: Map<string, { count: number; status: number }>;
}

async function startReceiver(): Promise<Receiver> {
  const received: ReceivedNotification[] = [];
  const seen = new Set<string>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      if (receiver.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, receiver.delayMs));
      try {
        const key = String(request.headers['idempotency-key'] ?? '');
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReceivedNotification;
        const refuse = receiver.refusals.get(body.type);
        if (refuse && refuse.count > 0) {
          receiver.refusals.set(body.type, { ...refuse, count: refuse.count - 1 });
          response.writeHead(refuse.status).end(refuse.status === 503 ? 'try again later' : 'refused');
          return;
        }
        if (key && !seen.has(key)) {
          seen.add(key);
          received.push(body);
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      } catch (error) {
        response.writeHead(400).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const receiver: Receiver = { server, url: `http://127.0.0.1:${port}/notifications`, received, delayMs: 0, refusals: new Map() };
  return receiver;
}

export async function startLeadHarness(name: string): Promise<LeadHarness> {
  quietWorkerLogs();
  const [env, database, receiver] = await Promise.all([createTimeSkippingEnvironment(), createTestDatabase(), startReceiver()]);
  const { db } = database;

  await db.insert(reps).values([
    { repId: REP_A, name: 'Rep A', seniority: 'senior', managerId: MANAGER },
    { repId: REP_B, name: 'Rep B', seniority: 'senior', managerId: MANAGER },
  ]);
  await db.insert(queues).values({ queueId: INBOUND_QUEUE, name: 'Inbound', strategy: 'round-robin', managerId: MANAGER });
  await db.insert(queueMembers).values([
    { queueId: INBOUND_QUEUE, repId: REP_A, position: 0 },
    { queueId: INBOUND_QUEUE, repId: REP_B, position: 1 },
  ]);

  const taskQueue = uniqueId(`lead-${name}`);
  const worker: Worker = await createWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    db,
    taskQueue,
    workflowBundle: await workflowBundle(),
    notifierSettings: { webhookUrl: receiver.url, webhookSecret: 'test-secret', timeoutMs: 5_000 },
  });
  const workerRun = worker.run();
  const started: LeadHandle[] = [];

  const harness: LeadHarness = {
    env,
    database,
    taskQueue,
    notifications: receiver.received,

    async startLead(options = {}) {
      const leadId = uniqueId('L');
      const workflowId = leadWorkflowId(leadId);
      const profile: LeadProfile = {
        leadId,
        email: `${leadId.toLowerCase()}@example.com`,
        company: `Company ${leadId}`,
        icpTier: options.tier ?? 2,
        ...options.profile,
      };
      const handle = await env.client.workflow.start(leadWorkflow, {
        workflowId,
        taskQueue,
        args: [{ profile, score: options.score ?? scores.mql, policy: options.policy ?? alwaysOpenPolicy(), actor: options.actor ?? 'marketing-bot' }],
      });
      started.push(handle);
      return { leadId, workflowId, handle };
    },

    async startRoutedLead(options = {}) {
      const lead = await harness.startLead(options);
      const state = await eventually(() => harness.state(lead.handle), (s) => s.ownerId !== null, `routing of ${lead.leadId}`);
      return { ...lead, state };
    },

    state(handle) {
      return handle.query(leadStateQuery);
    },

    events(leadId) {
      return db.select().from(leadEvents).where(eq(leadEvents.leadId, leadId)).orderBy(asc(leadEvents.seq));
    },

    async waitForEvent(leadId, type, accept = () => true) {
      const events = await eventually(
        () => harness.events(leadId),
        (rows) => rows.some((event) => event.type === type && accept(event)),
        `a "${type}" event of ${leadId}`,
      );
      return events.find((event) => event.type === type && accept(event))!;
    },

    notificationsOf(workflowId, type) {
      return receiver.received.filter((n) => n.subjectId === workflowId && (type === undefined || n.type === type));
    },

    setWebhookDelay(ms) {
      receiver.delayMs = ms;
    },

    refuseNext(type, count, status = 503) {
      receiver.refusals.set(type, { count, status });
    },

    async waitForNotification(workflowId, type, accept = () => true) {
      const found = await eventually(
        () => harness.notificationsOf(workflowId, type).filter(accept),
        (list) => list.length > 0,
        `a "${type}" notification about ${workflowId}`,
      );
      return found[0]!;
    },

    async slaState(handle) {
      const attributes = (await handle.describe()).typedSearchAttributes;
      const slaState = attributes.get(SlaStateKey) as SlaState | undefined;
      if (slaState === undefined) return undefined;
      // As the API reads visibility: due soon is on-track with its DueSoonAt passed (patch 'lean-clocks').
      return slaStateNow({ slaState, dueSoonAt: attributes.get(DueSoonAtKey)?.toISOString() ?? null }, new Date(await env.currentTimeMs()));
    },

    skipTime(ms) {
      return env.sleep(ms);
    },

    now() {
      return env.currentTimeMs();
    },

    async cleanup() {
      const handles = started.splice(0);
      await Promise.all(
        handles.map(async (handle) => {
          try {
            if (await untilIdle(handle)) await handle.terminate('test finished');
          } catch {
            // already gone
          }
        }),
      );
    },

    async stop() {
      await harness.cleanup();
      worker.shutdown();
      await workerRun;
      await new Promise<void>((resolve) => receiver.server.close(() => resolve()));
      await Promise.all([env.teardown(), database.drop()]);
    },
  };
  return harness;
}
