import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { Browser } from 'playwright-core';
import { createApp } from '../../api/app.js';
import { createPolicyStore } from '../../db/policy-store.js';
import { getRequestListener } from '@hono/node-server';
import { closeServer } from '../../api/server.js';
import { generateKeyEntry, parseKeyring } from '../../privacy/keyring.js';
import { payloadProtection } from '../../privacy/payload-protection.js';
import { createWorker } from '../../worker/create-worker.js';
import { startDevServer, type DevServer } from '../../worker/dev-server.js';
import { waitForNamespace } from '../../worker/temporal-connection.js';
import { ARTIFACTS_DIR, launchChromium } from '../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { alwaysOpenPolicy } from '../support/policies.js';
import { eventually } from '../support/scenarios.js';
import { testTokens, tokenFor } from '../support/service.js';
import { freePort, quietWorkerLogs, uniqueId, workflowBundle } from '../support/temporal.js';

/**
 * The Temporal Web UI as ops use it, in Chromium: the embedded UI of the dev server, pointed at the codec server
 * as `npm start` points it, shows a lead's payloads as ciphertext until an ops token signs in to the dashboard,
 * and decoded afterwards (the UI's codec settings include credentials, as the README says to set them).
 */
describe('the Temporal Web UI decodes through the codec server (Chromium)', () => {
  let server: DevServer;
  let database: TestDatabase;
  let worker: Worker;
  let workerRun: Promise<void>;
  let connection: Connection;
  let workerConnection: NativeConnection;
  let api: Server | undefined;
  let browser: Browser;
  let uiPort: number;
  let apiPort: number;
  const email = `ui.${uniqueId('x').toLowerCase()}@osoba.example`;
  const leadId = uniqueId('L');

  before(async () => {
    quietWorkerLogs();
    // The API's port is held from here on: the dev server's UI is told it before the app exists, and a port only
    // picked as free could be taken by the dev server's own listeners in between.
    const apiServer = createServer();
    api = apiServer;
    await new Promise<void>((resolve, reject) => apiServer.once('error', reject).listen(0, '127.0.0.1', resolve));
    apiPort = (apiServer.address() as AddressInfo).port;
    uiPort = await freePort();
    database = await createTestDatabase();
    server = await startDevServer({ port: await freePort(), uiPort, codecEndpoint: `http://localhost:${apiPort}/codec` });
    connection = await Connection.connect({ address: server.address });
    await waitForNamespace(connection, 'default');
    workerConnection = await NativeConnection.connect({ address: server.address });
    const protection = payloadProtection(database.db, parseKeyring(generateKeyEntry('ui-1')));
    const client = new Client({ connection, namespace: 'default', dataConverter: protection.dataConverter });
    const policyStore = createPolicyStore(database.db);
    await policyStore.publish({ document: alwaysOpenPolicy(), author: 'test', note: 'UI codec test' });
    const taskQueue = uniqueId('ui-codec');
    worker = await createWorker({
      connection: workerConnection,
      namespace: 'default',
      db: database.db,
      taskQueue,
      dataConverter: protection.workerDataConverter,
      workflowBundle: await workflowBundle({ failureConverterPath: protection.dataConverter.failureConverterPath }),
    });
    workerRun = worker.run();
    const app = createApp({
      client,
      db: database.db,
      apiKeys: testTokens,
      currentPolicy: () => policyStore.current(),
      policyStore,
      recordKeys: protection.recordKeys,
      codecServer: { codec: protection.codecServerCodec, corsOrigins: [`http://localhost:${uiPort}`] },
    });
    api.on('request', getRequestListener(app.fetch));
    // The lead is started the way the API starts one, on this test's task queue.
    const { leadWorkflow } = await import('../../workflows/lead-workflow.js');
    await client.workflow.start(leadWorkflow, {
      taskQueue,
      workflowId: `lead-${leadId}`,
      args: [{ profile: { leadId, email, company: 'UI Test Sp. z o.o.', icpTier: 2 }, score: { fit: 10, behavior: 5, intent: 0, negative: 0 }, policy: await policyStore.current(), actor: 'test' }],
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    if (api) await closeServer(api);
    worker?.shutdown();
    await workerRun;
    await workerConnection?.close();
    await connection?.close();
    await server?.stop();
    await database?.drop();
  });

  test('ciphertext without a session, the e-mail once ops sign in; a manager never decodes', async () => {
    const page = await (await browser.newContext()).newPage();
    const answers: number[] = [];
    page.on('response', (response) => {
      if (response.url().includes('/codec/decode')) answers.push(response.status());
    });
    // The UI's codec settings ("use my browser setting", endpoint, include cross-origin credentials), as a user sets them.
    await page.goto(`http://localhost:${uiPort}/`);
    await page.evaluate((endpoint) => {
      localStorage.setItem('overrideRemoteCodecConfiguration', 'true');
      localStorage.setItem('endpoint', JSON.stringify(endpoint));
      localStorage.setItem('includeCredentials', 'true');
    }, `http://localhost:${apiPort}/codec`);
    const workflowPage = `http://localhost:${uiPort}/namespaces/default/workflows/lead-${leadId}`;
    const show = async (label: string) => {
      answers.length = 0;
      await page.goto(workflowPage, { waitUntil: 'load' });
      await eventually(async () => answers.length, (count) => count > 0, `the UI calling the codec server (${label})`);
      await page.waitForTimeout(1_500);
      mkdirSync(new URL('temporal-ui/', ARTIFACTS_DIR), { recursive: true });
      await page.screenshot({ path: new URL(`temporal-ui/${label}.png`, ARTIFACTS_DIR).pathname });
      return { visible: (await page.content()).includes(email), answers: [...new Set(answers)] };
    };
    const signIn = async (role: 'ops' | 'manager') => {
      await page.goto(`http://localhost:${apiPort}/dashboard/sign-in`);
      await page.fill('input[name=token]', tokenFor(role));
      await Promise.all([page.waitForURL(/\/dashboard\/(?!sign-in)/), page.click('button[type=submit]')]);
    };

    const anonymous = await show('0-no-session');
    assert.deepEqual(anonymous, { visible: false, answers: [401] });

    await signIn('manager');
    const manager = await show('1-manager');
    assert.deepEqual(manager, { visible: false, answers: [401] }, 'a manager session does not reach the codec server');

    await signIn('ops');
    const ops = await show('2-ops');
    assert.deepEqual(ops, { visible: true, answers: [200] });
    console.log(`Temporal UI screenshots: ${new URL('temporal-ui/', ARTIFACTS_DIR).pathname}`);
  });
});
