import { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { createApp } from '../../api/app.js';
import { createPolicyStore } from '../../db/policy-store.js';
import type { Policy } from '../../domain/policy.js';
import type { ApiKey, Role } from '../../service.config.js';
import { createWorker } from '../../worker/create-worker.js';
import { generateKeyEntry, parseKeyring } from '../../privacy/keyring.js';
import { payloadProtection, type PayloadProtection } from '../../privacy/payload-protection.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { createDevServerEnvironment, quietWorkerLogs, workflowBundle, type DevServerEnvironment } from './temporal.js';
import { followingDestructions } from '../../privacy/record-keys.js';

/** The browser origin a test Temporal UI would call the codec server from. */
export const TEST_UI_ORIGIN = 'http://localhost:8233';

/** Named actors the tests act as (`request(..., { role, as })`), besides each role's default `<role>-actor`. */
const namedActors: Record<Role, string[]> = {
  sales: ['rep-anna', 'rep-bartek', 'rep-cara', 'rep-dawid', 'rep-ewa', 'rep-sales-1', 'rep-sales-2'],
  cs: ['cs-anna', 'cs-bartek', 'cs-rep-1', 'cs-rep-2', 'cs-1', 'cs-2', 'cs-eva', 'cs-ewa', 'cs-filip'],
  ops: ['ops-olga'],
  manager: ['mgr-ola', 'mgr-sales', 'mgr-cs'],
};

export const testApiKeys: ApiKey[] = (['sales', 'cs', 'ops', 'manager'] as const).flatMap((role) => [
  { token: `token-${role}`, actorId: `${role}-actor`, role },
  ...namedActors[role].map((actorId) => ({ token: `token-${role}-${actorId}`, actorId, role })),
]);

/** The token of `role`'s default actor, or of any actor `as` (minted on demand, see testTokens). */
export function tokenFor(role: Role, as?: string): string {
  return as === undefined ? `token-${role}` : `token-${role}-${as}`;
}

/** Resolves the listed tokens and mints the rest: `token-<role>-<actorId>` acts as that actor in that role. */
export function testTokens(token: string): ApiKey | undefined {
  const listed = testApiKeys.find((key) => key.token === token);
  if (listed) return listed;
  const minted = /^token-(sales|cs|ops|manager)-([A-Za-z0-9._-]{1,100})$/.exec(token);
  return minted ? { token, role: minted[1] as Role, actorId: minted[2]! } : undefined;
}

export interface RunningService {
  temporal: DevServerEnvironment;
  database: TestDatabase;
  worker: Worker;
  app: ReturnType<typeof createApp>;
  /** The payload encryption the service runs with, as in production (a fresh key per test file). */
  protection: PayloadProtection;
  request(
    method: string,
    path: string,
    options?: { role?: Role | null; as?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

/** The whole service on real parts: a dev server, a worker, a fresh Postgres database and the API. */
export async function startService(policy: Policy, options: { stickyQueueTimeoutMs?: number } = {}): Promise<RunningService> {
  quietWorkerLogs();
  const [temporal, database] = await Promise.all([createDevServerEnvironment(), createTestDatabase()]);
  // The given policy is published first, so it is the current one new leads start under.
  const policyStore = createPolicyStore(database.db);
  await policyStore.publish({ document: policy, author: 'test', note: `startService(${policy.version})` });
  const protection = payloadProtection(database.db, parseKeyring(generateKeyEntry('test-1')), followingDestructions(database));
  const client = new Client({ connection: temporal.client.connection, namespace: temporal.namespace, dataConverter: protection.dataConverter });
  const worker = await createWorker({
    connection: temporal.workerConnection,
    namespace: temporal.namespace,
    db: database.db,
    dataConverter: protection.workerDataConverter,
    workflowBundle: await workflowBundle({ failureConverterPath: protection.dataConverter.failureConverterPath }),
    stickyQueueTimeoutMs: options.stickyQueueTimeoutMs,
  });
  const workerRun = worker.run();
  const app = createApp({
    client,
    db: database.db,
    apiKeys: testTokens,
    currentPolicy: () => policyStore.current(),
    policyStore,
    recordKeys: protection.recordKeys,
    codecServer: { codec: protection.codecServerCodec, corsOrigins: [TEST_UI_ORIGIN] },
  });

  return {
    temporal: { ...temporal, client },
    database,
    worker,
    app,
    protection,
    async request(method, path, { role = 'sales', as, body, rawBody, headers: extraHeaders = {} } = {}) {
      const headers: Record<string, string> = { ...extraHeaders };
      if (role) headers.authorization = `Bearer ${tokenFor(role, as)}`;
      if (body !== undefined || rawBody !== undefined) headers['content-type'] = 'application/json';
      const response = await app.request(path, { method, headers, body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)) });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
    },
    async stop() {
      worker.shutdown();
      await workerRun;
      await Promise.all([temporal.teardown(), database.drop()]);
    },
  };
}
