import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { openDatabase } from '../db/client.js';
import { leadReportFact } from '../domain/report-stats.js';
import { seededRandom } from '../test/support/random.js';

/**
 * Seeds lead audit history for the report benchmark: N rows in lead_events (COPY FROM STDIN through
 * postgres.js), their lead_report_facts (whose trigger writes each lead's lead_report_leads row), plus one `leads` projection row per seeded lead, with a realistic mix of ICP tiers and
 * lifecycles (met on time, breached and escalated up the ladder, returned to marketing, cadence, SQL, won/lost).
 * Deterministic for a given seed. Progress on stderr.
 *
 * Standalone: npx tsx bench/seed-events.ts --database-url postgres://postgres@127.0.0.1:5432/somedb [--events 1000000]
 * (the database is migrated first if it needs to be).
 */

export interface SeedOptions {
  events: number;
  /** Seed whole lifecycles of this many leads instead of stopping at `events` rows. */
  leads?: number;
  /** Lead IDs are `${prefix}${n}`. */
  prefix: string;
  /** Leads arrive uniformly in [from, to). */
  from: Date;
  to: Date;
  seed?: number;
  onProgress?: (eventsWritten: number) => void;
}

export interface SeedResult {
  events: number;
  leads: number;
  seconds: number;
  byType: Record<string, number>;
  byTier: Record<string, number>;
}

interface SeedEvent {
  type: string;
  at: number;
  actor: string;
  payload: Record<string, unknown>;
}

interface SeedLead {
  leadId: string;
  tier: 1 | 2 | 3;
  source: string;
  stage: string;
  ownerId: string | null;
  score: number;
  createdAt: number;
  events: SeedEvent[];
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const REPS = Array.from({ length: 24 }, (_, i) => `rep-${String(i + 1).padStart(2, '0')}`);
const QUEUES = ['inbound', 'enterprise', 'emea'];
const ALLOWANCE_MS: Record<1 | 2 | 3, number> = { 1: 15 * MINUTE, 2: 4 * HOUR, 3: DAY };
const BREACH_RATE: Record<1 | 2 | 3, number> = { 1: 0.35, 2: 0.25, 3: 0.15 };
const CHANNELS = ['phone', 'email', 'linkedin'];

/** The seeded generator the tests use too (mulberry32). */
export const random = seededRandom;

/** One lead's audit trail, shaped like what workflows/lead-workflow.ts writes. */
export function generateLead(leadId: string, rand: () => number, from: number, to: number): SeedLead {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const r = rand();
  const tier: 1 | 2 | 3 = r < 0.2 ? 1 : r < 0.55 ? 2 : 3;
  const received = from + Math.floor(rand() * (to - from));
  const score = { fit: 10 + Math.floor(rand() * 31), behavior: Math.floor(rand() * 25), intent: Math.floor(rand() * 25), negative: 0 };
  const total = score.fit + score.behavior + score.intent;
  const profile = { leadId, email: `${leadId}@example.com`, company: `Company ${leadId}`, icpTier: tier, source: pick(['web', 'event', 'partner', 'outbound']) };
  const events: SeedEvent[] = [];
  let at = received;
  const add = (type: string, actor: string, payload: Record<string, unknown>, after = 0) => {
    at += after;
    events.push({ type, at, actor, payload });
  };
  const lead: SeedLead = { leadId, tier, source: profile.source, stage: 'LEAD', ownerId: null, score: total, createdAt: received, events };

  const band = total >= 70 ? 'hot' : total >= 40 ? 'mql' : 'cold';
  add('received', 'sales-actor', { stage: total >= 40 ? 'MQL' : 'LEAD', score: { ...score, total, band }, profile });
  if (total < 40) {
    // Below the MQL threshold: some engagement, a few cross it later (kept simple: they stay leads here).
    const changes = Math.floor(rand() * 3);
    for (let i = 0; i < changes; i += 1) add('score-changed', 'ops-actor', { signal: pick(['webinar', 'email-click']), from: total, to: total + 5, band: 'cold' }, Math.floor(rand() * 7 * DAY));
    return lead;
  }

  lead.stage = 'MQL';
  const owner = pick(REPS);
  lead.ownerId = owner;
  const dueAt = received + ALLOWANCE_MS[tier];
  add('routed', 'system', { repId: owner, queueId: pick(QUEUES), reason: 'round-robin', managerId: 'mgr-1', dueAt: new Date(dueAt).toISOString() }, 500 + Math.floor(rand() * 1500));

  const breached = rand() < BREACH_RATE[tier];
  if (breached) {
    at = dueAt;
    add('sla-breached', 'system', { deadline: 'speed-to-lead', dueAt: new Date(dueAt).toISOString(), ownerId: owner });
    add('escalated', 'system', { level: 1, action: 'remind-owner', deadline: 'speed-to-lead', dueAt: new Date(dueAt).toISOString(), ownerId: owner });
    const depth = rand();
    if (depth < 0.6) add('escalated', 'system', { level: 2, action: 'alert-manager', deadline: 'speed-to-lead', managerId: 'mgr-1' }, ALLOWANCE_MS[tier] / 2);
    if (depth < 0.3) {
      const next = pick(REPS.filter((rep) => rep !== owner));
      add('escalated', 'system', { level: 3, action: 'reassign', deadline: 'speed-to-lead', from: owner, to: next }, ALLOWANCE_MS[tier] / 2);
      lead.ownerId = next;
    }
    if (depth < 0.1) {
      add('escalated', 'system', { level: 4, action: 'return-to-marketing', deadline: 'speed-to-lead' }, ALLOWANCE_MS[tier]);
      add('returned-to-nurture', 'system', { from: 'MQL', to: 'NURTURE', reason: 'sla-expired' });
      lead.stage = 'NURTURE';
      return lead;
    }
  }

  // Contact: on time (within the allowance) unless breached.
  if (!breached) at = Math.max(at, received + Math.floor(rand() * ALLOWANCE_MS[tier]));
  else at += Math.floor(rand() * ALLOWANCE_MS[tier]);
  add('accepted', 'sales-actor', { from: 'MQL', to: 'SAL', ownerId: lead.ownerId });
  lead.stage = 'SAL';
  const attempts = 1 + Math.floor(rand() * 5);
  const connects = rand() < 0.45;
  for (let n = 1; n <= attempts; n += 1) {
    const last = n === attempts;
    const outcome = last && connects ? pick(['connected', 'replied']) : pick(['no-answer', 'left-voicemail', 'no-answer']);
    add('contact-attempted', 'sales-actor', { number: n, channel: CHANNELS[(n - 1) % 3], outcome }, n === 1 ? Math.floor(rand() * MINUTE) : DAY + Math.floor(rand() * DAY));
    if (n === 1) {
      add('speed-to-lead-met', 'system', {
        by: 'first-attempt',
        startedAt: new Date(received).toISOString(),
        dueAt: new Date(dueAt).toISOString(),
        breached,
        businessMinutes: Math.round((at - received) / MINUTE),
      });
    }
  }
  if (!connects) {
    if (rand() < 0.25) {
      add('returned-to-nurture', 'sales-actor', { from: 'SAL', to: 'NURTURE', reason: pick(['wrong-icp', 'no-budget', 'too-early', 'wrong-contact']) }, HOUR);
    } else {
      add('returned-to-nurture', 'system', { from: 'SAL', to: 'NURTURE', reason: 'unresponsive', attemptsMade: attempts }, 5 * DAY);
    }
    lead.stage = 'NURTURE';
    return lead;
  }
  add('cadence-ended', 'sales-actor', { by: 'connected', attempts });
  if (rand() < 0.6) {
    add('qualified', 'sales-actor', { from: 'SAL', to: 'SQL', need: true, budget: true, timing: true }, 2 * DAY);
    lead.stage = 'SQL';
    if (rand() < 0.7) {
      const won = rand() < 0.4;
      add('closed', 'sales-actor', { from: 'SQL', to: won ? 'WON' : 'LOST', outcome: won ? 'won' : 'lost' }, 20 * DAY);
      lead.stage = won ? 'WON' : 'LOST';
    }
  }
  return lead;
}

/** COPY text format: backslash, tab, newline and carriage return escaped; null as \N. */
function copyField(value: CopyValue): string {
  if (value === null) return '\\N';
  return String(value).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}
const copyRow = (values: readonly CopyValue[]) => `${values.map(copyField).join('\t')}\n`;

type CopyValue = string | number | boolean | null;

async function write(stream: NodeJS.WritableStream, chunk: string): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

/** Streams `rows` into one COPY ... FROM STDIN in chunks of about 1 MiB; `onChunk` hears how many rows went. */
async function copyRows(copy: postgres.PendingQuery<postgres.Row[]>, rows: Iterable<CopyValue[]>, onChunk?: (copied: number) => void): Promise<void> {
  const stream = await copy.writable();
  let chunk = '';
  let copied = 0;
  for (const row of rows) {
    chunk += copyRow(row);
    copied += 1;
    if (chunk.length > 1 << 20) {
      await write(stream, chunk);
      chunk = '';
      onChunk?.(copied);
    }
  }
  if (chunk) await write(stream, chunk);
  stream.end();
  await finished(stream);
  onChunk?.(copied);
}

/** Writes the events and their report facts with COPY, then the projection rows; VACUUM ANALYZEs the tables. */
export async function seedLeadEvents(sql: postgres.Sql, options: SeedOptions): Promise<SeedResult> {
  const started = Date.now();
  const rand = random(options.seed ?? 20261123);
  const from = options.from.getTime();
  const to = options.to.getTime();
  const byType: Record<string, number> = {};
  const byTier: Record<string, number> = {};
  const leads: Array<Omit<SeedLead, 'events'> & { lastSeq: number; updatedAt: number }> = [];

  // A live table is appended as things happen, so its rows lie in roughly `at` order; generating lead by
  // lead and sorting the rows by `at` before the COPY gives the seeded table that same physical layout.
  // Each event's report fact (domain/report-stats.ts leadReportFact, as the audit activity derives it) goes
  // with it, under the event ID the seeder assigns.
  const rows: Array<{ at: number; event: CopyValue[]; fact: CopyValue[] | null }> = [];
  let written = 0;
  const more = (n: number) => (options.leads === undefined ? written < options.events : n < options.leads);
  for (let n = 0; more(n); n += 1) {
    const lead = generateLead(`${options.prefix}${n}`, rand, from, to);
    const workflowId = `lead-${lead.leadId}`;
    const take = options.leads === undefined ? lead.events.slice(0, options.events - written) : lead.events;
    take.forEach((event, index) => {
      const seq = index + 1;
      const at = new Date(event.at).toISOString();
      const fact = leadReportFact(event.type, event.payload);
      rows.push({
        at: event.at,
        event: [lead.leadId, workflowId, `${workflowId}:${seq}-${event.type}`, seq, event.type, at, event.actor, JSON.stringify(event.payload)],
        fact: fact && [lead.leadId, lead.tier, lead.source, fact.type, at, fact.counts, fact.businessMinutes, fact.metLate, fact.clockStartedAt, fact.reason],
      });
      byType[event.type] = (byType[event.type] ?? 0) + 1;
    });
    written += take.length;
    byTier[`tier${lead.tier}`] = (byTier[`tier${lead.tier}`] ?? 0) + 1;
    const { events: _events, ...projection } = lead;
    leads.push({ ...projection, lastSeq: take.length, updatedAt: take[take.length - 1]?.at ?? lead.createdAt });
  }
  rows.sort((a, b) => a.at - b.at);

  // Event IDs are taken as one block from the table's sequence, so facts can name their event.
  const [block] = await sql`select nextval(pg_get_serial_sequence('lead_events', 'id')) as first`;
  const firstId = Number(block!.first);
  await sql`select setval(pg_get_serial_sequence('lead_events', 'id'), ${firstId + rows.length})`;
  await copyRows(
    sql`copy lead_events (id, lead_id, workflow_id, idempotency_key, seq, type, at, actor, payload) from stdin`,
    rows.map((row, index) => [firstId + index, ...row.event]),
    options.onProgress,
  );
  await copyRows(
    sql`copy lead_report_facts (event_id, lead_id, tier, source, type, at, counts, business_minutes, met_late, clock_started_at, reason) from stdin`,
    rows.flatMap((row, index) => (row.fact === null ? [] : [[firstId + index, ...row.fact]])),
  );
  await copyRows(
    sql`copy leads (lead_id, workflow_id, email, company, icp_tier, source, stage, owner_id, score, policy_version, last_event_seq, created_at, updated_at) from stdin`,
    leads.map((lead) => [
      lead.leadId,
      `lead-${lead.leadId}`,
      `${lead.leadId}@example.com`,
      `Company ${lead.leadId}`,
      lead.tier,
      lead.source,
      lead.stage,
      lead.ownerId,
      lead.score,
      'seeded',
      lead.lastSeq,
      new Date(lead.createdAt).toISOString(),
      new Date(lead.updatedAt).toISOString(),
    ]),
  );

  // Fresh statistics and visibility map, as a production table that autovacuum keeps up would have.
  await sql.unsafe('vacuum analyze lead_events');
  await sql.unsafe('vacuum analyze leads');
  await sql.unsafe('vacuum analyze lead_report_facts');
  // The COPY into lead_report_facts re-derived every seeded lead's report row (migration 0012's trigger).
  await sql.unsafe('vacuum analyze lead_report_leads');
  await sql.unsafe('vacuum analyze lead_report_revisions');
  return { events: written, leads: leads.length, seconds: (Date.now() - started) / 1000, byType, byTier };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '1000000' },
      'database-url': { type: 'string' },
      prefix: { type: 'string', default: 'seed-' },
      days: { type: 'string', default: '365' },
    },
  });
  const databaseUrl = values['database-url'] ?? process.env.BENCH_DATABASE_URL;
  if (!databaseUrl) throw new Error('give --database-url (a database to seed; it is migrated first)');
  const migrated = await openDatabase({ databaseUrl, dataDir: '/nonexistent' });
  await migrated.close();
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const total = Number(values.events);
  const to = new Date();
  const from = new Date(to.getTime() - Number(values.days) * DAY);
  let last = 0;
  try {
    const result = await seedLeadEvents(sql, {
      events: total,
      prefix: values.prefix!,
      from,
      to,
      onProgress: (done) => {
        if (done - last >= 100_000 || done === total) {
          last = done;
          process.stderr.write(`seeding lead events: ${done}/${total}\n`);
        }
      },
    });
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
