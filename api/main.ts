import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase } from '../db/client.js';
import { warmLeadReportCopy } from '../db/lead-report-copy.js';
import { PolicyValidationError } from '../domain/policy.js';
import { serviceSettings } from '../service.config.js';
import { temporalSettings } from '../temporal.config.js';
import { logger } from '../observability/logger.js';
import { startTracing } from '../observability/tracing.js';
import { onShutdown } from '../worker/boot.js';
import { DependencyStatus, keepRunningOnStrayRejections, untilAvailable, watchDependencies } from '../worker/resilience.js';
import { databaseProbe, temporalProbe } from '../worker/run-worker.js';
import { ensureSearchAttributes } from '../worker/search-attributes.js';
import { connectClient } from '../worker/temporal-connection.js';
import { missingPayloadKeys, payloadProtection } from '../privacy/payload-protection.js';
import { createApp } from './app.js';
import { createPolicyStore } from '../db/policy-store.js';
import { closeServer, listen } from './server.js';
import { followingDestructions } from '../privacy/record-keys.js';

const apiOutageConsequences: Record<string, string> = {
  database: 'the API keeps running; requests that need it fail with 5xx and /ready answers 503 until it is back',
  Temporal: 'the API keeps running; steps answer 503 with Retry-After (safe to retry with the same Idempotency-Key) and /ready answers 503 until it is back',
};

/**
 * `npm run api`: one stateless API process; run as many as load needs behind a load balancer. It exits only
 * when told to or on a configuration error: at start it waits for the database and Temporal, and while it
 * runs an outage of either fails the requests that need it, never the process.
 */
async function main() {
  const settings = serviceSettings();
  const temporal = temporalSettings();
  keepRunningOnStrayRejections('api');
  const traced = startTracing({ serviceName: 'revops-api' });
  if (!settings.databaseUrl) throw new Error('npm run api needs DATABASE_URL: separate processes cannot share the embedded database');
  if (!settings.apiKeys) throw new Error('npm run api needs API_KEYS (token:actorId:role, comma-separated); it never runs open');
  const apiKeys = settings.apiKeys;
  const keyring = settings.payloadKeys;
  if (!keyring) throw new Error(missingPayloadKeys('npm run api'));
  const reachable = { ...temporal, address: temporal.address ?? '127.0.0.1:7233' };

  const shutdown = new AbortController();
  let stop: () => Promise<void> = async () => {};
  onShutdown(async () => {
    shutdown.abort();
    await stop();
    await Promise.race([traced?.shutdown(), sleep(2_000)]).catch(() => {}); // the last spans, if the collector answers
  });

  try {
    const database = await untilAvailable('database', () => openDatabase({ databaseUrl: settings.databaseUrl, dataDir: settings.dataDir }), { signal: shutdown.signal });
    stop = () => database.close();
    const policyStore = createPolicyStore(database.db);
    await untilAvailable('database', () => policyStore.seedFromFile(settings.policyFile), {
      signal: shutdown.signal,
      permanent: (error) => error instanceof PolicyValidationError,
    });
    const policy = await untilAvailable('database', () => policyStore.current(), { signal: shutdown.signal });
    const protection = payloadProtection(database.db, keyring, followingDestructions(database));
    const client = await untilAvailable('Temporal', () => connectClient(reachable, protection.dataConverter), { signal: shutdown.signal });
    // Intake gives search attributes with each start, so they must exist before the first lead, worker or not.
    await ensureSearchAttributes(client.connection, temporal.namespace).catch((error: Error) =>
      logger.warn({ component: 'api' }, `Could not register search attributes (${error.message}); on Temporal Cloud add them with tcld or the Cloud UI.`),
    );
    const app = createApp({
      client,
      db: database.db,
      apiKeys,
      currentPolicy: () => policyStore.current(),
      policyStore,
      stepTimeoutMs: settings.stepTimeoutMs,
      recordKeys: protection.recordKeys,
      codecServer: { codec: protection.codecServerCodec, corsOrigins: settings.codecCorsOrigins },
      dashboard: { temporalUiUrl: settings.temporalUiUrl, sessionSecret: settings.dashboardSessionSecret },
    });
    const { server, port } = await listen(app, settings.port);
    // The lead SLA report's copy of the rollup loads now, not on the first report; a failure leaves it to that report.
    warmLeadReportCopy(database.db).catch((error: Error) => logger.warn({ component: 'api' }, `Could not load the lead report's copy yet (${error.message}); the first report will.`));
    const status = new DependencyStatus(apiOutageConsequences);
    const stopWatching = watchDependencies(status, [databaseProbe(database.db), temporalProbe(client)]);
    stop = async () => {
      stopWatching();
      // In-flight requests get a few seconds to finish; a client holding a connection open does not hold up the exit.
      await Promise.race([closeServer(server), sleep(5_000)]);
      if ('closeAllConnections' in server) server.closeAllConnections();
      await client.connection.close();
      await database.close();
    };
    logger.info(`API listening on http://localhost:${port} (docs at /docs); Temporal ${reachable.address}; database ${database.description}; policy ${policy.version}`);
  } catch (error) {
    if (shutdown.signal.aborted) return;
    throw error;
  }
}

main().catch((error) => {
  logger.fatal({ err: error }, `API did not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
