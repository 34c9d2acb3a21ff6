import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProcess, tail, type ServiceProcess } from '../support/processes.js';
import { testApiKeys, tokenFor } from '../support/service.js';
import { freePort, uniqueId } from '../support/temporal.js';
import { RetryingClient } from './harness.js';

/**
 * Issue 17: `npm start` (worker/all-in-one.ts) supervises what it runs. With the embedded PGlite database
 * (no DATABASE_URL), a part killed outright is started again and the service answers as before, with its
 * data; SIGTERM to `npm start` then stops everything, children included, within 10 s.
 */

let dataDir: string;
let npmStart: ServiceProcess;
let apiUrl: string;
let client: RetryingClient;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function pidOf(part: string, fromOffset: number): Promise<number> {
  const line = await npmStart.waitFor(new RegExp(`\\[supervisor\\] ${part} running \\(pid \\d+\\)`), { fromOffset, timeoutMs: 180_000 });
  return Number(/pid (\d+)/.exec(line)![1]);
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'revops-npm-start-'));
  const [port, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
  apiUrl = `http://127.0.0.1:${port}`;
  client = new RetryingClient(apiUrl, 120_000);
  npmStart = startProcess('npm-start', 'worker/all-in-one.ts', {
    env: {
      DATA_DIR: dataDir,
      PORT: String(port),
      TEMPORAL_PORT: String(temporalPort),
      TEMPORAL_UI_PORT: String(uiPort),
      DATABASE_URL: undefined,
      TEMPORAL_ADDRESS: undefined,
      API_KEYS: testApiKeys.map((key) => `${key.token}:${key.actorId}:${key.role}`).join(','),
      // The supervisor's lines the test waits for (running, restarted) are info.
      LOG_LEVEL: 'info',
    },
  });
  await npmStart.waitFor(/RevOps Orchestrator is running/, { timeoutMs: 180_000 });
  await npmStart.waitFor(/Database +embedded PGlite/);
});

after(async () => {
  await npmStart?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function intake(leadId: string) {
  // Below the MQL threshold: the lead needs no routing, only a worker to start its workflow.
  const created = await client.send('POST', '/leads', {
    token: tokenFor('sales'),
    body: { leadId, email: `${leadId.toLowerCase()}@example.com`, company: `Company ${leadId}`, icpTier: 2, score: { fit: 5, behavior: 0, intent: 0 } },
  });
  assert.ok([200, 201].includes(created.status), JSON.stringify(created.body));
}

async function leadIsServed(leadId: string) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const state = await client.send('GET', `/leads/${leadId}`, { token: tokenFor('ops') });
    if (state.status === 200) {
      assert.equal(state.body.stage, 'LEAD');
      return;
    }
    assert.ok(Date.now() < deadline, `lead ${leadId}: ${state.status} ${JSON.stringify(state.body)}\n${tail(npmStart.output())}`);
    await sleep(250);
  }
}

test('npm start restarts a part that dies, and SIGTERM stops everything within 10 s', async () => {
  const service = await pidOf('service', 0);
  const temporal = await pidOf('temporal', 0);
  const first = uniqueId('npm-start');
  await intake(first);
  await leadIsServed(first);

  // The service process (worker, API and the embedded database) killed outright.
  let mark = npmStart.mark();
  process.kill(service, 'SIGKILL');
  await npmStart.waitFor(/\[supervisor\] service exited unexpectedly \(signal SIGKILL\).*restart 1 in/, { fromOffset: mark, timeoutMs: 10_000 });
  const newService = await pidOf('service', mark);
  assert.notEqual(newService, service);
  assert.equal(alive(service), false);
  await leadIsServed(first);
  const second = uniqueId('npm-start');
  await intake(second);
  await leadIsServed(second);

  // The Temporal dev server killed outright: restarted on its port and SQLite file, state intact.
  mark = npmStart.mark();
  process.kill(temporal, 'SIGKILL');
  await npmStart.waitFor(/\[supervisor\] temporal exited unexpectedly \(signal SIGKILL\).*restart 1 in/, { fromOffset: mark, timeoutMs: 10_000 });
  const newTemporal = await pidOf('temporal', mark);
  assert.notEqual(newTemporal, temporal);
  await leadIsServed(first);
  await leadIsServed(second);
  assert.equal(npmStart.exit(), null, 'npm start itself kept running');

  const sigterm = Date.now();
  npmStart.kill('SIGTERM');
  const exit = await Promise.race([npmStart.exited, sleep(10_000).then(() => null)]);
  assert.ok(exit, `npm start still running 10 s after SIGTERM\n${tail(npmStart.output())}`);
  assert.equal(exit.code, 0, tail(npmStart.output()));
  for (const pid of [newService, newTemporal]) assert.equal(alive(pid), false, `pid ${pid} outlived npm start`);
  console.log(`npm start stopped ${Date.now() - sigterm} ms after SIGTERM`);
});
