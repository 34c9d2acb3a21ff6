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

/**
 * Modules the workflows import that keep no state of their own a workflow could see: the pure domain rules and
 * the workflows' definitions, keys and helpers. Evaluated once when the worker's V8 context starts and shared
 * by every workflow in it (the SDK freezes them), rather than evaluated again for each new or replayed
 * workflow, which cost each one their module scope in time and heap. The workflow functions' own modules stay
 * per workflow. test/unit/workflow-bundle.test.ts checks the list against what the bundle holds.
 */
export const sharedWorkflowModules = [
  ...['business-time', 'data-quality', 'deal-briefs', 'deal-clocks', 'deal-dossier', 'deal-lifecycle', 'failures', 'lead-clocks', 'lead-lifecycle', 'lead-rules', 'opportunity-hygiene', 'routing', 'scoring'].map(
    (name) => `../domain/${name}.ts`,
  ),
  ...['deal-definitions', 'deal-search-attributes', 'lead-definitions', 'lead-search-attributes', 'search-attributes', 'step-engine', 'ui-metadata', 'workflow-ids', 'workflow-runtime'].map(
    (name) => `../workflows/${name}.ts`,
  ),
].map((path) => fileURLToPath(new URL(path, import.meta.url)));

/** How the workflows are bundled, by the worker and by tests and benchmarks alike. */
export const workflowBundleOptions = { workflowsPath, bundlerOptions: { preloadModules: sharedWorkflowModules } };

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
  /** TemporalSettings.stickyQueueTimeoutMs; the SDK's 10 s when not given. */
  stickyQueueTimeoutMs?: number;
}

export function createWorker(deps: WorkerDependencies): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue ?? TASK_QUEUE,
    dataConverter: deps.dataConverter,
    // Only when given: the SDK spreads its options over its defaults, so an undefined here would replace its 10 s.
    ...(deps.stickyQueueTimeoutMs === undefined ? {} : { stickyQueueScheduleToStartTimeout: deps.stickyQueueTimeoutMs }),
    ...(deps.workflowBundle ? { workflowBundle: deps.workflowBundle } : workflowBundleOptions),
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
