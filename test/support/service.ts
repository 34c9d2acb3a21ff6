import type { Worker } from '@temporalio/worker';
import { createApp } from '../../api/app.js';
import { createPolicyStore } from '../../api/policy-store.js';
import type { Policy } from '../../domain/policy.js';
import type { ApiKey, Role } from '../../service.config.js';
import { createWorker } from '../../worker/create-worker.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { createDevServerEnvironment, quietWorkerLogs, workflowBundle, type DevServerEnvironment } from './temporal.js';

export const testApiKeys: ApiKey[] = (['sales', 'cs', 'ops', 'manager'] as const).map((role) => ({
  token: `token-${role}`,
  actorId: `${role}-actor`,
  role,
}));

export const tokenFor = (role: Role): string => testApiKeys.find((key) => key.role === role)!.token;

export interface RunningService {
  temporal: DevServerEnvironment;
  database: TestDatabase;
  worker: Worker;
  app: ReturnType<typeof createApp>;
  request(method: string, path: string, options?: { role?: Role | null; body?: unknown; rawBody?: string }): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

/** The whole service on real parts: a dev server, a worker, a fresh Postgres database and the API. */
export async function startService(policy: Policy): Promise<RunningService> {
  quietWorkerLogs();
  const [temporal, database] = await Promise.all([createDevServerEnvironment(), createTestDatabase()]);
  // The given policy is published first, so it is the current one new leads start under.
  const policyStore = createPolicyStore(database.db);
  await policyStore.publish({ document: policy, author: 'test', note: `startService(${policy.version})` });
  const worker = await createWorker({
    connection: temporal.workerConnection,
    namespace: temporal.namespace,
    db: database.db,
    workflowBundle: await workflowBundle(),
  });
  const workerRun = worker.run();
  const app = createApp({ client: temporal.client, db: database.db, apiKeys: testApiKeys, currentPolicy: () => policyStore.current(), policyStore });

  return {
    temporal,
    database,
    worker,
    app,
    async request(method, path, { role = 'sales', body, rawBody } = {}) {
      const headers: Record<string, string> = {};
      if (role) headers.authorization = `Bearer ${tokenFor(role)}`;
      if (body !== undefined || rawBody !== undefined) headers['content-type'] = 'application/json';
      const response = await app.request(path, { method, headers, body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)) });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    },
    async stop() {
      worker.shutdown();
      await workerRun;
      await Promise.all([temporal.teardown(), database.drop()]);
    },
  };
}
