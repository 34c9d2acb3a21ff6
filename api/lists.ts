import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Client } from '@temporalio/client';
import { and, asc, eq, gte, inArray, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Database } from '../db/client.js';
import { deals, leads } from '../db/schema.js';
import { dealStages } from '../domain/deal-lifecycle.js';
import { leadStages } from '../domain/lead-lifecycle.js';
import { requireRole, type AppEnv } from './auth.js';
import { ApiError, validationFailed } from './errors.js';
import { errorResponses, jsonResponse } from './openapi.js';
import { identifier, instant } from './primitives.js';
import { slaStateClause } from '../workflows/lead-search-attributes.js';

const slaFilters = ['on-track', 'due-soon', 'breached'] as const;
type SlaFilter = (typeof slaFilters)[number];

export interface ListRoutesDependencies {
  db: Database;
  client: Client;
}

/** Beyond this many leads in one SLA state, the filter answers 400: narrow by stage, owner or tier first. */
export const SLA_FILTER_MAX = 5_000;

export const LIST_LIMIT_MAX = 200;
const LIST_LIMIT_DEFAULT = 50;

const queryParam = <S extends z.ZodType>(schema: S, name: string, description: string, example?: string) =>
  schema.optional().openapi({ param: { name, in: 'query' }, description, ...(example === undefined ? {} : { example }) });

const cursorSource = '^[A-Za-z0-9_-]{1,400}$';
export const cursorParam = queryParam(
  z.string().regex(new RegExp(cursorSource), 'the nextCursor of a previous page, as it was given').openapi({ pattern: cursorSource, minLength: 1, maxLength: 400 }),
  'cursor',
  'Opaque: the `nextCursor` of the previous page, unchanged; omit it for the first page. A cursor this API did not hand out is a 400.',
);
const limitParam = queryParam(
  z.coerce.number().int().min(1).max(LIST_LIMIT_MAX).openapi({ type: 'integer', minimum: 1, maximum: LIST_LIMIT_MAX }),
  'limit',
  `Rows per page, 1 to ${LIST_LIMIT_MAX}; default ${LIST_LIMIT_DEFAULT}.`,
  '50',
);
const updatedSinceParam = queryParam(instant, 'updatedSince', 'Only records whose projection row changed at or after this instant.', '2026-11-23T09:00:00Z');
const ownerParam = (name: string, description: string) => queryParam(identifier, name, description, 'rep-anna');

const leadListQuery = z.object({
  stage: queryParam(z.enum(leadStages), 'stage', 'Only leads in this stage.', 'MQL'),
  ownerId: ownerParam('ownerId', 'Only leads this rep owns now.'),
  tier: queryParam(
    z.enum(['1', '2', '3']).transform(Number).openapi({ type: 'integer', enum: [1, 2, 3] }),
    'tier',
    'Only leads of this ICP tier (1, 2 or 3).',
    '1',
  ),
  slaState: queryParam(
    z.enum(slaFilters),
    'slaState',
    'Only open leads whose speed-to-lead clock is in this state now, as Temporal visibility has it (`SlaState`, and `DueSoonAt` for due-soon); `breached` answers "which leads are late".',
    'breached',
  ),
  updatedSince: updatedSinceParam,
  cursor: cursorParam,
  limit: limitParam,
});

const dealListQuery = z.object({
  stage: queryParam(z.enum(dealStages), 'stage', 'Only deals in this stage.', 'AWAITING_KICKOFF'),
  csOwnerId: ownerParam('csOwnerId', 'Only deals this CS rep onboards.'),
  salesOwnerId: ownerParam('salesOwnerId', 'Only deals this sales rep sold.'),
  handoffState: queryParam(
    z.enum(['on-track', 'breached']),
    'handoffState',
    '`breached`: a milestone is overdue and not done (as of the last event the projection saw).',
    'breached',
  ),
  updatedSince: updatedSinceParam,
  cursor: cursorParam,
  limit: limitParam,
});

const nextCursor = z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last page.' });

const leadSummary = z
  .object({
    leadId: z.string(),
    company: z.string(),
    icpTier: z.number().int(),
    source: z.string().nullable(),
    stage: z.enum(leadStages),
    ownerId: z.string().nullable(),
    score: z.number().int(),
    policyVersion: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('LeadSummary');

const dealSummary = z
  .object({
    dealId: z.string(),
    accountName: z.string(),
    amount: z.number(),
    currency: z.string(),
    salesOwnerId: z.string(),
    csOwnerId: z.string().nullable(),
    leadId: z.string().nullable(),
    stage: z.enum(dealStages),
    handoffState: z.enum(['on-track', 'breached']),
    policyVersion: z.string(),
    signedAt: z.string(),
    closedWonAt: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('DealSummary');

const leadPage = z.object({ leads: z.array(leadSummary), nextCursor }).openapi('LeadPage');
const dealPage = z.object({ deals: z.array(dealSummary), nextCursor }).openapi('DealPage');

const PAGING =
  'Ordered by `updatedAt`, then ID, oldest change first; a record that changes while you page moves behind the cursor and comes again on a later page, so paging to the end misses no change. ';

const listLeadsRoute = createRoute({
  method: 'get',
  path: '/leads',
  tags: ['leads'],
  summary: 'Leads from the Postgres projection, filtered, a page at a time',
  description:
    'Reads the `leads` projection, written with every audited event, so it answers for open and closed leads alike ' +
    '(a won or lost lead keeps its row after Temporal has forgotten its workflow). ' +
    PAGING +
    'The projection holds stage, owner, tier, score and policy version as of the last event. SLA state (on-track, due-soon, ' +
    'breached) changes with the clock, not with an event, so the projection cannot hold it: with `slaState`, the lead IDs in that ' +
    `state come from Temporal visibility (the workflow's \`SlaState\` search attribute, kept current by its deadline timer; due soon is \`DueSoonAt\` passed) and the ` +
    'page is the projection rows of those leads, filtered and paged as usual; each page reads visibility afresh. More than ' +
    `${SLA_FILTER_MAX} leads in one state is a 400: add stage, owner or tier. Sales see every lead.`,
  middleware: [requireRole('sales', 'ops', 'manager')] as const,
  request: { query: leadListQuery },
  responses: { 200: jsonResponse(leadPage, 'One page of leads'), ...errorResponses(400, 401, 403, 503) },
});

const listDealsRoute = createRoute({
  method: 'get',
  path: '/deals',
  tags: ['deals'],
  summary: 'Deals from the Postgres projection, filtered, a page at a time',
  description:
    'Reads the `deals` projection, written with every audited event, open and closed deals alike. ' +
    PAGING +
    '`handoffState` is the one the last event recorded: a milestone whose deadline passed since then shows as breached once the ' +
    "deal's timer fires and audits it.",
  middleware: [requireRole('sales', 'cs', 'ops', 'manager')] as const,
  request: { query: dealListQuery },
  responses: { 200: jsonResponse(dealPage, 'One page of deals'), ...errorResponses(400, 401, 403, 503) },
});

export interface Position {
  /** updated_at as Postgres prints it to the microsecond, so the next page starts exactly after it. */
  at: string;
  id: string;
}

const exactInstant = (column: AnyPgColumn) => sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const positionAt = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** Postgres refuses 2026-02-30 with an error, not an answer; only a date the calendar has may reach it. */
function isRealInstant(at: string): boolean {
  const millis = Date.parse(`${at.slice(0, 23)}Z`);
  return !Number.isNaN(millis) && new Date(millis).toISOString().slice(0, 23) === at.slice(0, 23);
}

export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify([position.at, position.id])).toString('base64url');
}

export function decodeCursor(cursor: string): Position {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  if (
    Array.isArray(decoded) &&
    decoded.length === 2 &&
    typeof decoded[0] === 'string' &&
    positionAt.test(decoded[0]) &&
    isRealInstant(decoded[0]) &&
    identifier.safeParse(decoded[1]).success
  ) {
    return { at: decoded[0], id: decoded[1] as string };
  }
  throw new ApiError(400, 'invalid-request', 'cursor: not a cursor this API handed out; start again without one');
}

function pageConditions(updatedAt: AnyPgColumn, id: AnyPgColumn, query: { updatedSince?: string; cursor?: string }): SQL[] {
  const conditions: SQL[] = [];
  if (query.updatedSince !== undefined) conditions.push(gte(updatedAt, new Date(query.updatedSince)));
  if (query.cursor !== undefined) {
    const after = decodeCursor(query.cursor);
    conditions.push(sql`(${updatedAt}, ${id}) > (${after.at}::timestamptz, ${after.id})`);
  }
  return conditions;
}

/** One row more than asked tells whether another page follows. */
function toPage<Row extends { cursorAt: string }>(rows: Row[], limit: number, idOf: (row: Row) => string) {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { page, nextCursor: rows.length > limit && last ? encodeCursor({ at: last.cursorAt, id: idOf(last) }) : null };
}

/** Lead IDs whose running workflow shows `SlaState=<state>` (and the other filters visibility knows), at most SLA_FILTER_MAX. */
async function leadsInSlaState(client: Client, state: SlaFilter, query: { stage?: string; ownerId?: string; tier?: number }): Promise<string[]> {
  const clauses = ['WorkflowType="leadWorkflow"', 'ExecutionStatus="Running"', slaStateClause(state, new Date())];
  // Values are enum members or identifiers (letters, digits, . _ -): nothing in them can end the quoted string.
  if (query.stage !== undefined) clauses.push(`LeadStage="${query.stage}"`);
  if (query.ownerId !== undefined) clauses.push(`OwnerId="${query.ownerId}"`);
  if (query.tier !== undefined) clauses.push(`LeadTier=${query.tier}`);
  const ids: string[] = [];
  for await (const workflow of client.workflow.list({ query: clauses.join(' AND ') })) {
    if (ids.length === SLA_FILTER_MAX) {
      throw new ApiError(400, 'invalid-request', `slaState: more than ${SLA_FILTER_MAX} leads are ${state}: narrow the list by stage, ownerId or tier`);
    }
    ids.push(workflow.workflowId.replace(/^lead-/, ''));
  }
  return ids;
}

export function listRoutes({ db, client }: ListRoutesDependencies) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: (result, c) => (result.success ? undefined : validationFailed(result.error, c)) });

  app.openapi(listLeadsRoute, async (c) => {
    const query = c.req.valid('query');
    const limit = query.limit ?? LIST_LIMIT_DEFAULT;
    const conditions = pageConditions(leads.updatedAt, leads.leadId, query);
    if (query.stage !== undefined) conditions.push(eq(leads.stage, query.stage));
    if (query.ownerId !== undefined) conditions.push(eq(leads.ownerId, query.ownerId));
    if (query.tier !== undefined) conditions.push(eq(leads.icpTier, query.tier));
    if (query.slaState !== undefined) {
      const ids = await leadsInSlaState(client, query.slaState, query);
      if (ids.length === 0) return c.json({ leads: [], nextCursor: null }, 200);
      conditions.push(inArray(leads.leadId, ids));
    }
    const rows = await db
      .select({ row: leads, cursorAt: exactInstant(leads.updatedAt) })
      .from(leads)
      .where(and(...conditions))
      .orderBy(asc(leads.updatedAt), asc(leads.leadId))
      .limit(limit + 1);
    const { page, nextCursor } = toPage(rows, limit, ({ row }) => row.leadId);
    return c.json(
      {
        leads: page.map(({ row }) => ({
          leadId: row.leadId,
          company: row.company,
          icpTier: row.icpTier,
          source: row.source,
          stage: row.stage as (typeof leadStages)[number],
          ownerId: row.ownerId,
          score: row.score,
          policyVersion: row.policyVersion,
          createdAt: row.createdAt.toISOString(),
          updatedAt: row.updatedAt.toISOString(),
        })),
        nextCursor,
      },
      200,
    );
  });

  app.openapi(listDealsRoute, async (c) => {
    const query = c.req.valid('query');
    const limit = query.limit ?? LIST_LIMIT_DEFAULT;
    const conditions = pageConditions(deals.updatedAt, deals.dealId, query);
    if (query.stage !== undefined) conditions.push(eq(deals.stage, query.stage));
    if (query.csOwnerId !== undefined) conditions.push(eq(deals.csOwnerId, query.csOwnerId));
    if (query.salesOwnerId !== undefined) conditions.push(eq(deals.salesOwnerId, query.salesOwnerId));
    if (query.handoffState !== undefined) conditions.push(eq(deals.handoffState, query.handoffState));
    const rows = await db
      .select({ row: deals, cursorAt: exactInstant(deals.updatedAt) })
      .from(deals)
      .where(and(...conditions))
      .orderBy(asc(deals.updatedAt), asc(deals.dealId))
      .limit(limit + 1);
    const { page, nextCursor } = toPage(rows, limit, ({ row }) => row.dealId);
    return c.json(
      {
        deals: page.map(({ row }) => ({
          dealId: row.dealId,
          accountName: row.accountName,
          amount: row.amount,
          currency: row.currency,
          salesOwnerId: row.salesOwnerId,
          csOwnerId: row.csOwnerId,
          leadId: row.leadId,
          stage: row.stage as (typeof dealStages)[number],
          handoffState: row.handoffState as 'on-track' | 'breached',
          policyVersion: row.policyVersion,
          signedAt: row.signedAt.toISOString(),
          closedWonAt: row.closedWonAt.toISOString(),
          createdAt: row.createdAt.toISOString(),
          updatedAt: row.updatedAt.toISOString(),
        })),
        nextCursor,
      },
      200,
    );
  });

  return app;
}
