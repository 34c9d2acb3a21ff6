import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { eq } from 'drizzle-orm';
import {
  createNotifier,
  deliverBatch,
  IDEMPOTENCY_HEADER,
  notifierSettingsFromEnv,
  SIGNATURE_HEADER,
  type Notification,
  type NotifierSettings,
} from '../../activities/notifier.js';
import type { Database } from '../../db/client.js';
import { notifications } from '../../db/schema.js';
import { setLogDestination } from '../../observability/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { freePort, uniqueId } from '../support/temporal.js';

const secret = 'test-webhook-secret';

interface ReceivedRequest {
  method: string | undefined;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** What the receiver does with one request: answer with a status and body, or never answer. */
type Reply = { status: number; body?: string } | 'hang';

interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/** A real HTTP webhook receiver on a free local port; answers `replies` in turn, then 200s. */
async function startReceiver(replies: Reply[] = []): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const queue = [...replies];
  const server = createServer((request, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({ method: request.method, headers: request.headers, body: Buffer.concat(chunks) });
      const reply = queue.shift() ?? { status: 200, body: 'ok' };
      if (reply === 'hang') return;
      response.writeHead(reply.status, { 'content-type': 'text/plain' });
      response.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/revops`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Recomputes the signature the way a receiver would, with nothing from the notifier module. */
function signatureIsValid(request: ReceivedRequest): boolean {
  const header = request.headers[SIGNATURE_HEADER];
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(request.body).digest('hex'), 'utf8');
  const given = Buffer.from(header.slice('sha256='.length), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function notification(overrides: Partial<Notification> = {}): Notification {
  const subjectId = uniqueId('lead');
  return {
    idempotencyKey: `${subjectId}:speed-to-lead.reminder-1`,
    type: 'speed-to-lead.reminder',
    subjectId,
    recipients: ['rep-1'],
    at: '2026-11-23T10:05:00.000Z',
    summary: 'Lead from Acme (tier 1) has waited 5 minutes for first touch — zürich 📞',
    details: { company: 'Acme', minutesWaiting: 5, nested: { tier: 1 } },
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected the send to throw');
}

/** A retryable failure in Temporal's eyes: a plain Error, not an ApplicationFailure. */
function assertPlainError(error: unknown, pattern: RegExp): void {
  assert.ok(error instanceof Error, 'an Error');
  assert.ok(!(error instanceof ApplicationFailure), 'not an ApplicationFailure');
  assert.match(error.message, pattern);
}

describe('notifier against a real webhook receiver and Postgres', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database?.drop();
  });

  async function rowFor(key: string) {
    const rows = await database.db.select().from(notifications).where(eq(notifications.idempotencyKey, key));
    return rows[0];
  }

  function webhookSettings(receiver: Receiver, extra: Partial<NotifierSettings> = {}): NotifierSettings {
    return { webhookUrl: receiver.url, webhookSecret: secret, timeoutMs: 5_000, ...extra };
  }

  test('a delivered notification is signed over its exact body, carries the idempotency key and is recorded', async (t) => {
    const receiver = await startReceiver();
    t.after(() => receiver.close());
    const notifier = createNotifier(database.db, webhookSettings(receiver));
    const sent = notification();

    const result = await notifier.send(sent);

    assert.deepEqual(result, { status: 'delivered' });
    assert.equal(receiver.requests.length, 1);
    const [request] = receiver.requests;
    assert.equal(request!.method, 'POST');
    assert.equal(request!.headers['content-type'], 'application/json');
    assert.equal(request!.headers[IDEMPOTENCY_HEADER], sent.idempotencyKey);
    assert.ok(signatureIsValid(request!), `signature ${String(request!.headers[SIGNATURE_HEADER])} does not match the body`);
    assert.deepEqual(JSON.parse(request!.body.toString('utf8')), sent);

    const row = await rowFor(sent.idempotencyKey);
    assert.equal(row?.status, 'delivered');
    assert.ok(row?.deliveredAt instanceof Date, 'deliveredAt is set');
    assert.equal(row?.subjectId, sent.subjectId);
    assert.deepEqual(row?.recipients, sent.recipients);
    assert.deepEqual(row?.body, { ...sent });
  });

  test('a signature made with another secret does not verify (the check above is not vacuous)', async (t) => {
    const receiver = await startReceiver();
    t.after(() => receiver.close());
    await createNotifier(database.db, { ...webhookSettings(receiver), webhookSecret: 'another-secret' }).send(notification());
    assert.equal(receiver.requests.length, 1);
    assert.equal(signatureIsValid(receiver.requests[0]!), false);
  });

  test('sending the same notification twice POSTs it once', async (t) => {
    const receiver = await startReceiver();
    t.after(() => receiver.close());
    const notifier = createNotifier(database.db, webhookSettings(receiver));
    const sent = notification();

    assert.deepEqual(await notifier.send(sent), { status: 'delivered' });
    assert.deepEqual(await notifier.send(sent), { status: 'already-delivered' });
    assert.equal(receiver.requests.length, 1);
  });

  test('a 503 throws a retryable error and leaves the row pending; the retry delivers', async (t) => {
    const receiver = await startReceiver([{ status: 503, body: 'maintenance' }, { status: 200 }]);
    t.after(() => receiver.close());
    const notifier = createNotifier(database.db, webhookSettings(receiver));
    const sent = notification();

    const error = await rejection(notifier.send(sent));
    assertPlainError(error, /503/);
    assert.equal((await rowFor(sent.idempotencyKey))?.status, 'pending');
    assert.equal((await rowFor(sent.idempotencyKey))?.deliveredAt, null);

    assert.deepEqual(await notifier.send(sent), { status: 'delivered' });
    assert.equal(receiver.requests.length, 2);
    assert.equal(receiver.requests[1]!.headers[IDEMPOTENCY_HEADER], sent.idempotencyKey);
    assert.deepEqual(receiver.requests[1]!.body, receiver.requests[0]!.body, 'the retry sends the same bytes');
    assert.equal((await rowFor(sent.idempotencyKey))?.status, 'delivered');
  });

  for (const status of [408, 429]) {
    test(`a ${status} is retryable too`, async (t) => {
      const receiver = await startReceiver([{ status }]);
      t.after(() => receiver.close());
      const error = await rejection(createNotifier(database.db, webhookSettings(receiver)).send(notification()));
      assertPlainError(error, new RegExp(String(status)));
    });
  }

  test('a 400 fails non-retryably as NotificationRejected, quoting at most 200 chars of the answer', async (t) => {
    const answer = `bad payload: ${'x'.repeat(500)}`;
    const receiver = await startReceiver([{ status: 400, body: answer }]);
    t.after(() => receiver.close());
    const sent = notification();

    const error = await rejection(createNotifier(database.db, webhookSettings(receiver)).send(sent));

    assert.ok(error instanceof ApplicationFailure, 'an ApplicationFailure');
    assert.equal(error.nonRetryable, true);
    assert.equal(error.type, 'NotificationRejected');
    assert.match(error.message, /400/);
    assert.ok(error.message.includes(answer.slice(0, 200)), 'quotes the start of the answer');
    assert.ok(!error.message.includes(answer.slice(0, 201)), 'quotes no more than 200 chars');
    assert.notEqual((await rowFor(sent.idempotencyKey))?.status, 'delivered');
  });

  test('a receiver that never answers times out with a retryable error', async (t) => {
    const receiver = await startReceiver(['hang']);
    t.after(() => receiver.close());
    const sent = notification();
    const started = Date.now();

    const error = await rejection(createNotifier(database.db, webhookSettings(receiver, { timeoutMs: 300 })).send(sent));

    assertPlainError(error, /timed out/);
    assert.ok(Date.now() - started < 4_000, 'gave up at the timeout');
    assert.equal((await rowFor(sent.idempotencyKey))?.status, 'pending');
  });

  test('a batch with a deadline: a receiver that does not answer in time leaves it and the rest undelivered, unstarted', async (t) => {
    const receiver = await startReceiver([{ status: 422, body: 'no such rep' }, 'hang']);
    t.after(() => receiver.close());
    const batch = [notification(), notification(), notification()];

    const delivery = await deliverBatch(createNotifier(database.db, webhookSettings(receiver)), batch, { within: 300 });

    assert.deepEqual(delivery.refused.map((entry) => entry.idempotencyKey), [batch[0]!.idempotencyKey]);
    assert.match(delivery.refused[0]!.reason, /HTTP 422/);
    assert.deepEqual(delivery.undelivered.map((entry) => entry.idempotencyKey), [batch[1]!.idempotencyKey, batch[2]!.idempotencyKey]);
    assert.match(String(delivery.undelivered[0]!.error), /caller's deadline/);
    assert.equal(receiver.requests.length, 2, 'the third was not started once the deadline had passed');
    assert.equal((await rowFor(batch[1]!.idempotencyKey))?.status, 'pending', 'left for the durable retry');
  });

  test('a receiver that is not listening gives a retryable error', async () => {
    const port = await freePort();
    const notifier = createNotifier(database.db, { webhookUrl: `http://127.0.0.1:${port}/`, webhookSecret: secret, timeoutMs: 2_000 });
    const error = await rejection(notifier.send(notification()));
    assertPlainError(error, /request failed/);
  });

  test('with no webhook configured the notification is logged, not sent', async (t) => {
    const receiver = await startReceiver();
    t.after(() => receiver.close());
    const lines: string[] = [];
    setLogDestination({ write: (line: string) => void lines.push(line) }, 'info');
    const notifier = createNotifier(database.db, {});
    const sent = notification();

    assert.deepEqual(await notifier.send(sent), { status: 'logged' });
    assert.deepEqual(await notifier.send(sent), { status: 'already-delivered' });

    assert.equal(receiver.requests.length, 0);
    const logged = lines.map((line) => JSON.parse(line)).filter((entry) => entry.component === 'notify');
    assert.equal(logged.length, 1, 'one log line for one notification');
    assert.equal(logged[0].subjectId, sent.subjectId);
    assert.equal(logged[0].idempotencyKey, sent.idempotencyKey);
    const row = await rowFor(sent.idempotencyKey);
    assert.equal(row?.status, 'logged');
    assert.deepEqual(row?.body, { ...sent });
  });

  test('it works as a Temporal activity', async (t) => {
    const receiver = await startReceiver([{ status: 422, body: 'unknown recipient' }]);
    t.after(() => receiver.close());
    const notifier = createNotifier(database.db, webhookSettings(receiver));
    const sendNotification = (n: Notification) => notifier.send(n);
    // The rejection below is expected; keep the SDK's 'Activity failed' warning out of the test output.
    const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (message: string) => console.error(message) };
    const env = new MockActivityEnvironment(undefined, { logger: quiet });

    const rejected = await rejection(env.run(sendNotification, notification()));
    assert.ok(rejected instanceof ApplicationFailure && rejected.nonRetryable && rejected.type === 'NotificationRejected');

    const sent = notification();
    assert.deepEqual(await env.run(sendNotification, sent), { status: 'delivered' });
    assert.deepEqual(await env.run(sendNotification, sent), { status: 'already-delivered' });
    assert.equal(receiver.requests.length, 2);
  });
});

describe('notifierSettingsFromEnv', () => {
  test('a webhook URL without a secret is a configuration error', () => {
    assert.throws(() => notifierSettingsFromEnv({ NOTIFY_WEBHOOK_URL: 'https://hooks.example.com/revops' }), /NOTIFY_WEBHOOK_SECRET/);
  });

  test('reads URL, secret and timeout, defaulting the timeout to 10 s', () => {
    assert.deepEqual(notifierSettingsFromEnv({ NOTIFY_WEBHOOK_URL: 'https://hooks.example.com/revops', NOTIFY_WEBHOOK_SECRET: 's3cret' }), {
      webhookUrl: 'https://hooks.example.com/revops',
      webhookSecret: 's3cret',
      timeoutMs: 10_000,
    });
    assert.equal(notifierSettingsFromEnv({ NOTIFY_WEBHOOK_TIMEOUT_MS: '2500' }).timeoutMs, 2_500);
    assert.equal(notifierSettingsFromEnv({}).webhookUrl, undefined);
  });

  test('refuses a bad URL or timeout', () => {
    assert.throws(() => notifierSettingsFromEnv({ NOTIFY_WEBHOOK_URL: 'not a url', NOTIFY_WEBHOOK_SECRET: 's' }), /NOTIFY_WEBHOOK_URL/);
    assert.throws(() => notifierSettingsFromEnv({ NOTIFY_WEBHOOK_TIMEOUT_MS: 'soon' }), /NOTIFY_WEBHOOK_TIMEOUT_MS/);
  });

  test('createNotifier refuses a URL without a secret too', () => {
    const unusedDb = {} as Database;
    assert.throws(() => createNotifier(unusedDb, { webhookUrl: 'https://hooks.example.com/revops' }), /secret/);
  });
});
