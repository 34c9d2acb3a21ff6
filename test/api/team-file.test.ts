import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { asc, eq } from 'drizzle-orm';
import { defaultTeamFile, loadTeam, loadTeamFile, readTeamFile, TeamFileError, teamFileSetting } from '../../api/team-file.js';
import { queueMembers, queues, reps } from '../../db/schema.js';
import { defaultPolicy } from '../support/policies.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { eventually } from '../support/scenarios.js';
import { startService, type RunningService } from '../support/service.js';

async function members(database: TestDatabase, queueId: string) {
  const rows = await database.db.select().from(queueMembers).where(eq(queueMembers.queueId, queueId)).orderBy(asc(queueMembers.position));
  return rows.map((row) => row.repId);
}

describe('team file', () => {
  let database: TestDatabase;
  let dir: string;

  before(async () => {
    database = await createTestDatabase();
    dir = await mkdtemp(join(tmpdir(), 'team-file-'));
  });
  after(async () => {
    await database?.drop();
  });

  test('TEAM_FILE: unset is policies/team.json, none is no team, a path is that file', () => {
    assert.equal(teamFileSetting({}), defaultTeamFile);
    assert.equal(teamFileSetting({ TEAM_FILE: 'none' }), undefined);
    assert.equal(teamFileSetting({ TEAM_FILE: '/etc/team.json' }), '/etc/team.json');
  });

  test('the shipped team serves the queues the default policy routes to, with the development actors as members', async () => {
    const team = await readTeamFile(defaultTeamFile);
    const policy = defaultPolicy();
    const csQueueId = policy.deal?.csQueueId;
    assert.ok(csQueueId, 'the default policy names a CS queue');
    const queueIds = team.queues.map((queue) => queue.queueId);
    for (const queueId of [policy.routing.fallbackQueueId, csQueueId, ...policy.routing.rules.map((rule) => rule.queueId)]) {
      assert.ok(queueIds.includes(queueId), `team.json has no queue ${queueId}`);
    }
    const inbound = team.queues.find((queue) => queue.queueId === policy.routing.fallbackQueueId)!;
    // First in rotation, so the README's first lead goes to whoever holds the dev sales token.
    assert.equal(inbound.members[0], 'dev-sales');
    assert.ok(team.queues.find((queue) => queue.queueId === csQueueId)!.members.includes('dev-cs'));
    for (const rep of team.reps) assert.ok(rep.managerId, `${rep.repId} has no manager`);
  });

  test('loads into an empty database, and a second load adds nothing and overwrites nothing', async () => {
    const first = await loadTeamFile(database.db, defaultTeamFile);
    assert.deepEqual(first.repsKept, []);
    assert.deepEqual(first.queuesAdded.sort(), ['customer-success', 'enterprise', 'inbound']);
    assert.deepEqual(await members(database, 'inbound'), ['dev-sales', 'rep-anna', 'rep-bartek']);

    // What ops changed since must survive the next start.
    await database.db.update(reps).set({ name: 'Renamed', active: false }).where(eq(reps.repId, 'rep-anna'));
    await database.db.delete(queueMembers).where(eq(queueMembers.queueId, 'inbound'));
    await database.db.update(queues).set({ strategy: 'tier-priority' }).where(eq(queues.queueId, 'inbound'));

    const second = await loadTeamFile(database.db, defaultTeamFile);
    assert.deepEqual(second.repsAdded, []);
    assert.deepEqual(second.queuesAdded, []);
    assert.equal(second.repsKept.length, first.repsAdded.length);
    const [anna] = await database.db.select().from(reps).where(eq(reps.repId, 'rep-anna'));
    assert.equal(anna!.name, 'Renamed');
    assert.equal(anna!.active, false);
    assert.deepEqual(await members(database, 'inbound'), []);
    const [inbound] = await database.db.select().from(queues).where(eq(queues.queueId, 'inbound'));
    assert.equal(inbound!.strategy, 'tier-priority');
    assert.equal((await database.db.select().from(queues)).length, 3);
  });

  test('a new queue may name reps the database already has', async () => {
    const result = await loadTeam(database.db, {
      reps: [],
      queues: [{ queueId: 'renewals', name: 'Renewals', strategy: 'round-robin', members: ['cs-eva', 'dev-cs'] }],
    });
    assert.deepEqual(result.queuesAdded, ['renewals']);
    assert.deepEqual(await members(database, 'renewals'), ['cs-eva', 'dev-cs']);
  });

  test('a file the API would refuse is refused whole, naming the field, and writes nothing', async () => {
    const invalid = join(dir, 'invalid.json');
    await writeFile(invalid, JSON.stringify({ reps: [{ repId: 'rep-new', name: 'New', seniority: 'principal' }], queues: [] }));
    await assert.rejects(readTeamFile(invalid), (error: unknown) => error instanceof TeamFileError && /reps\.0\.seniority/.test(error.message));

    const unknownMember = join(dir, 'unknown-member.json');
    await writeFile(
      unknownMember,
      JSON.stringify({
        reps: [{ repId: 'rep-partial', name: 'Partial', seniority: 'junior' }],
        queues: [{ queueId: 'ghosts', name: 'Ghosts', strategy: 'round-robin', members: ['rep-partial', 'rep-nobody'] }],
      }),
    );
    await assert.rejects(loadTeamFile(database.db, unknownMember), (error: unknown) => error instanceof TeamFileError && /rep-nobody/.test(error.message));
    // One transaction: the rep listed before the bad queue is not left behind either.
    assert.equal((await database.db.select().from(reps).where(eq(reps.repId, 'rep-partial'))).length, 0);
    assert.equal((await database.db.select().from(queues).where(eq(queues.queueId, 'ghosts'))).length, 0);

    await assert.rejects(readTeamFile(join(dir, 'missing.json')), TeamFileError);
  });
});

describe('first run with the team file: the README quick start', () => {
  let service: RunningService;

  before(async () => {
    service = await startService(defaultPolicy());
    await loadTeamFile(service.database.db, defaultTeamFile);
  });
  after(async () => {
    await service?.stop();
  });

  test('a lead is routed to the holder of the development sales token, who accepts it', async () => {
    const leadId = `L-1001-${Date.now()}`;
    const intake = await service.request('POST', '/leads', {
      as: 'dev-sales',
      body: { leadId, email: 'ceo@acme.example', company: 'Acme', icpTier: 1, score: { fit: 35, behavior: 10, intent: 10 } },
    });
    assert.equal(intake.status, 201, JSON.stringify(intake.body));
    const routed = await eventually(() => service.request('GET', `/leads/${leadId}`, { role: 'ops' }), (r) => r.body.ownerId !== null, 'routing');
    assert.equal(routed.body.ownerId, 'dev-sales');

    const accepted = await service.request('POST', `/leads/${leadId}/accept`, { as: 'dev-sales', body: {}, headers: { 'Idempotency-Key': `accept-${leadId}` } });
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    const timeline = await service.request('GET', `/leads/${leadId}/timeline`, { role: 'ops' });
    const types = (timeline.body.events as Array<{ type: string }>).map((event) => event.type);
    assert.ok(!types.includes('routing-failed'), types.join(', '));
    assert.ok(types.includes('accepted'), types.join(', '));
  });
});
