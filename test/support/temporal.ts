import { createServer } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, type WorkflowBundle } from '@temporalio/worker';
import { workerRuntimeInstalled } from '../../worker/boot.js';
import { workflowBundleOptions } from '../../worker/create-worker.js';
import { startDevServer, type DevServer } from '../../worker/dev-server.js';
import { ensureSearchAttributes } from '../../worker/search-attributes.js';
import { temporalCliPath, temporalTestServerPath } from '../../worker/temporal-binaries.js';
import { waitForNamespace } from '../../worker/temporal-connection.js';

const bundles = new Map<string, Promise<WorkflowBundle>>();
/**
 * Bundling takes seconds; a test file does it once and shares it between its workers. A worker that
 * encrypts payloads needs the bundle built with the service's failure converter, as `npm start` builds it.
 */
export function workflowBundle(options: { failureConverterPath?: string } = {}): Promise<WorkflowBundle> {
  const key = options.failureConverterPath ?? '';
  if (!bundles.has(key)) bundles.set(key, bundleWorkflowCode({ workflowsPath: workflowBundleOptions.workflowsPath, ...workflowBundleOptions.bundlerOptions, logger: quietLogger, failureConverterPath: options.failureConverterPath }));
  return bundles.get(key)!;
}

const quietLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

function executable(path: string | undefined) {
  return path ? { type: 'existing-path' as const, path } : undefined;
}

/** The time-skipping server, with the project's search attributes registered so upserts succeed. */
export async function createTimeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: executable(temporalTestServerPath()) } });
  await ensureSearchAttributes(env.connection, env.namespace ?? 'default');
  return env;
}

export interface DevServerEnvironment {
  server: DevServer;
  client: Client;
  workerConnection: NativeConnection;
  namespace: string;
  teardown(): Promise<void>;
}

/** A real dev server (with visibility, so lists by search attribute work) on a free port. */
export async function createDevServerEnvironment(): Promise<DevServerEnvironment> {
  if (!temporalCliPath()) throw new Error('Temporal CLI not installed: run `npm run setup`');
  const server = await startDevServer({ port: await freePort(), headless: true });
  const connection = await Connection.connect({ address: server.address });
  await waitForNamespace(connection, 'default');
  const client = new Client({ connection, namespace: 'default' });
  const workerConnection = await NativeConnection.connect({ address: server.address });
  return {
    server,
    client,
    workerConnection,
    namespace: 'default',
    async teardown() {
      await workerConnection.close();
      await connection.close();
      await server.stop();
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

let counter = 0;
/** Fresh IDs per test, so no two tests ever share a workflow. */
export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

/** Worker logs only what is wrong: activity failures the tests provoke on purpose are expected. */
export function quietWorkerLogs(): void {
  // A test that installed the service's own runtime first (metrics, logs) keeps it.
  if (workerRuntimeInstalled()) return;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
}
