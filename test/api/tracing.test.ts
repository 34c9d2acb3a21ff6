import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { createApp } from '../../api/app.js';
import { createPolicyStore } from '../../db/policy-store.js';
import { setLogDestination } from '../../observability/logger.js';
import { startTracing, tracing } from '../../observability/tracing.js';
import { createWorker } from '../../worker/create-worker.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { alwaysOpenPolicy } from '../support/policies.js';
import { eventually } from '../support/scenarios.js';
import { testTokens, tokenFor } from '../support/service.js';
import { createDevServerEnvironment, quietWorkerLogs, uniqueId, type DevServerEnvironment } from '../support/temporal.js';

describe('one step, traced from the HTTP request to SQL (in-memory exporter)', () => {
  const exporter = new InMemorySpanExporter();
  let temporal: DevServerEnvironment;
  let database: TestDatabase;
  let worker: Worker;
  let workerRun: Promise<void>;
  let app: ReturnType<typeof createApp>;

  const call = async (method: string, path: string, role: 'sales' | 'ops', body?: unknown, as?: string) => {
    const response = await app.request(path, {
      method,
      headers: { authorization: `Bearer ${tokenFor(role, as)}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  before(async () => {
    startTracing({ serviceName: 'revops-test', spanProcessor: new SimpleSpanProcessor(exporter) });
    quietWorkerLogs();
    [temporal, database] = await Promise.all([createDevServerEnvironment(), createTestDatabase()]);
    const policyStore = createPolicyStore(database.db);
    await policyStore.publish({ document: alwaysOpenPolicy(uniqueId('trace')), author: 'test', note: 'tracing test' });
    // Bundled here rather than prebuilt: the tracing plugin adds its workflow interceptors to the bundle.
    worker = await createWorker({ connection: temporal.workerConnection, namespace: temporal.namespace, db: database.db });
    workerRun = worker.run();
    const client = new Client({ connection: temporal.client.connection, namespace: temporal.namespace, plugins: [tracing()!.plugin] });
    app = createApp({ client, db: database.db, apiKeys: testTokens, currentPolicy: () => policyStore.current(), policyStore });
    assert.equal((await call('POST', '/reps', 'ops', { repId: 'rep-anna', name: 'Anna', seniority: 'senior' })).status, 201);
    assert.equal((await call('POST', '/queues', 'ops', { queueId: 'inbound', name: 'Inbound', strategy: 'round-robin', members: ['rep-anna'] })).status, 201);
  });
  after(async () => {
    worker?.shutdown();
    await workerRun;
    await Promise.all([temporal?.teardown(), database?.drop()]);
  });

  test('accepting a lead: HTTP span → update (client and workflow) → audit activity → its SQL, one trace', async () => {
    const leadId = uniqueId('L');
    const intake = await call('POST', '/leads', 'sales', { leadId, email: 'ceo@acme.example', company: 'Acme', icpTier: 1, score: { fit: 30, behavior: 10, intent: 5 } });
    assert.equal(intake.status, 201, JSON.stringify(intake.body));
    await eventually(() => call('GET', `/leads/${leadId}`, 'ops'), (r) => r.body.ownerId === 'rep-anna', 'routing');
    exporter.reset();
    const lines: string[] = [];
    setLogDestination({ write: (line: string) => void lines.push(line) }, 'info');

    assert.equal((await call('POST', `/leads/${leadId}/accept`, 'sales', {}, 'rep-anna')).status, 200);

    const named = (spans: ReadableSpan[], name: string) => spans.filter((span) => span.name === name);
    const spans = await eventually(
      async () => exporter.getFinishedSpans(),
      (finished) => named(finished, 'RunActivity:recordLeadEvents').length > 0 && named(finished, 'HandleUpdate:acceptLead').length > 0,
      'the activity and workflow spans',
    );
    const describe = (span: ReadableSpan) => `${span.name} [${span.spanContext().traceId.slice(0, 8)} ${span.spanContext().spanId.slice(0, 6)} ← ${span.parentSpanId?.slice(0, 6) ?? '-'}]`;
    const picture = spans.map(describe).join('\n');

    const [http] = named(spans, 'POST /leads/:leadId/accept');
    assert.ok(http, picture);
    const traceId = http.spanContext().traceId;
    const inTrace = spans.filter((span) => span.spanContext().traceId === traceId);
    const byId = new Map(inTrace.map((span) => [span.spanContext().spanId, span]));
    const ancestors = (span: ReadableSpan): string[] => {
      const parent = span.parentSpanId ? byId.get(span.parentSpanId) : undefined;
      return parent ? [parent.name, ...ancestors(parent)] : [];
    };

    const update = named(inTrace, 'StartWorkflowUpdate:acceptLead')[0];
    assert.ok(update, `the client's update span is in the request's trace\n${picture}`);
    assert.deepEqual(ancestors(update), ['POST /leads/:leadId/accept']);
    const handler = named(inTrace, 'HandleUpdate:acceptLead')[0];
    assert.ok(handler, `the workflow's update handler is in the trace\n${picture}`);
    assert.ok(ancestors(handler).includes('StartWorkflowUpdate:acceptLead'), picture);
    const activity = named(inTrace, 'RunActivity:recordLeadEvents')[0];
    assert.ok(activity, `the audit activity is in the trace\n${picture}`);
    assert.ok(ancestors(activity).includes('POST /leads/:leadId/accept'), picture);
    const sql = inTrace.filter((span) => span.attributes['db.system'] === 'postgresql' && ancestors(span).includes('RunActivity:recordLeadEvents'));
    // The step's audit is one statement (data-modifying CTEs): it inserts the events.
    assert.ok(sql.some((span) => /insert into lead_events\b/i.test(String(span.attributes['db.query.text']))), `the audit's statement under the activity\n${picture}`);
    const access = lines.map((line) => JSON.parse(line)).find((entry) => entry.component === 'http' && entry.route === '/leads/:leadId/accept');
    assert.equal(access?.traceId, traceId, 'the access log line names the trace');
    for (const span of inTrace) assert.ok(!JSON.stringify(span.attributes).includes('ceo@acme.example'), `no e-mail in ${span.name}`);
  });
});
