import { openDatabase } from '../db/client.js';
import { serviceSettings } from '../service.config.js';
import { temporalSettings } from '../temporal.config.js';
import { onShutdown } from '../worker/boot.js';
import { connectClient } from '../worker/temporal-connection.js';
import { createApp } from './app.js';
import { createPolicyStore } from './policy-store.js';
import { closeServer, listen } from './server.js';

/** `npm run api`: one stateless API process; run as many as load needs behind a load balancer. */
async function main() {
  const settings = serviceSettings();
  const temporal = temporalSettings();
  if (!settings.databaseUrl) throw new Error('npm run api needs DATABASE_URL: separate processes cannot share the embedded database');
  if (!settings.apiKeys) throw new Error('npm run api needs API_KEYS (token:actorId:role, comma-separated); it never runs open');
  const address = temporal.address ?? '127.0.0.1:7233';

  const database = await openDatabase({ databaseUrl: settings.databaseUrl, dataDir: settings.dataDir });
  const policyStore = createPolicyStore(database.db);
  await policyStore.seedFromFile(settings.policyFile);
  const policy = await policyStore.current();
  const client = await connectClient({ ...temporal, address });
  const app = createApp({ client, db: database.db, apiKeys: settings.apiKeys, currentPolicy: () => policyStore.current(), policyStore });
  const { server, port } = await listen(app, settings.port);
  console.log(`API listening on http://localhost:${port} (docs at /docs); Temporal ${address}; database ${database.description}; policy ${policy.version}`);
  onShutdown(async () => {
    await closeServer(server);
    await client.connection.close();
    await database.close();
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
