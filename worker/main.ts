import { openDatabase } from '../db/client.js';
import { serviceSettings } from '../service.config.js';
import { temporalSettings } from '../temporal.config.js';
import { installWorkerLogging, onShutdown } from './boot.js';
import { createWorker } from './create-worker.js';
import { ensureSearchAttributes } from './search-attributes.js';
import { connectClient, connectWorker } from './temporal-connection.js';

/** `npm run worker`: one worker process for a shared Temporal cluster and Postgres; run as many as load needs. */
async function main() {
  const settings = serviceSettings();
  const temporal = temporalSettings();
  installWorkerLogging('INFO');
  if (!settings.databaseUrl) throw new Error('npm run worker needs DATABASE_URL: separate processes cannot share the embedded database');
  const address = temporal.address ?? '127.0.0.1:7233';

  const database = await openDatabase({ databaseUrl: settings.databaseUrl, dataDir: settings.dataDir });
  const client = await connectClient({ ...temporal, address });
  await ensureSearchAttributes(client.connection, temporal.namespace).catch((error: Error) =>
    console.warn(`Could not register search attributes (${error.message}); on Temporal Cloud add them with tcld or the Cloud UI.`),
  );
  await client.connection.close();

  const connection = await connectWorker({ ...temporal, address });
  const worker = await createWorker({ connection, namespace: temporal.namespace, db: database.db });
  console.log(`Worker polling ${address} namespace ${temporal.namespace}; database ${database.description}`);
  onShutdown(async () => {
    // The SDK's runtime also stops workers on SIGINT/SIGTERM; only ask if it has not already.
    if (worker.getState() === 'RUNNING') worker.shutdown();
  });
  await worker.run();
  await connection.close();
  await database.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
