import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../api/app.js';
import { createPolicyStore } from '../api/policy-store.js';
import { closeServer, listen } from '../api/server.js';
import { openDatabase } from '../db/client.js';
import { serviceSettings } from '../service.config.js';
import { temporalSettings } from '../temporal.config.js';
import { describeApiKeys, developmentApiKeys, installWorkerLogging, onShutdown } from './boot.js';
import { createWorker } from './create-worker.js';
import { startDevServer, type DevServer } from './dev-server.js';
import { ensureSearchAttributes } from './search-attributes.js';
import { connectClient, connectWorker } from './temporal-connection.js';

/** `npm start`: Temporal (embedded dev server unless TEMPORAL_ADDRESS is set), database, worker and API in one process. */
async function main() {
  const settings = serviceSettings();
  const temporal = temporalSettings();
  installWorkerLogging('WARN'); // keep the start-up banner readable; LOG_LEVEL=INFO shows the worker's own logs
  mkdirSync(settings.dataDir, { recursive: true });

  let devServer: DevServer | undefined;
  if (!temporal.address) {
    console.log('Starting the embedded Temporal dev server…');
    devServer = await startDevServer({
      port: settings.temporalPort,
      uiPort: settings.temporalUiPort,
      dbFilename: join(settings.dataDir, 'temporal.sqlite'),
    });
  }
  const address = temporal.address ?? devServer!.address;

  const database = await openDatabase({ databaseUrl: settings.databaseUrl, dataDir: settings.dataDir });
  const policyStore = createPolicyStore(database.db);
  const seeded = await policyStore.seedFromFile(settings.policyFile);
  const policy = await policyStore.current();
  const client = await connectClient({ ...temporal, address });
  const added = await ensureSearchAttributes(client.connection, temporal.namespace).catch((error: Error) => {
    console.warn(`Could not register search attributes (${error.message}); on Temporal Cloud add them with tcld or the Cloud UI.`);
    return [];
  });
  if (added.length > 0) console.log(`Registered search attributes: ${added.join(', ')}`);

  const workerConnection = await connectWorker({ ...temporal, address });
  const worker = await createWorker({ connection: workerConnection, namespace: temporal.namespace, db: database.db });
  const workerRun = worker.run();

  const apiKeys = settings.apiKeys ?? developmentApiKeys(settings.dataDir);
  const app = createApp({ client, db: database.db, apiKeys, currentPolicy: () => policyStore.current(), policyStore });
  const { server, port } = await listen(app, settings.port);

  console.log(`
RevOps Orchestrator is running
  API          http://localhost:${port}
  API docs     http://localhost:${port}/docs   (OpenAPI: /openapi.json)
  Temporal     ${address} (namespace ${temporal.namespace})${devServer?.uiUrl ? `\n  Temporal UI  ${devServer.uiUrl}/namespaces/${temporal.namespace}/workflows` : ''}
  Database     ${database.description}
  Policy       ${policy.version} current (${settings.policyFile}: ${seeded.version}, ${seeded.outcome})
${settings.apiKeys ? `  API keys     ${apiKeys.length} from API_KEYS` : `  Development API tokens (set API_KEYS to replace them):\n${describeApiKeys(apiKeys)}`}
`);

  onShutdown(async () => {
    await closeServer(server);
    // The SDK's runtime also stops workers on SIGINT/SIGTERM; only ask if it has not already.
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await workerRun;
    await client.connection.close();
    await workerConnection.close();
    await database.close();
    await devServer?.stop();
  });
  await workerRun;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
