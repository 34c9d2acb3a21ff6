import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OpenAPIHono } from '@hono/zod-openapi';
import { authenticate, type AppEnv } from '../../api/auth.js';
import { toHttpError } from '../../api/errors.js';
import { queueRoutes, repRoutes } from '../../api/reps.js';
import type { Role } from '../../service.config.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { testApiKeys, tokenFor } from '../support/service.js';
import { uniqueId } from '../support/temporal.js';

describe('reps and queues API', () => {
  let database: TestDatabase;
  let app: OpenAPIHono<AppEnv>;

  before(async () => {
    database = await createTestDatabase();
    app = new OpenAPIHono<AppEnv>();
    app.onError(toHttpError);
    app.use('*', authenticate(testApiKeys));
    app.route('/reps', repRoutes({ db: database.db }));
    app.route('/queues', queueRoutes({ db: database.db }));
  });
  after(async () => {
    await database?.drop();
  });

  async function request(method: string, path: string, { role = 'ops', body }: { role?: Role | null; body?: unknown } = {}) {
    const headers: Record<string, string> = {};
    if (role) headers.authorization = `Bearer ${tokenFor(role)}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await app.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  async function createRep(overrides: Record<string, unknown> = {}) {
    const repId = uniqueId('rep');
    const response = await request('POST', '/reps', { body: { repId, name: 'Ana Nowak', seniority: 'senior', ...overrides } });
    assert.equal(response.status, 201, JSON.stringify(response.body));
    return response.body.repId as string;
  }

  describe('reps', () => {
    test('create, get and list a rep', async () => {
      const repId = uniqueId('rep');
      const created = await request('POST', '/reps', {
        body: { repId, name: 'Ana Nowak', email: 'ana@example.com', seniority: 'senior', managerId: 'mgr-1' },
      });
      assert.equal(created.status, 201);
      assert.deepEqual(
        { ...created.body, createdAt: undefined },
        {
          repId,
          name: 'Ana Nowak',
          email: 'ana@example.com',
          seniority: 'senior',
          managerId: 'mgr-1',
          active: true,
          outOfOffice: [],
          createdAt: undefined,
        },
      );
      assert.ok(!Number.isNaN(Date.parse(created.body.createdAt)));

      const fetched = await request('GET', `/reps/${repId}`, { role: 'manager' });
      assert.equal(fetched.status, 200);
      assert.deepEqual(fetched.body, created.body);

      const listed = await request('GET', '/reps', { role: 'manager' });
      assert.equal(listed.status, 200);
      assert.deepEqual(
        listed.body.reps.find((rep: { repId: string }) => rep.repId === repId),
        created.body,
      );
    });

    test('an inactive rep can be created; email and managerId default to null', async () => {
      const repId = await createRep({ seniority: 'junior', active: false });
      const fetched = await request('GET', `/reps/${repId}`);
      assert.equal(fetched.body.active, false);
      assert.equal(fetched.body.email, null);
      assert.equal(fetched.body.managerId, null);
    });

    test('PATCH changes only the fields sent and can clear nullable ones', async () => {
      const repId = await createRep({ email: 'old@example.com', managerId: 'mgr-1' });
      const patched = await request('PATCH', `/reps/${repId}`, { body: { seniority: 'junior', active: false, managerId: null } });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.seniority, 'junior');
      assert.equal(patched.body.active, false);
      assert.equal(patched.body.managerId, null);
      assert.equal(patched.body.name, 'Ana Nowak');
      assert.equal(patched.body.email, 'old@example.com');
      assert.deepEqual((await request('GET', `/reps/${repId}`)).body, patched.body);
    });

    test('PATCH with no field, or an unknown field, is a 400', async () => {
      const repId = await createRep();
      assert.equal((await request('PATCH', `/reps/${repId}`, { body: {} })).status, 400);
      assert.equal((await request('PATCH', `/reps/${repId}`, { body: { nickname: 'A' } })).status, 400);
    });

    test('unknown rep: GET, PATCH and PUT out-of-office are 404', async () => {
      assert.equal((await request('GET', '/reps/nobody')).status, 404);
      assert.equal((await request('PATCH', '/reps/nobody', { body: { name: 'X' } })).status, 404);
      const ooo = await request('PUT', '/reps/nobody/out-of-office', { body: { periods: [] } });
      assert.equal(ooo.status, 404);
      assert.equal(ooo.body.error, 'not-found');
    });

    test('a second POST with an existing repId is a 409 and changes nothing', async () => {
      const repId = await createRep({ name: 'Original' });
      const duplicate = await request('POST', '/reps', { body: { repId, name: 'Impostor', seniority: 'junior' } });
      assert.equal(duplicate.status, 409);
      assert.equal(duplicate.body.error, 'conflict');
      assert.match(duplicate.body.message, new RegExp(repId));
      assert.equal((await request('GET', `/reps/${repId}`)).body.name, 'Original');
    });

    test('a seniority other than junior/senior is a 400 naming the field', async () => {
      const response = await request('POST', '/reps', { body: { repId: uniqueId('rep'), name: 'X', seniority: 'principal' } });
      assert.equal(response.status, 400);
      assert.equal(response.body.error, 'invalid-request');
      assert.ok(response.body.issues.some((issue: { path: string }) => issue.path === 'seniority'));
      const patch = await request('PATCH', `/reps/${await createRep()}`, { body: { seniority: 'lead' } });
      assert.equal(patch.status, 400);
    });

    test('PUT out-of-office replaces the periods, stored as UTC instants in order', async () => {
      const repId = await createRep();
      const first = await request('PUT', `/reps/${repId}/out-of-office`, {
        body: {
          periods: [
            { from: '2026-12-20T00:00:00+01:00', to: '2027-01-02T00:00:00+01:00' },
            { from: '2026-11-01T00:00:00Z', to: '2026-11-03T00:00:00Z' },
          ],
        },
      });
      assert.equal(first.status, 200);
      assert.deepEqual(first.body.outOfOffice, [
        { from: '2026-11-01T00:00:00.000Z', to: '2026-11-03T00:00:00.000Z' },
        { from: '2026-12-19T23:00:00.000Z', to: '2027-01-01T23:00:00.000Z' },
      ]);
      const replaced = await request('PUT', `/reps/${repId}/out-of-office`, { body: { periods: [] } });
      assert.equal(replaced.status, 200);
      assert.deepEqual(replaced.body.outOfOffice, []);
    });

    test('an out-of-office period with from >= to, or a non-ISO date, is a 400', async () => {
      const repId = await createRep();
      const backwards = await request('PUT', `/reps/${repId}/out-of-office`, {
        body: { periods: [{ from: '2026-11-05T00:00:00Z', to: '2026-11-01T00:00:00Z' }] },
      });
      assert.equal(backwards.status, 400);
      assert.ok(backwards.body.issues.some((issue: { path: string }) => issue.path === 'periods.0.to'));
      const empty = await request('PUT', `/reps/${repId}/out-of-office`, {
        body: { periods: [{ from: '2026-11-05T00:00:00Z', to: '2026-11-05T00:00:00Z' }] },
      });
      assert.equal(empty.status, 400);
      const notIso = await request('PUT', `/reps/${repId}/out-of-office`, { body: { periods: [{ from: 'tomorrow', to: '2026-11-05T00:00:00Z' }] } });
      assert.equal(notIso.status, 400);
      const noOffset = await request('PUT', `/reps/${repId}/out-of-office`, {
        body: { periods: [{ from: '2026-11-01T00:00:00', to: '2026-11-05T00:00:00' }] },
      });
      assert.equal(noOffset.status, 400, 'a local time without an offset is ambiguous');
      assert.deepEqual((await request('GET', `/reps/${repId}`)).body.outOfOffice, []);
    });

    test('roles: sales may not create or read reps; manager may read but not create', async () => {
      const body = { repId: uniqueId('rep'), name: 'X', seniority: 'junior' };
      const asSales = await request('POST', '/reps', { role: 'sales', body });
      assert.equal(asSales.status, 403);
      assert.equal(asSales.body.error, 'forbidden');
      assert.equal((await request('POST', '/reps', { role: 'manager', body })).status, 403);
      assert.equal((await request('GET', '/reps', { role: 'sales' })).status, 403);
      assert.equal((await request('GET', `/reps/${body.repId}`)).status, 404, 'nothing was created');
    });

    test('without a token every route is 401', async () => {
      const noToken = await request('GET', '/reps', { role: null });
      assert.equal(noToken.status, 401);
      assert.equal(noToken.body.error, 'unauthenticated');
      assert.equal((await request('POST', '/reps', { role: null, body: { repId: 'x', name: 'x', seniority: 'junior' } })).status, 401);
      assert.equal((await request('GET', '/queues', { role: null })).status, 401);
    });
  });

  describe('queues', () => {
    test('create a queue with members in rotation order, then get and list it', async () => {
      const [a, b] = [await createRep({ name: 'A' }), await createRep({ name: 'B', seniority: 'junior' })];
      const queueId = uniqueId('q');
      const created = await request('POST', '/queues', {
        body: { queueId, name: 'Enterprise EMEA', strategy: 'tier-priority', managerId: 'mgr-9', members: [b, a] },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.queueId, queueId);
      assert.equal(created.body.strategy, 'tier-priority');
      assert.equal(created.body.managerId, 'mgr-9');
      assert.equal(created.body.lastAssignedRepId, null);
      assert.deepEqual(created.body.members, [
        { repId: b, name: 'B', seniority: 'junior', active: true },
        { repId: a, name: 'A', seniority: 'senior', active: true },
      ]);

      const fetched = await request('GET', `/queues/${queueId}`, { role: 'manager' });
      assert.equal(fetched.status, 200);
      assert.deepEqual(fetched.body, created.body);

      const listed = await request('GET', '/queues', { role: 'manager' });
      assert.equal(listed.status, 200);
      assert.deepEqual(
        listed.body.queues.find((queue: { queueId: string }) => queue.queueId === queueId),
        created.body,
      );
    });

    test('PUT members replaces membership and order', async () => {
      const [a, b, c] = [await createRep(), await createRep(), await createRep()];
      const queueId = uniqueId('q');
      assert.equal((await request('POST', '/queues', { body: { queueId, name: 'Q', strategy: 'round-robin', members: [a, b] } })).status, 201);
      const replaced = await request('PUT', `/queues/${queueId}/members`, { body: { members: [c, a] } });
      assert.equal(replaced.status, 200);
      assert.deepEqual(
        replaced.body.members.map((member: { repId: string }) => member.repId),
        [c, a],
      );
      const emptied = await request('PUT', `/queues/${queueId}/members`, { body: { members: [] } });
      assert.equal(emptied.status, 200);
      assert.deepEqual(emptied.body.members, []);
    });

    test('unknown rep ids in members are a 400 naming them, and nothing is written', async () => {
      const a = await createRep();
      const queueId = uniqueId('q');
      const response = await request('POST', '/queues', {
        body: { queueId, name: 'Q', strategy: 'round-robin', members: [a, 'ghost-1', 'ghost-2'] },
      });
      assert.equal(response.status, 400);
      assert.equal(response.body.error, 'invalid-request');
      assert.match(response.body.message, /ghost-1, ghost-2/);
      assert.deepEqual(response.body.issues, [
        { path: 'members.1', message: 'no rep ghost-1' },
        { path: 'members.2', message: 'no rep ghost-2' },
      ]);
      assert.equal((await request('GET', `/queues/${queueId}`)).status, 404, 'the queue was not created');

      assert.equal((await request('POST', '/queues', { body: { queueId, name: 'Q', strategy: 'round-robin', members: [a] } })).status, 201);
      const put = await request('PUT', `/queues/${queueId}/members`, { body: { members: ['ghost-3'] } });
      assert.equal(put.status, 400);
      assert.match(put.body.message, /ghost-3/);
      assert.deepEqual(
        (await request('GET', `/queues/${queueId}`)).body.members.map((member: { repId: string }) => member.repId),
        [a],
        'membership unchanged',
      );
    });

    test('duplicate members, a bad strategy or a missing members list are 400', async () => {
      const a = await createRep();
      const base = { queueId: uniqueId('q'), name: 'Q', strategy: 'round-robin' };
      assert.equal((await request('POST', '/queues', { body: { ...base, members: [a, a] } })).status, 400);
      assert.equal((await request('POST', '/queues', { body: { ...base, strategy: 'random', members: [a] } })).status, 400);
      assert.equal((await request('POST', '/queues', { body: base })).status, 400);
    });

    test('an existing queueId is a 409 and changes nothing', async () => {
      const [a, b] = [await createRep(), await createRep()];
      const queueId = uniqueId('q');
      assert.equal((await request('POST', '/queues', { body: { queueId, name: 'First', strategy: 'round-robin', members: [a] } })).status, 201);
      const duplicate = await request('POST', '/queues', { body: { queueId, name: 'Second', strategy: 'tier-priority', members: [b] } });
      assert.equal(duplicate.status, 409);
      assert.equal(duplicate.body.error, 'conflict');
      const fetched = await request('GET', `/queues/${queueId}`);
      assert.equal(fetched.body.name, 'First');
      assert.deepEqual(
        fetched.body.members.map((member: { repId: string }) => member.repId),
        [a],
      );
    });

    test('unknown queue: GET and PUT members are 404', async () => {
      assert.equal((await request('GET', '/queues/no-such-queue')).status, 404);
      assert.equal((await request('PUT', '/queues/no-such-queue/members', { body: { members: [] } })).status, 404);
    });

    test('roles: only ops changes queues; sales may not read them', async () => {
      const body = { queueId: uniqueId('q'), name: 'Q', strategy: 'round-robin', members: [] };
      assert.equal((await request('POST', '/queues', { role: 'manager', body })).status, 403);
      assert.equal((await request('POST', '/queues', { role: 'sales', body })).status, 403);
      assert.equal((await request('GET', '/queues', { role: 'sales' })).status, 403);
      assert.equal((await request('POST', '/queues', { body })).status, 201);
      assert.equal((await request('PUT', `/queues/${body.queueId}/members`, { role: 'manager', body: { members: [] } })).status, 403);
    });
  });
});
