import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { createApp, MAX_BODY_BYTES } from '../../api/app.js';
import { closeServer, listen } from '../../api/server.js';
import type { Database } from '../../db/client.js';
import * as schema from '../../db/schema.js';
import { createWorker } from '../../worker/create-worker.js';
import { alwaysOpenPolicy } from '../support/policies.js';
import { startService, testApiKeys, tokenFor, type RunningService } from '../support/service.js';
import { uniqueId, workflowBundle } from '../support/temporal.js';

/**
 * What cannot be stored cannot enter (issue 10): each value below used to be accepted and then jam its record
 * (the audit write failing forever) or answer 500; now the API refuses it with 400 before anything starts.
 */

const mqlScore = { fit: 30, behavior: 10, intent: 5 };
const intakeBody = (leadId: string, extra: Record<string, unknown> = {}) => ({
  leadId,
  email: `${leadId.toLowerCase()}@example.com`,
  company: 'Acme',
  icpTier: 2,
  score: mqlScore,
  ...extra,
});
const dealBody = (dealId: string, extra: Record<string, unknown> = {}) => ({
  dealId,
  accountName: 'Acme',
  amount: 48_000,
  currency: 'EUR',
  signedAt: '2026-11-20T10:00:00Z',
  closedWonAt: '2026-11-20T10:00:00Z',
  salesOwnerId: 'rep-anna',
  ...extra,
});

async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    assert.ok(Date.now() < deadline, `${what}: still ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A TCP server that accepts and never answers: a dependency that hangs. */
async function blackhole(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('input limits, on a real Temporal dev server and Postgres', () => {
  let service: RunningService;
  before(async () => {
    service = await startService(alwaysOpenPolicy());
    const rep = await service.request('POST', '/reps', { role: 'ops', body: { repId: 'rep-anna', name: 'Anna', seniority: 'senior' } });
    assert.equal(rep.status, 201, JSON.stringify(rep.body));
    const queue = await service.request('POST', '/queues', { role: 'ops', body: { queueId: 'inbound', name: 'Inbound', strategy: 'round-robin', members: ['rep-anna'] } });
    assert.equal(queue.status, 201, JSON.stringify(queue.body));
  });
  after(async () => {
    await service?.stop();
  });

  const issuePaths = (body: { issues?: Array<{ path: string }> }) => (body.issues ?? []).map((issue) => issue.path);

  test('a fractional score is refused at intake (the score column is an integer)', async () => {
    const leadId = uniqueId('L');
    const fractional = await service.request('POST', '/leads', { body: intakeBody(leadId, { score: { fit: 40.5, behavior: 0, intent: 0 } }) });
    assert.equal(fractional.status, 400, JSON.stringify(fractional.body));
    assert.deepEqual(issuePaths(fractional.body), ['score.fit']);
    assert.equal((await service.request('GET', `/leads/${leadId}`)).status, 404, 'no workflow was started');
  });

  test('a NUL or a lone surrogate in company or source is refused; a surrogate pair is text like any other', async () => {
    const nulCompany = await service.request('POST', '/leads', { body: intakeBody(uniqueId('L'), { company: 'Ac\u0000me' }) });
    assert.equal(nulCompany.status, 400, JSON.stringify(nulCompany.body));
    // JSON.stringify would escape a lone surrogate too; written by hand to be sure what goes over the wire.
    const loneSurrogate = JSON.stringify(intakeBody(uniqueId('L'))).replace('"company":"Acme"', '"company":"Acme","source":"web\\ud800"');
    const surrogateSource = await service.request('POST', '/leads', { rawBody: loneSurrogate });
    assert.equal(surrogateSource.status, 400, JSON.stringify(surrogateSource.body));

    // 200 emoji are 200 characters (code points), as JSON Schema's maxLength counts them, though 400 UTF-16 units.
    const leadId = uniqueId('L');
    const emoji = await service.request('POST', '/leads', { body: intakeBody(leadId, { company: '😀'.repeat(200), source: 'web 🚀' }) });
    assert.equal(emoji.status, 201, JSON.stringify(emoji.body));
    const timeline = await eventually(
      () => service.request('GET', `/leads/${leadId}/timeline`, { role: 'ops' }),
      (answer) => answer.status === 200 && answer.body.events.length > 0,
      'the emoji lead reached the audit',
    );
    assert.equal(timeline.body.events[0].type, 'received');
    const tooLong = await service.request('POST', '/leads', { body: intakeBody(uniqueId('L'), { company: '😀'.repeat(201) }) });
    assert.equal(tooLong.status, 400);
    assert.deepEqual(issuePaths(tooLong.body), ['company']);
  });

  test('a guard refuses NUL, lone surrogates and absurd nesting anywhere in a JSON body, also where a schema would pass them through', async () => {
    const document = { ...alwaysOpenPolicy('test-guard'), comment: 'tab\u0000' };
    const passthrough = await service.request('POST', '/policies', { role: 'ops', body: { note: 'n', policy: document } });
    assert.equal(passthrough.status, 400, JSON.stringify(passthrough.body));
    assert.deepEqual(issuePaths(passthrough.body), ['policy.comment']);
    assert.match(passthrough.body.message, /NUL character/);
    const inKey = await service.request('POST', '/policies', { role: 'ops', rawBody: `{"note":"n","policy":{"version":"v-key","\\udc00":1}}` });
    assert.equal(inKey.status, 400, JSON.stringify(inKey.body));
    assert.deepEqual(issuePaths(inKey.body), ['policy.\udc00']);
    assert.equal((await service.request('GET', '/policies/test-guard', { role: 'ops' })).status, 404, 'nothing was published');

    // 100,000 nested arrays are 200 KB, inside the body limit; JSON.stringify and Postgres' jsonb both overflow on them.
    const deep = JSON.stringify({ note: 'n', policy: { ...alwaysOpenPolicy('test-deep'), extra: 0 } }).replace('"extra":0', `"extra":${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    const tooDeep = await service.request('POST', '/policies', { role: 'ops', rawBody: deep });
    assert.equal(tooDeep.status, 400, JSON.stringify(tooDeep.body).slice(0, 500));
    assert.match(tooDeep.body.issues[0].message, /nested more than 32 levels/);
    assert.equal((await service.request('GET', '/policies/test-deep', { role: 'ops' })).status, 404, 'nothing was published');
  });

  test('an amount numeric(18,2) cannot store is refused', async () => {
    for (const amount of [1e16, 12.345]) {
      const dealId = uniqueId('D');
      const answer = await service.request('POST', '/deals', { body: dealBody(dealId, { amount }) });
      assert.equal(answer.status, 400, `${amount}: ${JSON.stringify(answer.body)}`);
      assert.deepEqual(issuePaths(answer.body), ['amount']);
      assert.equal((await service.request('GET', `/deals/${dealId}`)).status, 404, 'no deal workflow was started');
    }
  });

  test('a fractional engagement delta is refused, and the lead stays answerable', async () => {
    const leadId = uniqueId('L');
    assert.equal((await service.request('POST', '/leads', { body: intakeBody(leadId) })).status, 201);
    const fractional = await service.request('POST', `/leads/${leadId}/engagement`, { role: 'ops', body: { behavior: 0.5 } });
    assert.equal(fractional.status, 400, JSON.stringify(fractional.body));
    assert.deepEqual(issuePaths(fractional.body), ['behavior']);
    const whole = await service.request('POST', `/leads/${leadId}/engagement`, { role: 'ops', body: { behavior: 5 } });
    assert.equal(whole.status, 200, JSON.stringify(whole.body));
    assert.equal(whole.body.score.behavior, 15);
  });

  test('a report range in year 0000 is a 400, not a 500', async () => {
    for (const query of ['from=0000-01-01', 'to=0000-01-01T00:00:00Z', 'from=2100-01-01']) {
      const answer = await service.request('GET', `/reports/lead-sla?${query}`, { role: 'manager' });
      assert.equal(answer.status, 400, `${query}: ${JSON.stringify(answer.body)}`);
    }
    assert.equal((await service.request('GET', '/reports/lead-sla?from=2026-01-01', { role: 'manager' })).status, 200);
  });

  test('a NUL in a rep name or a policy note is a 400, not a 500', async () => {
    const rep = await service.request('POST', '/reps', { role: 'ops', body: { repId: uniqueId('rep'), name: 'Ann\u0000a', seniority: 'junior' } });
    assert.equal(rep.status, 400, JSON.stringify(rep.body));
    assert.deepEqual(issuePaths(rep.body), ['name']);
    const patch = await service.request('PATCH', '/reps/rep-anna', { role: 'ops', body: { name: '\u0000' } });
    assert.equal(patch.status, 400, JSON.stringify(patch.body));
    const note = await service.request('POST', '/policies', { role: 'ops', body: { note: 'faster\u0000', policy: alwaysOpenPolicy('test-nul-note') } });
    assert.equal(note.status, 400, JSON.stringify(note.body));
    assert.equal((await service.request('GET', '/policies/test-nul-note', { role: 'ops' })).status, 404);
    const path = await service.request('GET', '/policies/v%00', { role: 'ops' });
    assert.equal(path.status, 400, JSON.stringify(path.body));
  });

  test("an incomplete dossier's 400 always names the missing stakeholder roles", async () => {
    const answer = await service.request('POST', '/deals/D-none/dossier', {
      // A missing field and a KPI without a target are type errors, after which zod used to skip the role check.
      body: { businessGoals: [], kpis: [{ name: 'Happiness', metric: 'vibes' }], stakeholders: [{ name: 'Ola', role: 'user', email: 'not-an-address' }], risks: [] },
    });
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    const messages = answer.body.issues.map((issue: { path: string; message: string }) => `${issue.path}: ${issue.message}`);
    assert.ok(messages.includes('stakeholders: at least one economic-buyer is required'), messages.join('\n'));
    assert.ok(messages.includes('stakeholders: at least one champion is required'), messages.join('\n'));
    for (const path of ['businessGoals', 'scope', 'kpis.0.target', 'stakeholders.0.email']) assert.ok(issuePaths(answer.body).includes(path), `${path} in ${messages.join('; ')}`);
  });

  test('a 400 MB body is answered 413 after at most the limit was read', async () => {
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    let pulled = 0;
    const huge = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= 400 * 1024 * 1024) return controller.close();
        pulled += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const answer = await service.app.request('/leads', {
      method: 'POST',
      headers: { authorization: `Bearer ${tokenFor('sales')}`, 'content-type': 'application/json' },
      body: huge,
      duplex: 'half',
    } as RequestInit);
    assert.equal(answer.status, 413);
    const body = (await answer.json()) as { error: string; message: string };
    assert.equal(body.error, 'payload-too-large');
    assert.ok(pulled <= MAX_BODY_BYTES + 2 * chunk.length, `read ${pulled} bytes`);

    // Over real HTTP, a declared length over the limit is refused before the body is read.
    const { server, port } = await listen(service.app, 0);
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const outgoing = httpRequest(
          { host: '127.0.0.1', port, method: 'POST', path: '/leads', headers: { authorization: `Bearer ${tokenFor('sales')}`, 'content-type': 'application/json', 'content-length': 400 * 1024 * 1024 } },
          (response) => {
            resolve(response.statusCode ?? 0);
            response.resume();
            outgoing.destroy();
          },
        );
        outgoing.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(error)));
        outgoing.write(chunk);
      });
      assert.equal(status, 413);
    } finally {
      (server as import('node:http').Server).closeAllConnections();
      await closeServer(server);
    }
  });

  test('/health and /ready are open and documented; the document states the rules the API enforces', async () => {
    assert.deepEqual((await service.request('GET', '/health', { role: null })).body, { status: 'ok' });
    const doc = (await service.request('GET', '/openapi.json', { role: null })).body;
    assert.deepEqual(doc.paths['/health'].get.security, []);
    assert.deepEqual(doc.paths['/ready'].get.security, []);
    assert.ok(doc.paths['/ready'].get.responses['503']);
    const intake = doc.components.schemas.LeadIntake;
    assert.equal(intake.properties.company.maxLength, 200);
    assert.equal(new RegExp(intake.properties.company.pattern, 'u').test('Ac\u0000me'), false);
    assert.equal(intake.properties.score.properties.fit.type, 'integer');
    const engagement = doc.paths['/leads/{leadId}/engagement'].post.requestBody.content['application/json'].schema;
    assert.equal(engagement.minProperties, 1);
    const deal = doc.components.schemas.DealIntake;
    assert.ok(deal.properties.amount.maximum < 1e16);
    assert.equal(deal.properties.amount.multipleOf, 0.01);
    const stakeholders = doc.components.schemas.Dossier.properties.stakeholders;
    assert.deepEqual(
      stakeholders.allOf.map((rule: { contains: { properties: { role: { const: string } } } }) => rule.contains.properties.role.const),
      ['economic-buyer', 'champion'],
    );
  });

  test('/ready is 503 without a worker polling the task queue, 200 with one, 503 again once it is gone', async () => {
    const taskQueue = uniqueId('ready-probe');
    const app = createApp({
      client: service.temporal.client,
      db: service.database.db,
      apiKeys: testApiKeys,
      currentPolicy: async () => alwaysOpenPolicy(),
      policyStore: undefined as never,
      readiness: { taskQueue, pollerMaxAgeMs: 10_000 },
    });
    const ready = async () => {
      const answer = await app.request('/ready');
      return { status: answer.status, body: (await answer.json()) as { status: string; checks: Record<string, { state: string; detail: string }> } };
    };

    const none = await ready();
    assert.equal(none.status, 503);
    assert.equal(none.body.status, 'not-ready');
    assert.deepEqual(
      Object.fromEntries(Object.entries(none.body.checks).map(([name, check]) => [name, check.state])),
      { temporal: 'up', database: 'up', worker: 'down' },
    );
    assert.match(none.body.checks.worker!.detail, /no workflow poller/);

    const worker = await createWorker({
      connection: service.temporal.workerConnection,
      namespace: service.temporal.namespace,
      db: service.database.db,
      taskQueue,
      workflowBundle: await workflowBundle(),
    });
    const running = worker.run();
    try {
      const up = await eventually(ready, (answer) => answer.status === 200, '/ready with a worker');
      assert.equal(up.body.status, 'ready');
      assert.equal(up.body.checks.worker!.state, 'up');
    } finally {
      worker.shutdown();
      await running;
    }
    const gone = await eventually(ready, (answer) => answer.status === 503, '/ready after the worker stopped', 25_000);
    assert.equal(gone.body.checks.worker!.state, 'down');
    assert.equal(gone.body.checks.temporal!.state, 'up');
    assert.equal(gone.body.checks.database!.state, 'up');
    assert.equal((await app.request('/health')).status, 200, 'liveness does not depend on the worker');
  });

  test('/ready answers in bounded time when Temporal and the database hang', async () => {
    const [temporalHole, databaseHole] = await Promise.all([blackhole(), blackhole()]);
    const connection = Connection.lazy({ address: `127.0.0.1:${temporalHole.port}` });
    const sql = postgres(`postgres://postgres@127.0.0.1:${databaseHole.port}/none`, { max: 1, connect_timeout: 60, onnotice: () => {} });
    try {
      const app = createApp({
        client: new Client({ connection }),
        db: drizzle(sql, { schema }) as unknown as Database,
        apiKeys: testApiKeys,
        currentPolicy: async () => alwaysOpenPolicy(),
        policyStore: undefined as never,
        readiness: { checkTimeoutMs: 1_000 },
      });
      const started = Date.now();
      const answer = await app.request('/ready');
      const took = Date.now() - started;
      assert.equal(answer.status, 503);
      assert.ok(took < 3_000, `took ${took} ms`);
      const body = (await answer.json()) as { checks: Record<string, { state: string; detail: string }> };
      for (const name of ['temporal', 'database', 'worker']) {
        assert.equal(body.checks[name]!.state, 'down', name);
        assert.match(body.checks[name]!.detail, /no answer within 1000 ms/, name);
      }
      assert.equal((await app.request('/health')).status, 200);
    } finally {
      // Let the abandoned calls reach their own deadlines before their channel closes under them.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await sql.end({ timeout: 0 }).catch(() => {});
      await connection.close().catch(() => {});
      await Promise.all([temporalHole.close(), databaseHole.close()]);
    }
  });
});
