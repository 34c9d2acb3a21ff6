import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase } from '../db/client.js';
import { serviceSettings } from '../service.config.js';
import { temporalSettings } from '../temporal.config.js';
import { logger } from '../observability/logger.js';
import { startTracing } from '../observability/tracing.js';
import { serveMetrics } from '../observability/metrics.js';
import { installWorkerRuntime, onShutdown } from './boot.js';
import { DependencyStatus, keepRunningOnStrayRejections, untilAvailable, watchDependencies } from './resilience.js';
import { databaseProbe, observeNotificationWebhook, runWorkerUntilStopped, temporalProbe, workerOutageConsequences } from './run-worker.js';
import { ensureSearchAttributes } from './search-attributes.js';
import { connectClient } from './temporal-connection.js';
import { missingPayloadKeys, payloadProtection, privacyHousekeeping } from '../privacy/payload-protection.js';
import { followingDestructions } from '../privacy/record-keys.js';

/**
 * `npm run worker`: one worker process for a shared Temporal cluster and Postgres; run as many as load needs.
 * It exits only when told to (SIGTERM/SIGINT) or on a configuration error; a database, Temporal or webhook
 * outage is waited out, and the log says when each goes and comes back.
 */
async function main() {
  const settings = serviceSettings();
  const temporal = temporalSettings();
  const status = new DependencyStatus(workerOutageConsequences);
  await installWorkerRuntime(observeNotificationWebhook(status));
  keepRunningOnStrayRejections('worker');
  const traced = startTracing({ serviceName: 'revops-worker' });
  if (!settings.databaseUrl) throw new Error('npm run worker needs DATABASE_URL: separate processes cannot share the embedded database');
  const keyring = settings.payloadKeys;
  if (!keyring) throw new Error(missingPayloadKeys('npm run worker'));
  const reachable = { ...temporal, address: temporal.address ?? '127.0.0.1:7233' };

  const shutdown = new AbortController();
  let done: Promise<void> = Promise.resolve();
  onShutdown(async () => {
    shutdown.abort();
    await done;
    await Promise.race([traced?.shutdown(), sleep(2_000)]).catch(() => {}); // the last spans, if the collector answers
  });

  done = (async () => {
    const database = await untilAvailable('database', () => openDatabase({ databaseUrl: settings.databaseUrl, dataDir: settings.dataDir }), { signal: shutdown.signal });
    const protection = payloadProtection(database.db, keyring, { ...followingDestructions(database), shutdown: shutdown.signal });
    const client = await untilAvailable('Temporal', () => connectClient(reachable, protection.dataConverter), { signal: shutdown.signal });
    await ensureSearchAttributes(client.connection, temporal.namespace).catch((error: Error) =>
      logger.warn(`Could not register search attributes (${error.message}); on Temporal Cloud add them with tcld or the Cloud UI.`),
    );
    await privacyHousekeeping(client, protection);
    const metrics = await serveMetrics(settings.workerMetricsPort);
    logger.info(`Worker for ${reachable.address} namespace ${temporal.namespace}; database ${database.description}; metrics on :${metrics.port}/metrics`);
    const stopWatching = watchDependencies(status, [databaseProbe(database.db), temporalProbe(client)]);
    try {
      await runWorkerUntilStopped({ temporal: reachable, db: database.db, dataConverter: protection.workerDataConverter, signal: shutdown.signal });
    } finally {
      stopWatching();
      metrics.server.close();
      await client.connection.close().catch(() => {});
      await database.close();
    }
  })().catch((error) => {
    // Start-up waits are cut short by shutdown; anything else is a configuration error worth exiting on.
    if (shutdown.signal.aborted) return;
    throw error;
  });
  await done;
}

main().catch((error) => {
  logger.fatal({ err: error }, `worker did not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
