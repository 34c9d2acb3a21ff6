import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApp } from '../api/app.js';
import { createPolicyStore } from '../db/policy-store.js';
import { describeTeamLoad, loadTeamFile, TeamFileError, teamFileSetting } from '../api/team-file.js';
import { closeServer, listen } from '../api/server.js';
import { openDatabase } from '../db/client.js';
import { warmLeadReportCopy } from '../db/lead-report-copy.js';
import { PolicyValidationError } from '../domain/policy.js';
import { serviceSettings } from '../service.config.js';
import { temporalSettings } from '../temporal.config.js';
import { logger } from '../observability/logger.js';
import { startTracing } from '../observability/tracing.js';
import { describeApiKeys, developmentApiKeys, installWorkerRuntime, onShutdown } from './boot.js';
import { DependencyStatus, keepRunningOnStrayRejections, untilAvailable, watchDependencies } from './resilience.js';
import { databaseProbe, observeNotificationWebhook, runWorkerUntilStopped, temporalProbe, workerOutageConsequences } from './run-worker.js';
import { ensureSearchAttributes } from './search-attributes.js';
import { connectClient } from './temporal-connection.js';
import { developmentKeyring } from '../privacy/keyring.js';
import { payloadProtection, privacyHousekeeping } from '../privacy/payload-protection.js';
import { followingDestructions } from '../privacy/record-keys.js';

/** Aborted by SIGTERM / SIGINT: ends start-up's waits for the database and Temporal. */
const shutdown = new AbortController();

/**
 * The service part of `npm start` (worker/all-in-one.ts starts and supervises it): database, worker and API
 * in one process. One process, because the embedded PGlite database (DATABASE_URL unset) can be opened by
 * one process only; with DATABASE_URL it is the same process, so `npm start` behaves alike either way. It
 * reaches Temporal at TEMPORAL_ADDRESS, which the supervisor sets to its dev server unless the user did.
 */
async function main() {
  const settings = serviceSettings();
  const teamFile = teamFileSetting();
  const temporal = temporalSettings();
  if (!temporal.address) throw new Error('worker/service.ts is started by `npm start` (worker/all-in-one.ts), which sets TEMPORAL_ADDRESS');
  const reachable = { ...temporal, address: temporal.address };
  const status = new DependencyStatus(workerOutageConsequences);
  await installWorkerRuntime(observeNotificationWebhook(status));
  keepRunningOnStrayRejections('service');
  const traced = startTracing({ serviceName: 'revops-service' });
  mkdirSync(settings.dataDir, { recursive: true });

  let stop: () => Promise<void> = async () => {};
  onShutdown(async () => {
    shutdown.abort();
    await stop();
    await Promise.race([traced?.shutdown(), sleep(2_000)]).catch(() => {}); // the last spans, if the collector answers
  });
  // The supervisor holds the other end of the IPC channel: if it is gone (killed outright), so is this.
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));

  const { signal } = shutdown;
  const database = await untilAvailable('database', () => openDatabase({ databaseUrl: settings.databaseUrl, dataDir: settings.dataDir }), { signal });
  stop = () => database.close();
  const policyStore = createPolicyStore(database.db);
  const seeded = await untilAvailable('database', () => policyStore.seedFromFile(settings.policyFile), {
    signal,
    permanent: (error) => error instanceof PolicyValidationError,
  });
  const policy = await untilAvailable('database', () => policyStore.current(), { signal });
  const team = teamFile
    ? describeTeamLoad(teamFile, await untilAvailable('database', () => loadTeamFile(database.db, teamFile), { signal, permanent: (error) => error instanceof TeamFileError }))
    : 'none (TEAM_FILE=none)';
  const development = settings.payloadKeys ? null : developmentKeyring(settings.dataDir);
  const keyring = settings.payloadKeys ?? development!.keyring;
  const protection = payloadProtection(database.db, keyring, { ...followingDestructions(database), shutdown: signal });
  const client = await untilAvailable('Temporal', () => connectClient(reachable, protection.dataConverter), { signal });
  const added = await ensureSearchAttributes(client.connection, temporal.namespace).catch((error: Error) => {
    logger.warn(`Could not register search attributes (${error.message}); on Temporal Cloud add them with tcld or the Cloud UI.`);
    return [];
  });
  if (added.length > 0) logger.info(`Registered search attributes: ${added.join(', ')}`);
  await privacyHousekeeping(client, protection);

  const workerRun = runWorkerUntilStopped({ temporal: reachable, db: database.db, dataConverter: protection.workerDataConverter, signal });
  const apiKeys = settings.apiKeys ?? developmentApiKeys(settings.dataDir);
  const app = createApp({
    client,
    db: database.db,
    apiKeys,
    currentPolicy: () => policyStore.current(),
    policyStore,
    stepTimeoutMs: settings.stepTimeoutMs,
    recordKeys: protection.recordKeys,
    codecServer: { codec: protection.codecServerCodec, corsOrigins: [...uiOrigins(settings.temporalUiUrl), ...settings.codecCorsOrigins] },
    dashboard: { temporalUiUrl: settings.temporalUiUrl, sessionSecret: settings.dashboardSessionSecret },
  });
  const { server, port } = await listen(app, settings.port);
  // The lead SLA report's copy of the rollup loads now, not on the first report; a failure leaves it to that report.
  warmLeadReportCopy(database.db).catch((error: Error) => logger.warn({ component: 'api' }, `Could not load the lead report's copy yet (${error.message}); the first report will.`));
  const stopWatching = watchDependencies(status, [databaseProbe(database.db), temporalProbe(client)]);
  stop = async () => {
    stopWatching();
    await Promise.race([closeServer(server), sleep(3_000)]);
    if ('closeAllConnections' in server) server.closeAllConnections();
    await workerRun;
    await client.connection.close();
    await database.close();
  };

  const uiUrl = process.env.TEMPORAL_UI_URL;
  // For the person who ran npm start, on stderr: stdout carries only JSON log lines, for whatever collects them.
  process.stderr.write(`
RevOps Orchestrator is running
  API          http://localhost:${port}
  API docs     http://localhost:${port}/docs   (OpenAPI: /openapi.json)
  Dashboard    http://localhost:${port}/dashboard   (managers and ops: sign in with your token)
  Metrics      http://localhost:${port}/metrics   (logs: JSON lines on stdout, LOG_LEVEL)
  Temporal     ${reachable.address} (namespace ${temporal.namespace})${uiUrl ? `\n  Temporal UI  ${uiUrl}/namespaces/${temporal.namespace}/workflows` : ''}
  Database     ${database.description}
  Payloads     encrypted (AES-256-GCM, a key per lead and deal) ${development ? `with a development key ${development.created ? 'created now in' : 'from'} ${development.file}; set PAYLOAD_KEYS in production` : `with PAYLOAD_KEYS (active key ${keyring.activeKeyId})`}
  Codec server http://localhost:${port}/codec   (ops tokens; the Temporal UI decodes through it)
  Policy       ${policy.version} current (${settings.policyFile}: ${seeded.version}, ${seeded.outcome})
  Team         ${team}
${settings.apiKeys ? `  API keys     ${apiKeys.length} from API_KEYS` : `  Development API tokens (set API_KEYS to replace them):\n${describeApiKeys(apiKeys)}`}

`);
  logger.info({ port, temporal: reachable.address, namespace: temporal.namespace, policy: policy.version }, 'RevOps Orchestrator is running');
  process.send?.({ type: 'ready', port });
}

/** The UI's origin under both names of this machine: a browser treats localhost and 127.0.0.1 as different origins. */
function uiOrigins(uiUrl: string | undefined): string[] {
  if (!uiUrl) return [];
  const origin = new URL(uiUrl);
  const other = new URL(uiUrl);
  other.hostname = origin.hostname === 'localhost' ? '127.0.0.1' : origin.hostname === '127.0.0.1' ? 'localhost' : origin.hostname;
  return [...new Set([origin.origin, other.origin])];
}

main().catch((error) => {
  // Start-up waits are cut short by shutdown, which exits on its own.
  if (shutdown.signal.aborted) return;
  logger.fatal({ err: error }, `service did not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
