import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { leadWorkflowId } from '../../temporal.config.js';
import { alwaysOpenPolicy } from '../support/policies.js';
import { eventually } from '../support/scenarios.js';
import { startService, tokenFor, type RunningService } from '../support/service.js';
import { uniqueId } from '../support/temporal.js';

type RawPayload = { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null };

/** Every payload anywhere in a raw history event (input, update arguments, activity inputs and results, ...). */
function payloadsIn(value: unknown, found: RawPayload[] = []): RawPayload[] {
  if (!value || typeof value !== 'object') return found;
  if (value instanceof Uint8Array) return found;
  const candidate = value as RawPayload;
  if (candidate.data instanceof Uint8Array && candidate.metadata && typeof candidate.metadata === 'object') {
    found.push(candidate);
    return found;
  }
  for (const field of Object.values(value)) payloadsIn(field, found);
  return found;
}

/**
 * The right to erasure reaches everything: Postgres keeps the shape of the lead's rows and loses the person,
 * the codec server can no longer decode any of its payloads in Temporal, and the reports add up as before.
 */
describe('erasure of a lead (GDPR art. 17) on a real dev server and Postgres', () => {
  let service: RunningService;
  const range = '?from=2000-01-01&to=2099-01-01';

  before(async () => {
    service = await startService(alwaysOpenPolicy());
    await service.request('POST', '/reps', { role: 'ops', body: { repId: 'rep-anna', name: 'Anna', seniority: 'senior', managerId: 'mgr-ola' } });
    const queue = await service.request('POST', '/queues', { role: 'ops', body: { queueId: 'inbound', name: 'Inbound', strategy: 'round-robin', managerId: 'mgr-ola', members: ['rep-anna'] } });
    assert.equal(queue.status, 201, JSON.stringify(queue.body));
  });
  after(async () => {
    await service?.stop();
  });

  async function leadWithHistory(person: { email: string; company: string; note: string }): Promise<string> {
    const leadId = uniqueId('L');
    const intake = await service.request('POST', '/leads', { body: { leadId, email: person.email, company: person.company, icpTier: 1, source: 'web', score: { fit: 30, behavior: 10, intent: 5 } } });
    assert.equal(intake.status, 201, JSON.stringify(intake.body));
    const routed = await eventually(() => service.request('GET', `/leads/${leadId}`, { role: 'ops' }), (r) => Boolean(r.body?.ownerId), 'routing');
    const as = routed.body.ownerId as string;
    assert.equal((await service.request('POST', `/leads/${leadId}/accept`, { as })).status, 200);
    const attempt = await service.request('POST', `/leads/${leadId}/contact-attempts`, { as, body: { channel: 'phone', outcome: 'connected', notes: person.note } });
    assert.equal(attempt.status, 200, JSON.stringify(attempt.body));
    const paused = await service.request('POST', `/leads/${leadId}/pause`, { as, body: { reason: `${person.company} asked to call back` } });
    assert.equal(paused.status, 200, JSON.stringify(paused.body));
    return leadId;
  }

  async function tablesHolding(text: string): Promise<string[]> {
    const tables = rowsOf<{ table_name: string }>(
      await service.database.db.execute(sql`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`),
    );
    const holding: string[] = [];
    for (const { table_name: table } of tables) {
      const [row] = rowsOf<{ n: number }>(await service.database.db.execute(sql.raw(`select count(*)::int as n from "${table}" t where t::text like '%' || ${literal(text)} || '%'`)));
      if (row!.n > 0) holding.push(table);
    }
    return holding;
  }

  test("after erasure the person is nowhere in Postgres, no payload decodes, and the reports' totals are unchanged", async () => {
    const person = { email: `erase.me.${uniqueId('x')}@osoba.pl`, company: `Firma ${uniqueId('C')}`, note: 'Pani Zofia prosi o kontakt po 15:00' };
    const leadId = await leadWithHistory(person);
    const workflowId = leadWorkflowId(leadId);
    await eventually(() => tablesHolding(person.company), (tables) => tables.includes('notifications'), 'the assignment notification');
    assert.ok((await tablesHolding(person.email)).includes('lead_events'), 'the audit holds the e-mail before erasure');
    const reportsBefore = await Promise.all(['/reports/lead-sla', '/reports/handoffs'].map((path) => service.request('GET', path + range, { role: 'manager' })));
    const timelineBefore = await service.request('GET', `/leads/${leadId}/timeline`, { role: 'ops' });

    assert.equal((await service.request('POST', `/leads/${leadId}/erase`, { role: 'manager', body: { reason: 'DSR-1' } })).status, 403);
    assert.equal((await service.request('POST', `/leads/${leadId}/erase`, { role: 'ops', body: {} })).status, 400);
    const erased = await service.request('POST', `/leads/${leadId}/erase`, { role: 'ops', as: 'ops-olga', body: { reason: 'DSR-2026-001' } });
    assert.equal(erased.status, 200, JSON.stringify(erased.body));
    assert.equal(erased.body.workflow, 'terminated');
    assert.equal(erased.body.erasedBy, 'ops-olga');
    assert.equal(erased.body.alreadyErased, false);
    const again = await service.request('POST', `/leads/${leadId}/erase`, { role: 'ops', body: { reason: 'again' } });
    assert.equal(again.status, 200);
    assert.deepEqual({ ...again.body, alreadyErased: false }, erased.body, 'a repeated erasure answers with the first');
    assert.equal(again.body.alreadyErased, true);

    for (const secret of [person.email, person.company, 'Pani Zofia']) {
      assert.deepEqual(await tablesHolding(secret), [], `"${secret}" is still in Postgres`);
    }

    // The codec server decodes none of what Temporal still holds of the lead.
    const { history } = await service.temporal.client.workflowService.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId } });
    const payloads = payloadsIn(history!.events);
    assert.ok(payloads.length >= 5, `the history holds payloads (${payloads.length})`);
    const body = JSON.stringify({
      payloads: payloads.map((p) => ({
        metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
        data: Buffer.from(p.data ?? []).toString('base64'),
      })),
    });
    const decoded = await service.app.request('/codec/decode', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenFor('ops')}` }, body });
    assert.equal(decoded.status, 200);
    const answer = (await decoded.json()) as { payloads: Array<{ data: string }> };
    const texts = answer.payloads.map((p) => Buffer.from(p.data, 'base64').toString('utf8'));
    for (const text of texts) {
      assert.ok(!text.includes(person.email) && !text.includes(person.company), 'a payload still decodes to the person');
    }
    assert.ok(texts.filter((text) => text.includes('was erased')).length >= 5, 'encrypted payloads come back as erasure notes');

    const reportsAfter = await Promise.all(['/reports/lead-sla', '/reports/handoffs'].map((path) => service.request('GET', path + range, { role: 'manager' })));
    // The hygiene snapshot is taken "as of now"; every figure is compared, not the instant it was taken.
    const figures = (body: { pipelineHygiene?: { asOf?: string } }) => ({ ...body, pipelineHygiene: body.pipelineHygiene && { ...body.pipelineHygiene, asOf: undefined } });
    assert.deepEqual(reportsAfter.map((r) => figures(r.body)), reportsBefore.map((r) => figures(r.body)), 'the reports are unchanged');
    const timelineAfter = await service.request('GET', `/leads/${leadId}/timeline`, { role: 'ops' });
    assert.deepEqual(
      timelineAfter.body.events.map((e: { seq: number; type: string; at: string }) => [e.seq, e.type, e.at]),
      timelineBefore.body.events.map((e: { seq: number; type: string; at: string }) => [e.seq, e.type, e.at]),
      'the timeline keeps every event and time',
    );
  });

  test('an erased lead answers 410 to reads, steps and a new intake under its ID', async () => {
    const leadId = await leadWithHistory({ email: `gone.${uniqueId('x')}@osoba.pl`, company: 'Gone Sp. z o.o.', note: 'x' });
    const ownerId = (await service.request('GET', `/leads/${leadId}`, { role: 'ops' })).body.ownerId as string;
    assert.equal((await service.request('POST', `/leads/${leadId}/erase`, { role: 'ops', body: { reason: 'DSR-2' } })).status, 200);
    assert.equal((await service.request('GET', `/leads/${leadId}`, { role: 'ops' })).status, 410);
    const step = await service.request('POST', `/leads/${leadId}/resume`, { as: ownerId });
    assert.equal(step.status, 410, JSON.stringify(step.body));
    const intake = await service.request('POST', '/leads', { body: { leadId, email: 'new@osoba.pl', company: 'New', icpTier: 1, score: { fit: 30, behavior: 10, intent: 5 } } });
    assert.equal(intake.status, 410, JSON.stringify(intake.body));
  });

  test('a write about an erased lead that arrives late never brings its data back', async () => {
    const leadId = await leadWithHistory({ email: `late.${uniqueId('x')}@osoba.pl`, company: 'Late Sp. z o.o.', note: 'x' });
    assert.equal((await service.request('POST', `/leads/${leadId}/erase`, { role: 'ops', body: { reason: 'DSR-3' } })).status, 200);
    const db = service.database.db;
    const workflowId = leadWorkflowId(leadId);
    await db.execute(
      sql`insert into lead_events (lead_id, workflow_id, idempotency_key, seq, type, at, actor, payload) values (${leadId}, ${workflowId}, ${`${workflowId}:late`}, 999, 'late', now(), 'system', ${JSON.stringify({ email: 'late@osoba.pl' })}::jsonb)`,
    );
    await db.execute(sql`update leads set email = 'late@osoba.pl', company = 'Late again' where lead_id = ${leadId}`);
    await db.execute(
      sql`insert into notifications (idempotency_key, type, subject_id, recipients, body, status) values (${`${workflowId}:late`}, 'late', ${workflowId}, '[]'::jsonb, ${JSON.stringify({ summary: 'late@osoba.pl' })}::jsonb, 'logged')`,
    );
    assert.deepEqual(await tablesHolding('late@osoba.pl'), []);
    assert.deepEqual(await tablesHolding('Late again'), []);
  });

  test('the erasure check costs a bulk load nothing but a look-up: 200,000 audit rows of 200,000 leads in one statement', async () => {
    // A lock per row (as a first version took) runs out of Postgres's lock table on a backfill or a COPY.
    const prefix = uniqueId('bulk');
    const result = await service.database.db.execute(
      sql`insert into lead_events (lead_id, workflow_id, idempotency_key, seq, type, at, actor, payload)
          select ${prefix} || '-' || n, 'lead-' || ${prefix} || '-' || n, ${prefix} || '-' || n || ':1', 1, 'bulk', now(), 'system', '{}'::jsonb
          from generate_series(1, 200000) as n`,
    );
    const [row] = rowsOf<{ n: number }>(await service.database.db.execute(sql`select count(*)::int as n from lead_events where lead_id like ${prefix + '-%'}`));
    assert.equal(row!.n, 200_000, JSON.stringify(result).slice(0, 200));
  });

  test('erasing a lead nobody knows is a 404', async () => {
    assert.equal((await service.request('POST', `/leads/${uniqueId('L')}/erase`, { role: 'ops', body: { reason: 'DSR-4' } })).status, 404);
  });
});

function rowsOf<Row>(result: unknown): Row[] {
  return Array.isArray(result) ? (result as Row[]) : (result as { rows: Row[] }).rows;
}

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
