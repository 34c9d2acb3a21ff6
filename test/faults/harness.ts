import { generateKeyEntry } from '../../privacy/keyring.js';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inArray, sql } from 'drizzle-orm';
import { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signBody } from '../../activities/notifier.js';
import { notifications } from '../../db/schema.js';
import { leadWorkflowId } from '../../temporal.config.js';
import { startDevServer, type DevServer } from '../../worker/dev-server.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { describeExit, startProcess, tail, type ServiceProcess } from '../support/processes.js';
import { testApiKeys, tokenFor } from '../support/service.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { freePort } from '../support/temporal.js';

/**
 * The service as an operator runs it, on real parts the test owns: a Temporal dev server (SQLite file, so
 * it can be restarted with its state), a fresh Postgres database reached only through a TCP proxy, a
 * webhook receiver, and `worker/main.ts` and `api/main.ts` as separate processes. A stream of leads is
 * driven through the API by clients that retry on 5xx, timeouts and connection errors with the step's
 * Idempotency-Key, and `verify` checks the audit, the notifications and the processes afterwards.
 */

const REPS = ['rep-anna', 'rep-bartek', 'rep-cara'];
const WEBHOOK_SECRET = 'fault-test-secret';
/** Each client request waits this long for an answer, above the API's own step timeout. */
const REQUEST_TIMEOUT_MS = 20_000;

// ---- webhook receiver ----------------------------------------------------------------------------------

export interface WebhookReceiver {
  url: string;
  /** Answer 500 to every delivery until `recover`. */
  fail(): void;
  recover(): void;
  /** Deliveries per idempotency key that were answered 2xx. */
  readonly accepted: Map<string, number>;
  readonly refused: number;
  readonly badSignatures: number;
  close(): Promise<void>;
}

async function startWebhookReceiver(): Promise<WebhookReceiver> {
  let failing = false;
  let refused = 0;
  let badSignatures = 0;
  const accepted = new Map<string, number>();
  const read = (request: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      request.on('error', reject);
    });
  const server: Server = createServer(async (request, response) => {
    const body = await read(request);
    if (request.headers[SIGNATURE_HEADER] !== signBody(body, WEBHOOK_SECRET)) {
      badSignatures += 1;
      response.writeHead(401).end();
      return;
    }
    if (failing) {
      refused += 1;
      response.writeHead(500).end('receiver down');
      return;
    }
    // A receiver that dedupes: a repeated key is acknowledged and counted, never processed twice.
    const key = String(request.headers[IDEMPOTENCY_HEADER]);
    accepted.set(key, (accepted.get(key) ?? 0) + 1);
    response.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('webhook receiver has no address');
  return {
    url: `http://127.0.0.1:${address.port}/hooks/revops`,
    fail: () => (failing = true),
    recover: () => (failing = false),
    accepted,
    get refused() {
      return refused;
    },
    get badSignatures() {
      return badSignatures;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---- the environment ------------------------------------------------------------------------------------

export interface FaultEnvironment {
  database: TestDatabase;
  proxy: TcpProxy;
  webhook: WebhookReceiver;
  temporal: DevServer;
  worker: ServiceProcess;
  api: ServiceProcess;
  apiUrl: string;
  /** Stops the dev server and, `downMs` later, starts it again on the same port and SQLite file. */
  restartTemporal(downMs: number): Promise<void>;
  /** SIGKILLs the worker and starts a new one (after `downMs`). */
  killWorker(downMs: number): Promise<void>;
  /** Processes the test ended on purpose; any other exit is a failure. */
  readonly killedOnPurpose: Set<ServiceProcess>;
  /** Every process that exited without the test asking, with how. */
  unexpectedExits(): string[];
  teardown(): Promise<void>;
}

const apiKeysEnv = testApiKeys.map((key) => `${key.token}:${key.actorId}:${key.role}`).join(',');

export interface FaultEnvironmentOptions {
  stepTimeoutMs?: number;
  databaseDownAtStart?: boolean;
  /** More settings for the worker and API processes, over the harness's own (TEMPORAL_STICKY_TIMEOUT_MS, say). */
  env?: Record<string, string>;
}

export async function startFaultEnvironment(options: FaultEnvironmentOptions = {}): Promise<FaultEnvironment> {
  const dataDir = mkdtempSync(join(tmpdir(), 'revops-faults-'));
  const temporalPort = await freePort();
  const temporalFile = join(dataDir, 'temporal.sqlite');
  const startTemporal = () => startDevServer({ port: temporalPort, dbFilename: temporalFile, headless: true });
  const [database, webhook, firstTemporal] = await Promise.all([createTestDatabase(), startWebhookReceiver(), startTemporal()]);
  let temporal = firstTemporal;
  const target = new URL(database.url);
  const proxy = await startTcpProxy({ targetHost: target.hostname, targetPort: Number(target.port || 5432) });
  const apiPort = await freePort();
  const env = {
    DATABASE_URL: proxy.url(database.url),
    TEMPORAL_ADDRESS: temporal.address,
    API_KEYS: apiKeysEnv,
    PAYLOAD_KEYS: generateKeyEntry('faults-1'),
    PORT: String(apiPort),
    DATA_DIR: dataDir,
    NOTIFY_WEBHOOK_URL: webhook.url,
    NOTIFY_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STEP_TIMEOUT_MS: String(options.stepTimeoutMs ?? 5_000),
    // The outage lines the tests wait for are info; the worker's metrics port is any free one (several workers run).
    LOG_LEVEL: 'info',
    WORKER_METRICS_PORT: '0',
    ...options.env,
  };
  const processes: ServiceProcess[] = [];
  const killedOnPurpose = new Set<ServiceProcess>();
  const startWorker = () => {
    const worker = startProcess(`worker-${processes.length}`, 'worker/main.ts', { env });
    processes.push(worker);
    return worker;
  };
  // Both processes start while the database refuses connections: they must wait for it, not exit.
  if (options.databaseDownAtStart) await proxy.cut();
  let worker = startWorker();
  const api = startProcess('api', 'api/main.ts', { env });
  processes.push(api);
  if (options.databaseDownAtStart) {
    await Promise.all([worker, api].map((child) => child.waitFor(/\[dependencies\] database: not reachable .*trying again/, { timeoutMs: 60_000 })));
    await sleep(3_000);
    assert.deepEqual(
      [worker, api].filter((child) => child.exit() !== null).map((child) => `${child.name}: ${describeExit(child.exit()!)}\n${tail(child.output())}`),
      [],
      'a process exited while the database was down at start',
    );
    await proxy.restore();
  }
  await Promise.all([worker.waitFor(/Worker polling/, { timeoutMs: 120_000 }), api.waitFor(/API listening/, { timeoutMs: 120_000 })]);
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  await seedRouting(apiUrl);

  const environment: FaultEnvironment = {
    database,
    proxy,
    webhook,
    get temporal() {
      return temporal;
    },
    get worker() {
      return worker;
    },
    api,
    apiUrl,
    killedOnPurpose,
    async restartTemporal(downMs) {
      await temporal.stop();
      await sleep(downMs);
      temporal = await startTemporal();
    },
    async killWorker(downMs) {
      killedOnPurpose.add(worker);
      worker.kill('SIGKILL');
      await worker.exited;
      await sleep(downMs);
      worker = startWorker();
      await worker.waitFor(/Worker polling/, { timeoutMs: 120_000 });
    },
    unexpectedExits() {
      return processes
        .filter((child) => child.exit() !== null && !killedOnPurpose.has(child))
        .map((child) => `${child.name} exited (${describeExit(child.exit()!)})\n${tail(child.output())}`);
    },
    async teardown() {
      await Promise.all(processes.map((child) => child.stop()));
      await temporal.stop();
      await proxy.close();
      await webhook.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return environment;
}

/** The reps and the inbound queue routing draws owners from (see test/support/scenarios.ts seedInboundQueue). */
async function seedRouting(apiUrl: string): Promise<void> {
  const client = new RetryingClient(apiUrl);
  for (const repId of REPS) {
    const created = await client.send('POST', '/reps', { token: tokenFor('ops'), body: { repId, name: repId, seniority: 'senior', managerId: 'mgr-ola' } });
    assert.ok([201, 409].includes(created.status), JSON.stringify(created.body));
  }
  const queue = await client.send('POST', '/queues', {
    token: tokenFor('ops'),
    body: { queueId: 'inbound', name: 'Inbound', strategy: 'round-robin', managerId: 'mgr-ola', members: REPS },
  });
  assert.ok([201, 409].includes(queue.status), JSON.stringify(queue.body));
}

// ---- clients that retry ------------------------------------------------------------------------------

export interface Answer {
  status: number;
  body: any;
  attempts: number;
}

/**
 * A well-behaved client: a 5xx, a timeout or a connection error is retried (after Retry-After when the API
 * sends one) with the same request and the same Idempotency-Key, until an answer that is not a 5xx comes
 * back or `giveUpMs` passes.
 */
export class RetryingClient {
  retries = 0;
  requests = 0;
  constructor(
    private readonly baseUrl: string,
    private readonly giveUpMs = 180_000,
  ) {}

  async send(method: string, path: string, options: { token: string; body?: unknown; key?: string }): Promise<Answer> {
    const deadline = Date.now() + this.giveUpMs;
    const headers: Record<string, string> = { authorization: `Bearer ${options.token}` };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.key) headers['idempotency-key'] = options.key;
    let last = '';
    for (let attempt = 1; ; attempt += 1) {
      this.requests += 1;
      if (attempt > 1) this.retries += 1;
      let waitMs = 250;
      try {
        const response = await fetch(`${this.baseUrl}${path}`, {
          method,
          headers,
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const text = await response.text();
        if (response.status < 500) return { status: response.status, body: text ? JSON.parse(text) : null, attempts: attempt };
        last = `${response.status} ${text.slice(0, 200)}`;
        const retryAfter = Number(response.headers.get('retry-after'));
        if (Number.isFinite(retryAfter) && retryAfter > 0) waitMs = Math.min(retryAfter * 1000, 2_000);
      } catch (error) {
        last = `${(error as Error).name}: ${(error as Error).message}`;
      }
      if (Date.now() > deadline) throw new Error(`${method} ${path}: no answer but 5xx/errors for ${this.giveUpMs} ms; last: ${last}`);
      await sleep(waitMs);
    }
  }
}

// ---- the stream of leads and steps ----------------------------------------------------------------------

export interface IntendedStep {
  leadId: string;
  kind: 'accept' | 'attempt' | 'qualify' | 'close';
  key: string;
  body: Record<string, unknown>;
  answer?: Answer;
}

const stepPaths: Record<IntendedStep['kind'], string> = { accept: 'accept', attempt: 'contact-attempts', qualify: 'qualify', close: 'close' };
export const stepEvents: Record<IntendedStep['kind'], string> = { accept: 'accepted', attempt: 'contact-attempted', qualify: 'qualified', close: 'closed' };

/** Each lead: intake, wait for its owner, then six steps as the owner: accept, three attempts, qualify, close. */
function plannedSteps(leadId: string): IntendedStep[] {
  const step = (kind: IntendedStep['kind'], body: Record<string, unknown>): IntendedStep => ({ leadId, kind, key: randomUUID(), body });
  const attempt = (channel: string, outcome: string) => {
    const planned = step('attempt', { channel, outcome });
    // The key in the notes names the intended attempt in the audit, so a duplicate is told from a second attempt.
    planned.body.notes = `step ${planned.key}`;
    return planned;
  };
  return [
    step('accept', {}),
    attempt('phone', 'no-answer'),
    attempt('email', 'left-voicemail'),
    attempt('linkedin', 'connected'),
    step('qualify', { need: true, budget: true, timing: true }),
    step('close', { outcome: 'lost', reason: 'fault test' }),
  ];
}

export interface Stream {
  readonly prefix: string;
  readonly leads: string[];
  readonly steps: IntendedStep[];
  readonly client: RetryingClient;
  /** Resolves once `count` more steps have been answered. */
  answered(count: number): Promise<void>;
  /** Lets every lane finish the lead it is on, then resolves. */
  stop(): Promise<void>;
}

/** Takes in a Tier 1 lead through the API and waits until routing has given it an owner, whom it answers. */
export async function takeInLead(client: RetryingClient, leadId: string): Promise<string> {
  const intake = await client.send('POST', '/leads', {
    token: tokenFor('sales'),
    body: { leadId, email: `${leadId.toLowerCase()}@example.com`, company: `Company ${leadId}`, icpTier: 1, score: { fit: 30, behavior: 10, intent: 5 } },
  });
  // 200: a retried intake found the lead its first attempt created.
  assert.ok([200, 201].includes(intake.status), `intake ${leadId}: ${intake.status} ${JSON.stringify(intake.body)}`);
  let ownerId: string | null = null;
  const routedBy = Date.now() + 180_000;
  while (!ownerId) {
    const state = await client.send('GET', `/leads/${leadId}`, { token: tokenFor('ops') });
    if (state.status === 200) ownerId = state.body.ownerId;
    if (!ownerId) {
      assert.ok(Date.now() < routedBy, `lead ${leadId} was never routed; last answer ${state.status} ${JSON.stringify(state.body)}`);
      await sleep(200);
    }
  }
  return ownerId;
}

/** `lanes` clients at once, each taking in a lead and working it to its close, then the next, until `stop`. */
export function startStream(apiUrl: string, prefix: string, lanes = 3): Stream {
  const client = new RetryingClient(apiUrl);
  const leads: string[] = [];
  const steps: IntendedStep[] = [];
  let stopping = false;
  let answeredCount = 0;
  const waiters: { target: number; resolve: () => void }[] = [];
  const wake = () => {
    for (const waiter of [...waiters]) {
      if (answeredCount >= waiter.target) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  let failure: Error | undefined;

  async function workLead(leadId: string) {
    leads.push(leadId);
    const ownerId = await takeInLead(client, leadId);
    for (const step of plannedSteps(leadId)) {
      steps.push(step);
      step.answer = await client.send('POST', `/leads/${leadId}/${stepPaths[step.kind]}`, { token: tokenFor('sales', ownerId), body: step.body, key: step.key });
      answeredCount += 1;
      wake();
    }
  }

  const lanesDone = Array.from({ length: lanes }, async (_, lane) => {
    for (let n = 1; !stopping && !failure; n += 1) {
      await workLead(`${prefix}-${lane}-${n}`).catch((error: Error) => {
        failure ??= error;
      });
    }
  });

  return {
    prefix,
    leads,
    steps,
    client,
    answered(count) {
      const target = answeredCount + count;
      return new Promise<void>((resolve, reject) => {
        if (failure) return reject(failure);
        waiters.push({ target, resolve });
        wake();
      });
    },
    async stop() {
      stopping = true;
      await Promise.all(lanesDone);
      for (const waiter of waiters.splice(0)) waiter.resolve();
      if (failure) throw failure;
    },
  };
}

// ---- verification -----------------------------------------------------------------------------------------

export interface FaultReport {
  scenario: string;
  leads: number;
  steps: number;
  retries: number;
  refusedSteps: string[];
  lost: string[];
  duplicated: string[];
  duplicateAuditRows: number;
  notifications: { expected: number; recorded: number; delivered: number; redelivered: number; missingAtReceiver: string[]; unknownAtReceiver: string[] };
  unexpectedExits: string[];
}

/**
 * Reads the audit back through the API (GET /leads/{id}/timeline) and the notifications from Postgres,
 * and counts what the fault did to the intended steps. Waits (bounded) for the notifications still being
 * retried when the stream stopped.
 */
export async function verify(environment: FaultEnvironment, stream: Stream, scenario: string): Promise<FaultReport> {
  const reader = new RetryingClient(environment.apiUrl);
  const lost: string[] = [];
  const duplicated: string[] = [];
  const refusedSteps = stream.steps.filter((step) => step.answer?.status !== 200).map((step) => `${step.leadId} ${step.kind}: ${step.answer?.status} ${JSON.stringify(step.answer?.body)}`);
  for (const leadId of stream.leads) {
    const timeline = await reader.send('GET', `/leads/${leadId}/timeline`, { token: tokenFor('ops') });
    assert.equal(timeline.status, 200, `timeline of ${leadId}: ${JSON.stringify(timeline.body)}`);
    const events = timeline.body.events as { type: string; payload: Record<string, any> }[];
    for (const step of stream.steps.filter((candidate) => candidate.leadId === leadId)) {
      const matching = events.filter((event) => event.type === stepEvents[step.kind] && (step.kind !== 'attempt' || JSON.stringify(event.payload).includes(step.key)));
      if (matching.length === 0) lost.push(`${leadId} ${step.kind} ${step.key}`);
      if (matching.length > 1) duplicated.push(`${leadId} ${step.kind} ${step.key} ×${matching.length}`);
    }
  }

  const workflowIds = stream.leads.map(leadWorkflowId);
  const pattern = `${stream.prefix}-%`;
  const duplicateRows = (await environment.database.db.execute(sql`
    select count(*)::int as n from (
      select lead_id from lead_events where lead_id like ${pattern} group by lead_id, type, payload::text having count(*) > 1
      union all
      select lead_id from lead_events where lead_id like ${pattern} group by lead_id, seq having count(*) > 1
    ) duplicates`)) as unknown as { n: number }[];
  const duplicateAuditRows = duplicateRows[0]!.n;

  // Every routed lead is announced to its owner once; wait for retries the fault held back.
  const expected = stream.leads.length;
  let rows: { key: string; type: string; subjectId: string; status: string }[] = [];
  const settleBy = Date.now() + 90_000;
  for (;;) {
    rows = await environment.database.db
      .select({ key: notifications.idempotencyKey, type: notifications.type, subjectId: notifications.subjectId, status: notifications.status })
      .from(notifications)
      .where(inArray(notifications.subjectId, workflowIds.length ? workflowIds : ['-']));
    const assigned = rows.filter((row) => row.type === 'lead.assigned');
    const settled = assigned.length >= expected && rows.every((row) => row.status === 'delivered' && environment.webhook.accepted.has(row.key));
    if (settled || Date.now() > settleBy) break;
    await sleep(500);
  }
  const keys = new Set(rows.map((row) => row.key));
  const receiverKeys = [...environment.webhook.accepted.keys()].filter((key) => workflowIds.some((id) => key.startsWith(id)));
  const perLead = new Map<string, number>();
  for (const row of rows.filter((candidate) => candidate.type === 'lead.assigned')) perLead.set(row.subjectId, (perLead.get(row.subjectId) ?? 0) + 1);
  for (const id of workflowIds) if ((perLead.get(id) ?? 0) !== 1) duplicated.push(`${id}: ${perLead.get(id) ?? 0} lead.assigned notifications`);

  return {
    scenario,
    leads: stream.leads.length,
    steps: stream.steps.length,
    retries: stream.client.retries,
    refusedSteps,
    lost,
    duplicated,
    duplicateAuditRows,
    notifications: {
      expected,
      recorded: rows.length,
      delivered: rows.filter((row) => row.status === 'delivered').length,
      redelivered: receiverKeys.reduce((sum, key) => sum + (environment.webhook.accepted.get(key)! - 1), 0),
      missingAtReceiver: [...keys].filter((key) => !environment.webhook.accepted.has(key)),
      unknownAtReceiver: receiverKeys.filter((key) => !keys.has(key)),
    },
    unexpectedExits: environment.unexpectedExits(),
  };
}

/** One line for the README, then the assertions every fault scenario shares. */
export function assertSurvived(report: FaultReport, extra = ''): void {
  const n = report.notifications;
  console.log(
    `FAULT SUMMARY scenario=${report.scenario} leads=${report.leads} steps=${report.steps} retries=${report.retries} ` +
      `lost=${report.lost.length} duplicated=${report.duplicated.length} duplicate-audit-rows=${report.duplicateAuditRows} refused=${report.refusedSteps.length} ` +
      `notifications=${n.recorded} recorded/${n.delivered} delivered/${n.expected} expected (redelivered ${n.redelivered}) unexpected-exits=${report.unexpectedExits.length}${extra ? ` ${extra}` : ''}`,
  );
  assert.deepEqual(report.unexpectedExits, [], 'no process may exit unless the test killed it');
  assert.deepEqual(report.lost, [], 'every intended step is in the audit');
  assert.deepEqual(report.duplicated, [], 'no intended step (or notification) is applied twice');
  assert.equal(report.duplicateAuditRows, 0, 'no audit row is written twice');
  assert.deepEqual(report.refusedSteps, [], 'a retried step answers with its first answer (200), never a refusal of its own repeat');
  assert.equal(n.recorded, n.expected, 'one notification per routed lead, recorded once');
  assert.equal(n.delivered, n.recorded, 'every notification delivered once the receiver answers');
  assert.deepEqual(n.missingAtReceiver, [], 'the receiver got every recorded notification');
  assert.deepEqual(n.unknownAtReceiver, [], 'the receiver got nothing that is not recorded');
  assert.ok(report.steps > 0 && report.leads > 0, 'the stream sent steps');
}
