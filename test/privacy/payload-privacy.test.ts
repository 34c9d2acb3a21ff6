import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { leadWorkflowId } from '../../temporal.config.js';
import { alwaysOpenPolicy } from '../support/policies.js';
import { eventually } from '../support/scenarios.js';
import { startService, TEST_UI_ORIGIN, tokenFor, type RunningService } from '../support/service.js';
import { uniqueId, workflowBundle } from '../support/temporal.js';

type RawPayload = { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null };

const toJson = (payload: RawPayload) => ({
  metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
  data: Buffer.from(payload.data ?? []).toString('base64'),
});
const fromJson = (payload: { metadata: Record<string, string>; data: string }): Payload => ({
  metadata: Object.fromEntries(Object.entries(payload.metadata).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
  data: Buffer.from(payload.data, 'base64'),
});

/**
 * Personal data never reaches Temporal in the clear: the history the server stores is ciphertext, the Web UI and
 * CLI read it only through the codec server with an ops token, and histories from before encryption still read.
 */
describe('payload privacy on a real dev server and Postgres', () => {
  let service: RunningService;
  const email = 'jan.kowalski@przyklad-firma.pl';
  const company = 'Przykładowa Firma Sp. z o.o.';
  let leadId: string;

  before(async () => {
    service = await startService(alwaysOpenPolicy());
    await service.request('POST', '/reps', { role: 'ops', body: { repId: 'rep-anna', name: 'Anna', seniority: 'senior', managerId: 'mgr-ola' } });
    const queue = await service.request('POST', '/queues', { role: 'ops', body: { queueId: 'inbound', name: 'Inbound', strategy: 'round-robin', managerId: 'mgr-ola', members: ['rep-anna'] } });
    assert.equal(queue.status, 201, JSON.stringify(queue.body));
    leadId = uniqueId('L');
    const intake = await service.request('POST', '/leads', { body: { leadId, email, company, icpTier: 1, score: { fit: 30, behavior: 10, intent: 5 } } });
    assert.equal(intake.status, 201, JSON.stringify(intake.body));
    const owner = await ownerOf(leadId);
    const accepted = await service.request('POST', `/leads/${leadId}/accept`, { as: owner });
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    const attempt = await service.request('POST', `/leads/${leadId}/contact-attempts`, {
      as: owner,
      body: { channel: 'phone', outcome: 'connected', notes: `Rozmowa z ${email}` },
    });
    assert.equal(attempt.status, 200, JSON.stringify(attempt.body));
  });
  after(async () => {
    await service?.stop();
  });

  async function ownerOf(id: string): Promise<string> {
    const routed = await eventually(() => service.request('GET', `/leads/${id}`, { role: 'ops' }), (r) => Boolean(r.body?.ownerId), 'routing');
    return routed.body.ownerId as string;
  }

  async function rawHistory(workflowId: string) {
    const { history } = await service.temporal.client.workflowService.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId } });
    return history!;
  }

  test('the history the server stores holds no plaintext e-mail, company or call notes', async () => {
    const history = await rawHistory(leadWorkflowId(leadId));
    const bytes = Buffer.from(proto.temporal.api.history.v1.History.encode(history).finish());
    assert.ok(history.events!.length > 5, 'the lead has a history');
    for (const secret of [email, company, 'Rozmowa z']) {
      assert.ok(!bytes.includes(Buffer.from(secret)), `"${secret}" is readable in the stored history`);
    }
    // The API still reads the lead whole: its own client decodes.
    const lead = await service.request('GET', `/leads/${leadId}`);
    assert.equal(lead.body.profile.email, email);
    assert.equal(lead.body.attempts[0].notes, `Rozmowa z ${email}`);
  });

  test('the codec server decodes the stored payloads for an ops token, and refuses anyone else', async () => {
    const history = await rawHistory(leadWorkflowId(leadId));
    const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads!;
    const body = JSON.stringify({ payloads: input.map(toJson) });
    const decode = (headers: Record<string, string>) => service.app.request('/codec/decode', { method: 'POST', headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers }, body });

    const asOps = await decode({ authorization: `Bearer ${tokenFor('ops')}` });
    assert.equal(asOps.status, 200);
    const decoded = ((await asOps.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> }).payloads.map(fromJson);
    const workflowInput = defaultPayloadConverter.fromPayload<{ profile: { email: string; company: string } }>(decoded[0]!);
    assert.equal(workflowInput.profile.email, email);
    assert.equal(workflowInput.profile.company, company);

    assert.equal((await decode({})).status, 401);
    assert.equal((await decode({ authorization: 'Bearer not-a-token' })).status, 401);
    for (const role of ['sales', 'cs', 'manager'] as const) {
      assert.equal((await decode({ authorization: `Bearer ${tokenFor(role)}` })).status, 403, `${role} may not decode`);
    }
  });

  test('the Web UI decodes with the session an ops sign-in to the dashboard leaves for /codec; a manager gets none', async () => {
    const history = await rawHistory(leadWorkflowId(leadId));
    const body = JSON.stringify({ payloads: history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads!.map(toJson) });
    const signIn = (role: 'ops' | 'manager') =>
      service.app.request('http://localhost/dashboard/sign-in', {
        method: 'POST',
        headers: { host: 'localhost', origin: 'http://localhost', 'content-type': 'application/x-www-form-urlencoded' },
        body: `token=${tokenFor(role)}`,
      });
    const codecCookie = (response: Response) => response.headers.getSetCookie().find((cookie) => cookie.startsWith('revops_codec='));
    const opsCookie = codecCookie(await signIn('ops'));
    assert.ok(opsCookie, 'an ops sign-in sets the codec session');
    assert.match(opsCookie, /Path=\/codec/);
    assert.match(opsCookie, /HttpOnly/);
    assert.match(opsCookie, /SameSite=Strict/);
    assert.equal(codecCookie(await signIn('manager')), undefined, 'a manager gets no codec session');

    const fromUi = (cookie: string) =>
      service.app.request('/codec/decode', { method: 'POST', headers: { origin: TEST_UI_ORIGIN, 'content-type': 'application/json', cookie }, body });
    const decoded = await fromUi(opsCookie.split(';')[0]!);
    assert.equal(decoded.status, 200);
    assert.equal(decoded.headers.get('access-control-allow-origin'), TEST_UI_ORIGIN);
    assert.equal(decoded.headers.get('access-control-allow-credentials'), 'true');
    const [input] = ((await decoded.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> }).payloads.map(fromJson);
    assert.equal(defaultPayloadConverter.fromPayload<{ profile: { email: string } }>(input!).profile.email, email);
    assert.equal((await fromUi('revops_codec=forged-forged-forged-forged-forged-forged-forged')).status, 401);
  });

  test("the codec server answers the Temporal UI's preflight for its origin only", async () => {
    const preflight = (origin: string) =>
      service.app.request('/codec/decode', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace,authorization' },
      });
    const fromUi = await preflight(TEST_UI_ORIGIN);
    assert.equal(fromUi.status, 204);
    assert.equal(fromUi.headers.get('access-control-allow-origin'), TEST_UI_ORIGIN);
    assert.equal(fromUi.headers.get('access-control-allow-credentials'), 'true');
    assert.match(fromUi.headers.get('access-control-allow-headers') ?? '', /x-namespace/i);
    const elsewhere = await preflight('https://evil.example');
    assert.equal(elsewhere.headers.get('access-control-allow-origin'), null);
  });

  test('malformed codec requests get a 4xx, never a 5xx', async () => {
    const post = (body: string) => service.app.request('/codec/decode', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenFor('ops')}` }, body });
    assert.equal((await post('{')).status, 400);
    const empty = await post('{}'); // protobuf JSON of an empty Payloads, as the CLI sends it
    assert.equal(empty.status, 200);
    assert.deepEqual(await empty.json(), { payloads: [] });
    assert.equal((await post(JSON.stringify({ payloads: [{ data: '%%%' }] }))).status, 400);
    const forged = { payloads: [{ metadata: { encoding: Buffer.from('binary/encrypted').toString('base64'), 'encryption-key-id': Buffer.from('master:nope').toString('base64') }, data: 'AAAA' }] };
    const answer = await post(JSON.stringify(forged));
    assert.equal(answer.status, 422);
  });

  test('a lead started before encryption (plain payloads) runs and reads on the encrypting worker', async () => {
    // The same input the API gave the encrypted lead, sent by a client without the codec, as before encryption.
    const history = await rawHistory(leadWorkflowId(leadId));
    const [input] = await service.protection.codecServerCodec.decode([history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]! as Payload]);
    const plainInput = defaultPayloadConverter.fromPayload<{ profile: { leadId: string } }>(input!);
    const oldLeadId = uniqueId('L');
    plainInput.profile.leadId = oldLeadId;
    const plainClient = new Client({ connection: service.temporal.client.connection, namespace: 'default' });
    await plainClient.workflow.start('leadWorkflow', { taskQueue: service.worker.options.taskQueue, workflowId: leadWorkflowId(oldLeadId), args: [plainInput] });
    const owner = await ownerOf(oldLeadId);
    assert.equal(owner, 'rep-anna');
    const accepted = await service.request('POST', `/leads/${oldLeadId}/accept`, { as: owner });
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    assert.equal(accepted.body.stage, 'SAL');
  });

  test('recorded histories from before encryption replay with the encrypting data converter', async () => {
    const file = new URL('../histories/lead-standard.json', import.meta.url);
    const history = historyFromJSON(JSON.parse(readFileSync(file, 'utf8')));
    const dataConverter = service.protection.dataConverter;
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle({ failureConverterPath: dataConverter.failureConverterPath }), dataConverter }, history, 'lead-standard');
  });
});
