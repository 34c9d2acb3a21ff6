import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { LogMetadata } from '@temporalio/common';
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import type { TemporalSettings } from '../temporal.config.js';
import { logger, type LogObserver } from '../observability/logger.js';
import { createWorker } from './create-worker.js';
import { backoffDelay, reasonOf, untilAvailable, type DependencyStatus, type Log, type Probe } from './resilience.js';
import { connectWorker } from './temporal-connection.js';

/** How the worker's log finishes each "… unavailable" line: what happens meanwhile. */
export const workerOutageConsequences: Record<string, string> = {
  database: 'the worker keeps running; audit writes and routing retry until it answers, and no step is answered before its audit is written',
  Temporal: 'the worker keeps running and polls again until the server is back',
  'notification webhook': 'the worker keeps running; each notification is retried until the webhook accepts it',
};

/**
 * Runs a worker until `signal` aborts. Temporal's SDK already rides out a server outage (it retries its
 * polls); if the worker still stops on its own, a new connection and worker replace it after a back-off,
 * rather than the process exiting and every workflow waiting for someone to restart it.
 */
export async function runWorkerUntilStopped(options: {
  temporal: TemporalSettings & { address: string };
  db: Database;
  dataConverter: DataConverter;
  signal: AbortSignal;
  log?: Log;
}): Promise<void> {
  const { temporal, db, signal, dataConverter } = options;
  const log = options.log ?? ((line: string) => logger.info({ component: 'worker' }, line));
  let failures = 0;
  while (!signal.aborted) {
    let connection: Awaited<ReturnType<typeof connectWorker>> | undefined;
    let startedAt = Date.now();
    try {
      connection = await untilAvailable('Temporal', () => connectWorker(temporal), { signal, log });
      const worker = await createWorker({ connection, namespace: temporal.namespace, db, dataConverter, stickyQueueTimeoutMs: temporal.stickyQueueTimeoutMs });
      // The SDK's runtime also stops workers on SIGINT/SIGTERM; only ask if it has not already.
      const stop = () => worker.getState() === 'RUNNING' && worker.shutdown();
      signal.addEventListener('abort', stop, { once: true });
      startedAt = Date.now();
      log(`Worker polling ${temporal.address} namespace ${temporal.namespace}`);
      try {
        await worker.run();
      } finally {
        signal.removeEventListener('abort', stop);
      }
      if (!signal.aborted) throw new Error('the worker stopped without being asked to');
    } catch (error) {
      if (signal.aborted) break;
      // A worker that ran a good while before failing starts the back-off afresh.
      failures = Date.now() - startedAt > 60_000 ? 1 : failures + 1;
      const delay = backoffDelay(failures, { initialMs: 1_000, maxMs: 30_000 });
      log(`[worker] stopped (${reasonOf(error)}); starting a new worker in ${(delay / 1000).toFixed(1)} s`);
      await sleep(delay, undefined, { signal }).catch(() => {});
    } finally {
      await connection?.close().catch(() => {});
    }
  }
}

export function databaseProbe(db: Database): Probe {
  return { name: 'database', check: () => db.execute(sql`select 1`) };
}

export function temporalProbe(client: Client): Probe {
  return {
    name: 'Temporal',
    check: (signal) => client.connection.withAbortSignal(signal, () => client.connection.workflowService.getSystemInfo({})),
  };
}

/**
 * Turns the SDK's own activity log lines into the notification webhook's up/down state: a notify (or notifyAll) attempt
 * the webhook refused or did not answer marks it down, the next notify that completes marks it up. The
 * notifier names the webhook in those errors; a notify that failed on the database is the database's.
 */
export function observeNotificationWebhook(status: DependencyStatus): LogObserver {
  return (_level, message, meta?: LogMetadata) => {
    if (meta?.activityType !== 'notify' && meta?.activityType !== 'notifyAll') return;
    if (message === 'Activity completed') status.up('notification webhook');
    else if (message === 'Activity failed' && /webhook/i.test(reasonOf(meta.error))) status.failed('notification webhook', meta.error);
  };
}
