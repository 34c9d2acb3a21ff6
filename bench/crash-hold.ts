import './quiet-logs.js';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { RetryingClient, startFaultEnvironment, takeInLead } from '../test/faults/harness.js';
import { tokenFor } from '../test/support/service.js';
import { temporalSettings } from '../temporal.config.js';
import { progress, summarize } from './support.js';

/**
 * `npx tsx bench/crash-hold.ts [--timeouts 10000,30000] [--leads 20]`: what a worker crash costs the steps sent
 * just after it, for each sticky queue timeout (TEMPORAL_STICKY_TIMEOUT_MS). On the fault tests' set-up (the
 * worker and the API as separate processes, a client that retries 5xx with its Idempotency-Key, the API's step
 * timeout 5 s): N leads accepted, so their workflows sit in the worker's cache; the worker SIGKILLed and a new one
 * started at once; 500 ms after the kill, one step per lead; each timed from the kill until answered. Then one
 * more step per lead, timed on its own, to show the hold is over. Asserts nothing; prints the figures.
 */

const { values } = parseArgs({ options: { timeouts: { type: 'string', default: '10000,30000' }, leads: { type: 'string', default: '20' } } });
// Read as the service reads them, so a value the worker would refuse stops here, not as a worker that never polls.
const timeouts = values.timeouts.split(',').map((ms) => temporalSettings({ TEMPORAL_STICKY_TIMEOUT_MS: ms.trim() }).stickyQueueTimeoutMs);
const leadCount = Number(values.leads);
if (!Number.isInteger(leadCount) || leadCount < 1) throw new Error(`--leads ${values.leads}: a whole number of leads, at least 1`);

interface Hold {
  stickyQueueTimeoutMs: number;
  newWorkerPollingAfterMs: number;
  answeredAfterKillMs: ReturnType<typeof summarize>;
  requestsPerStep: number;
  nextStepMs: ReturnType<typeof summarize>;
}

async function measureHold(stickyQueueTimeoutMs: number): Promise<Hold> {
  progress(`crash hold, sticky timeout ${stickyQueueTimeoutMs} ms: starting Temporal, Postgres, the worker and the API`);
  const environment = await startFaultEnvironment({ stepTimeoutMs: 5_000, env: { TEMPORAL_STICKY_TIMEOUT_MS: String(stickyQueueTimeoutMs) } });
  try {
    const client = new RetryingClient(environment.apiUrl);
    const prefix = `hold-${stickyQueueTimeoutMs}-${Date.now()}`;
    const leads = Array.from({ length: leadCount }, (_, i) => `${prefix}-${i}`);
    const owners = new Map<string, string>();
    await Promise.all(
      leads.map(async (leadId) => {
        owners.set(leadId, await takeInLead(client, leadId));
        const accepted = await client.send('POST', `/leads/${leadId}/accept`, { token: tokenFor('sales', owners.get(leadId)), body: {}, key: `${leadId}-accept` });
        if (accepted.status !== 200) throw new Error(`accept ${leadId}: ${accepted.status} ${JSON.stringify(accepted.body)}`);
      }),
    );
    const attempt = (leadId: string, n: number) =>
      client.send('POST', `/leads/${leadId}/contact-attempts`, {
        token: tokenFor('sales', owners.get(leadId)),
        body: { channel: 'phone', outcome: 'no-answer' },
        key: `${leadId}-attempt-${n}`,
      });

    progress(`crash hold: ${leadCount} leads accepted; SIGKILL to the worker`);
    const killedAt = Date.now();
    const replaced = environment.killWorker(0).then(() => Date.now() - killedAt);
    await sleep(500);
    const requestsBefore = client.requests;
    const answeredAfterKill = await Promise.all(
      leads.map(async (leadId) => {
        const answer = await attempt(leadId, 1);
        if (answer.status !== 200) throw new Error(`contact attempt ${leadId}: ${answer.status} ${JSON.stringify(answer.body)}`);
        return Date.now() - killedAt;
      }),
    );
    const requestsPerStep = (client.requests - requestsBefore) / leadCount;
    const nextStep = await Promise.all(
      leads.map(async (leadId) => {
        const sent = Date.now();
        const answer = await attempt(leadId, 2);
        if (answer.status !== 200) throw new Error(`contact attempt ${leadId}: ${answer.status} ${JSON.stringify(answer.body)}`);
        return Date.now() - sent;
      }),
    );
    return {
      stickyQueueTimeoutMs,
      newWorkerPollingAfterMs: await replaced,
      answeredAfterKillMs: summarize(answeredAfterKill),
      requestsPerStep,
      nextStepMs: summarize(nextStep),
    };
  } finally {
    await environment.teardown();
  }
}

const holds: Hold[] = [];
for (const timeout of timeouts) holds.push(await measureHold(timeout));
const ms = (value: number) => `${(value / 1000).toFixed(1)} s`;
console.log('| sticky timeout | new worker polling after the kill | steps sent 0.5 s after the kill answered after (min / p50 / max) | requests per step (the API answers 503 after 5 s) | the next step, p50 / max |');
console.log('|---|---|---|---|---|');
for (const hold of holds) {
  const { answeredAfterKillMs: held, nextStepMs: next } = hold;
  console.log(
    `| ${ms(hold.stickyQueueTimeoutMs)} | ${ms(hold.newWorkerPollingAfterMs)} | ${ms(held.min)} / ${ms(held.p50)} / ${ms(held.max)} | ${hold.requestsPerStep.toFixed(1)} | ${next.p50.toFixed(0)} / ${next.max.toFixed(0)} ms |`,
  );
}
process.exit(0);
