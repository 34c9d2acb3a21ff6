import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiKey } from '../service.config.js';

/**
 * `npm run demo`: drives a handful of leads and deals through their lives against a running `npm start`, on
 * the seconds-scale policy, so the Temporal UI, /metrics and the reports have something to show. Each
 * scenario runs at once and prints its progress; the whole run takes about ten seconds.
 *
 * DEMO_API_URL (default http://localhost:3000) and the development tokens in DATA_DIR/dev-api-keys.json
 * (default .data/) that npm start made; with API_KEYS set, give DEMO_TOKENS=sales:…,cs:…,ops:…,manager:…
 * whose sales and CS actors are dev-sales and dev-cs of the team file.
 */

const apiUrl = (process.env.DEMO_API_URL ?? `http://localhost:${process.env.PORT ?? 3000}`).replace(/\/$/, '');
const secondsScaleFile = fileURLToPath(new URL('../policies/seconds-scale.json', import.meta.url));
const SALES_REP = 'dev-sales';
const CS_REP = 'dev-cs';
const run = new Date().toISOString().slice(11, 19).replace(/:/g, '');

type Role = ApiKey['role'];

function tokens(): Record<Role, string> {
  if (process.env.DEMO_TOKENS) {
    return Object.fromEntries(process.env.DEMO_TOKENS.split(',').map((pair) => pair.split(':', 2) as [Role, string])) as Record<Role, string>;
  }
  const file = join(resolve(process.env.DATA_DIR || '.data'), 'dev-api-keys.json');
  if (!existsSync(file)) throw new Error(`no ${file}: start the service with \`npm start\` first (or set DEMO_TOKENS)`);
  const keys = JSON.parse(readFileSync(file, 'utf8')) as ApiKey[];
  return Object.fromEntries(keys.map((key) => [key.role, key.token])) as Record<Role, string>;
}

const token = tokens();

function say(scenario: string, line: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)}  ${scenario.padEnd(16)} ${line}\n`);
}

/** One request; a 503 (Temporal or the worker busy) is retried with the same Idempotency-Key, as a client should. */
async function call(role: Role, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const key = randomUUID();
  for (let attempt = 1; ; attempt += 1) {
    const response = await fetch(`${apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token[role]}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status === 503 && attempt < 10) {
      await sleep(1_000);
      continue;
    }
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }
}

async function must(role: Role, method: string, path: string, body?: unknown): Promise<any> {
  const answer = await call(role, method, path, body);
  if (answer.status >= 300) throw new Error(`${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

async function until<T>(read: () => Promise<T>, accept: (value: T) => boolean, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(250);
  }
}

const lead = (leadId: string) => must('ops', 'GET', `/leads/${leadId}`);

/** Intake, then routing; the development sales token acts as dev-sales, so a lead routed elsewhere is handed to them by the manager. */
async function intakeForDevSales(scenario: string, leadId: string, company: string, icpTier: 1 | 2 | 3): Promise<void> {
  await must('sales', 'POST', '/leads', { leadId, email: `buyer@${company.toLowerCase()}.example`, company, icpTier, source: 'demo', score: { fit: 35, behavior: 10, intent: 10 } });
  const routed = await until(() => lead(leadId), (state) => state.ownerId !== null, 'routing');
  say(scenario, `${leadId} is MQL, routed to ${routed.ownerId}`);
  if (routed.ownerId !== SALES_REP) {
    await must('manager', 'POST', `/leads/${leadId}/reassign`, { toRepId: SALES_REP, reason: 'demo: dev-sales works this lead' });
    say(scenario, `manager reassigned it to ${SALES_REP}`);
  }
}

const dossier = {
  businessGoals: ['Answer customers within an hour'],
  scope: 'Helpdesk for three support teams',
  kpis: [{ name: 'First response', metric: 'median first-response time', target: 1, unit: 'hours' }],
  stakeholders: [
    { name: 'Ewa', role: 'economic-buyer' },
    { name: 'Jan', role: 'champion' },
  ],
  risks: [],
};

async function handoff(scenario: string, dealId: string, options: { missDossier: boolean }): Promise<void> {
  await until(() => call('ops', 'GET', `/deals/${dealId}`), (answer) => answer.status === 200 && answer.body.csOwnerId !== null, 'the deal workflow');
  if (options.missDossier) {
    say(scenario, `${dealId}: nobody sends the dossier…`);
    await until(() => must('ops', 'GET', `/deals/${dealId}`), (state) => state.handoffState === 'breached', 'the dossier deadline to pass');
    say(scenario, `${dealId}: dossier overdue (HandoffState=breached), reminder and manager alert sent`);
  }
  await must('sales', 'POST', `/deals/${dealId}/dossier`, dossier);
  say(scenario, `${dealId}: dossier delivered${options.missDossier ? ' late' : ''}; CS gets it with a brief per stakeholder`);
  await must('cs', 'POST', `/deals/${dealId}/kickoff`, { heldAt: new Date().toISOString(), attendees: ['Jan', CS_REP] });
  say(scenario, `${dealId}: onboarding kickoff held`);
  await until(() => must('ops', 'GET', `/deals/${dealId}`), (state) => state.stage === 'AWAITING_QBR' || state.deadlines?.some((d: { label: string }) => /QBR/.test(d.label)), 'the QBR to come due');
  await must('cs', 'POST', `/deals/${dealId}/qbr`, { heldAt: new Date().toISOString(), healthScore: 8 });
  const done = await until(() => must('ops', 'GET', `/deals/${dealId}`), (state) => state.stage === 'COMPLETED', 'the deal to complete');
  say(scenario, `${dealId}: first QBR held; deal ${done.stage}`);
}

const scenarios: Record<string, () => Promise<void>> = {
  async 'won → handoff'() {
    const scenario = 'won → handoff';
    const leadId = `L-demo-${run}-won`;
    const dealId = `D-demo-${run}-won`;
    await intakeForDevSales(scenario, leadId, 'Acme', 1);
    await must('sales', 'POST', `/leads/${leadId}/accept`, {});
    await must('sales', 'POST', `/leads/${leadId}/contact-attempts`, { channel: 'phone', outcome: 'connected' });
    await must('sales', 'POST', `/leads/${leadId}/qualify`, { need: true, budget: true, timing: true });
    say(scenario, `${leadId} accepted, reached on the phone, qualified (SQL)`);
    await must('sales', 'POST', `/leads/${leadId}/close`, { outcome: 'won', deal: { dealId, amount: 48_000, currency: 'EUR', signedAt: new Date().toISOString(), csOwnerId: CS_REP } });
    say(scenario, `${leadId} won: deal ${dealId}, 48,000 EUR, starts the CS handoff`);
    await handoff(scenario, dealId, { missDossier: false });
  },
  async 'escalated'() {
    const scenario = 'escalated';
    const leadId = `L-demo-${run}-late`;
    await must('sales', 'POST', '/leads', { leadId, email: 'cto@globex.example', company: 'Globex', icpTier: 1, source: 'demo', score: { fit: 35, behavior: 10, intent: 10 } });
    const first = await until(() => lead(leadId), (state) => state.ownerId !== null, 'routing');
    say(scenario, `${leadId} routed to ${first.ownerId}; nobody answers…`);
    await until(() => lead(leadId), (state) => state.slaState === 'breached', 'the breach', 30_000);
    say(scenario, 'deadline missed: SlaState=breached, owner reminded');
    const moved = await until(() => lead(leadId), (state) => state.escalationLevel >= 3, 'the reassignment', 30_000);
    say(scenario, `manager alerted, then reassigned to ${moved.ownerId} with a fresh deadline`);
    if (moved.ownerId !== SALES_REP) await must('manager', 'POST', `/leads/${leadId}/reassign`, { toRepId: SALES_REP, reason: 'demo: dev-sales takes over' });
    await must('sales', 'POST', `/leads/${leadId}/accept`, {});
    await must('sales', 'POST', `/leads/${leadId}/contact-attempts`, { channel: 'email', outcome: 'replied' });
    await must('sales', 'POST', `/leads/${leadId}/qualify`, { need: true, budget: true, timing: true });
    await must('sales', 'POST', `/leads/${leadId}/close`, { outcome: 'lost', reason: 'chose a competitor' });
    say(scenario, `${leadId} accepted late, qualified, lost`);
  },
  async 'nurture and back'() {
    const scenario = 'nurture and back';
    const leadId = `L-demo-${run}-back`;
    await intakeForDevSales(scenario, leadId, 'Initech', 2);
    await must('sales', 'POST', `/leads/${leadId}/accept`, {});
    await must('sales', 'POST', `/leads/${leadId}/reject`, { reason: 'too-early' });
    say(scenario, `${leadId} rejected (too-early): NURTURE, a new workflow run`);
    await sleep(2_000);
    await must('ops', 'POST', `/leads/${leadId}/engagement`, { signal: 'demo-request' });
    const back = await until(() => lead(leadId), (state) => state.stage === 'MQL', 'the return to MQL');
    say(scenario, `a demo request brings it back: MQL again (cycle ${back.cycle + 1}), routed to ${back.ownerId}`);
  },
  async 'cold lead'() {
    const scenario = 'cold lead';
    const leadId = `L-demo-${run}-cold`;
    await must('sales', 'POST', '/leads', { leadId, email: 'info@umbrella.example', company: 'Umbrella', icpTier: 3, source: 'demo', score: { fit: 10, behavior: 5, intent: 0 } });
    say(scenario, `${leadId} scores below the MQL threshold: stays LEAD, no owner, no clock`);
  },
  async 'late dossier'() {
    const scenario = 'late dossier';
    const dealId = `D-demo-${run}-late`;
    const now = new Date().toISOString();
    await must('ops', 'POST', '/deals', { dealId, accountName: 'Hooli', amount: 120_000, currency: 'USD', signedAt: now, closedWonAt: now, salesOwnerId: SALES_REP, csOwnerId: CS_REP });
    say(scenario, `${dealId}: 120,000 USD won by ${SALES_REP}, onboarded by ${CS_REP}`);
    await handoff(scenario, dealId, { missDossier: true });
  },
};

async function main() {
  const health = await fetch(`${apiUrl}/health`).catch(() => null);
  if (!health?.ok) throw new Error(`no service at ${apiUrl}: start it with \`npm start\` (or set DEMO_API_URL)`);
  const document = JSON.parse(readFileSync(secondsScaleFile, 'utf8')) as { version: string };
  const published = await must('ops', 'GET', '/policies');
  const current = (published.policies ?? published)[0]?.version;
  if (current !== document.version) {
    const answer = await call('ops', 'POST', '/policies', { note: 'npm run demo: the same rules in seconds', policy: document });
    if (answer.status !== 201 && answer.status !== 409) throw new Error(`could not publish ${document.version}: ${JSON.stringify(answer.body)}`);
    say('setup', `published policy ${document.version}: new leads and deals now start on seconds (restart npm start with POLICY_FILE to change)`);
  }
  say('setup', `driving ${Object.keys(scenarios).length} scenarios against ${apiUrl}`);
  const started = Date.now();
  const outcomes = await Promise.allSettled(Object.entries(scenarios).map(([name, scenario]) => scenario().catch((error: Error) => {
    say(name, `failed: ${error.message}`);
    throw error;
  })));
  const failed = outcomes.filter((outcome) => outcome.status === 'rejected').length;
  say('done', `${outcomes.length - failed} of ${outcomes.length} scenarios finished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  say('done', `Temporal UI: ${process.env.TEMPORAL_UI_URL ?? `http://localhost:${process.env.TEMPORAL_UI_PORT ?? 8233}`}/namespaces/default/workflows?query=${encodeURIComponent(`WorkflowId STARTS_WITH "lead-L-demo-${run}" OR WorkflowId STARTS_WITH "deal-D-demo-${run}"`)}`);
  say('done', `metrics: ${apiUrl}/metrics · reports: ${apiUrl}/reports/lead-sla and /reports/handoffs (manager or ops token)`);
  if (failed > 0) process.exitCode = 1;
}

main().catch((error: Error) => {
  process.stderr.write(`demo: ${error.message}\n`);
  process.exit(1);
});
