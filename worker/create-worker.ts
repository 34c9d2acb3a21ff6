import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { createNotifier, notifierSettingsFromEnv, type NotifierSettings } from '../activities/notifier.js';
import type { Database } from '../db/client.js';
import { observeActivities } from '../observability/activity-interceptor.js';
import { tracing } from '../observability/tracing.js';
import { TASK_QUEUE } from '../temporal.config.js';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface WorkerDependencies {
  connection: NativeConnection;
  namespace: string;
  db: Database;
  taskQueue?: string;
  /** Where notifications go; defaults to NOTIFY_WEBHOOK_URL / NOTIFY_WEBHOOK_SECRET from the environment. */
  notifierSettings?: NotifierSettings;
  /** Tests pass a prebuilt bundle so each file bundles the workflows once. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** The payload encryption (privacy/); tests without it run unencrypted. */
  dataConverter?: DataConverter;
}

export function createWorker(deps: WorkerDependencies): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue ?? TASK_QUEUE,
    dataConverter: deps.dataConverter,
    ...(deps.workflowBundle ? { workflowBundle: deps.workflowBundle } : { workflowsPath }),
    interceptors: { activity: [observeActivities] },
    plugins: tracedPlugins(),
    activities: createActivities({
      db: deps.db,
      notifier: createNotifier(deps.db, deps.notifierSettings ?? notifierSettingsFromEnv()),
    }),
  });
}

/** With tracing on, workflows, their updates and activities carry the trace (see observability/tracing.ts). */
function tracedPlugins() {
  const traced = tracing();
  return traced ? [traced.plugin] : [];
}
