import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { asc, eq, inArray } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { queueMembers, queues, reps } from '../db/schema.js';
import { requireRole, type AppEnv } from './auth.js';
import { ApiError, validationFailed, type ErrorBody } from './errors.js';
import { errorResponses, jsonBody, jsonResponse } from './openapi.js';
import { email, idParam, identifier, instant, requiredText } from './primitives.js';

export interface RepRoutesDependencies {
  db: Database;
}

export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

const idSchema = identifier;

const seniorities = ['junior', 'senior'] as const;
const strategies = ['round-robin', 'tier-priority'] as const;

const repIdParam = z.object({ repId: idParam('repId', 'rep-ana') });
const queueIdParam = z.object({ queueId: idParam('queueId', 'q-enterprise') });

const periodSchema = z
  .object({ from: instant, to: instant })
  .strict()
  .refine((period) => Date.parse(period.from) < Date.parse(period.to), { path: ['to'], message: 'must be after from' })
  .openapi('AbsencePeriod', { description: '`to` must be after `from`' });

const repSchema = z
  .object({
    repId: z.string(),
    name: z.string(),
    email: z.string().nullable(),
    seniority: z.enum(seniorities),
    managerId: z.string().nullable(),
    active: z.boolean(),
    outOfOffice: z.array(z.object({ from: z.string(), to: z.string() })),
    createdAt: z.string(),
  })
  .openapi('Rep');

const repListSchema = z.object({ reps: z.array(repSchema) }).openapi('RepList');

const nameSchema = requiredText(200);

/** What a new rep must state; the team file (api/team-file.ts) reads its reps with it too. */
export const createRepSchema = z
  .object({
    repId: idSchema,
    name: nameSchema,
    email: email.optional(),
    seniority: z.enum(seniorities),
    managerId: idSchema.optional(),
    active: z.boolean().optional(),
  })
  .strict()
  .openapi('RepCreate');

const patchRepSchema = z
  .object({
    name: nameSchema.optional(),
    email: email.nullable().optional(),
    seniority: z.enum(seniorities).optional(),
    managerId: idSchema.nullable().optional(),
    active: z.boolean().optional(),
  })
  .strict()
  .refine((patch) => Object.values(patch).some((value) => value !== undefined), { message: 'name at least one field to change' })
  .openapi('RepPatch', { minProperties: 1, description: 'At least one field to change' });

const outOfOfficeSchema = z.object({ periods: z.array(periodSchema).max(200) }).strict().openapi('OutOfOffice');

const membersSchema = z
  .array(idSchema)
  .max(500)
  .refine((members) => new Set(members).size === members.length, { message: 'each rep may appear once' })
  .openapi({ uniqueItems: true, description: 'Rep IDs in rotation order, each at most once; every one must name an existing rep' });

const queueSchema = z
  .object({
    queueId: z.string(),
    name: z.string(),
    strategy: z.enum(strategies),
    managerId: z.string().nullable(),
    lastAssignedRepId: z.string().nullable(),
    /** In rotation order. */
    members: z.array(z.object({ repId: z.string(), name: z.string(), seniority: z.enum(seniorities), active: z.boolean() })),
    createdAt: z.string(),
  })
  .openapi('Queue');

const queueListSchema = z.object({ queues: z.array(queueSchema) }).openapi('QueueList');

/** What a new queue must state; the team file (api/team-file.ts) reads its queues with it too. */
export const createQueueSchema = z
  .object({
    queueId: idSchema,
    name: nameSchema,
    strategy: z.enum(strategies),
    managerId: idSchema.optional(),
    members: membersSchema,
  })
  .strict()
  .openapi('QueueCreate');

const replaceMembersSchema = z.object({ members: membersSchema }).strict().openapi('QueueMembers');

const listRepsRoute = createRoute({
  method: 'get',
  path: '/',
  tags: ['reps'],
  summary: 'All reps',
  middleware: [requireRole('ops', 'manager')] as const,
  responses: { 200: jsonResponse(repListSchema, 'Reps by repId'), ...errorResponses(401, 403) },
});

const createRepRoute = createRoute({
  method: 'post',
  path: '/',
  tags: ['reps'],
  summary: 'Add a rep',
  middleware: [requireRole('ops')] as const,
  request: { body: jsonBody(createRepSchema) },
  responses: {
    201: jsonResponse(repSchema, 'Rep created'),
    ...errorResponses(400, 401, 403, 413),
    409: { ...errorResponses(409)[409], description: 'A rep with this repId already exists; nothing changed' },
  },
});

const getRepRoute = createRoute({
  method: 'get',
  path: '/{repId}',
  tags: ['reps'],
  summary: 'One rep',
  middleware: [requireRole('ops', 'manager')] as const,
  request: { params: repIdParam },
  responses: { 200: jsonResponse(repSchema, 'Rep'), ...errorResponses(400, 401, 403, 404) },
});

const patchRepRoute = createRoute({
  method: 'patch',
  path: '/{repId}',
  tags: ['reps'],
  summary: 'Change a rep (name, email, seniority, manager, active)',
  middleware: [requireRole('ops')] as const,
  request: { params: repIdParam, body: jsonBody(patchRepSchema) },
  responses: { 200: jsonResponse(repSchema, 'The rep after the change'), ...errorResponses(400, 401, 403, 404, 413) },
});

const outOfOfficeRoute = createRoute({
  method: 'put',
  path: '/{repId}/out-of-office',
  tags: ['reps'],
  summary: "Replace the rep's out-of-office periods; routing skips a rep inside one",
  middleware: [requireRole('ops')] as const,
  request: { params: repIdParam, body: jsonBody(outOfOfficeSchema) },
  responses: { 200: jsonResponse(repSchema, 'The rep after the change'), ...errorResponses(400, 401, 403, 404, 413) },
});

const listQueuesRoute = createRoute({
  method: 'get',
  path: '/',
  tags: ['queues'],
  summary: 'All routing queues with their members',
  middleware: [requireRole('ops', 'manager')] as const,
  responses: { 200: jsonResponse(queueListSchema, 'Queues by queueId'), ...errorResponses(401, 403) },
});

const createQueueRoute = createRoute({
  method: 'post',
  path: '/',
  tags: ['queues'],
  summary: 'Add a routing queue; members are rep IDs in rotation order',
  middleware: [requireRole('ops')] as const,
  request: { body: jsonBody(createQueueSchema) },
  responses: {
    201: jsonResponse(queueSchema, 'Queue created'),
    ...errorResponses(400, 401, 403, 413),
    409: { ...errorResponses(409)[409], description: 'A queue with this queueId already exists; nothing changed' },
  },
});

const getQueueRoute = createRoute({
  method: 'get',
  path: '/{queueId}',
  tags: ['queues'],
  summary: 'One routing queue with its members',
  middleware: [requireRole('ops', 'manager')] as const,
  request: { params: queueIdParam },
  responses: { 200: jsonResponse(queueSchema, 'Queue'), ...errorResponses(400, 401, 403, 404) },
});

const replaceMembersRoute = createRoute({
  method: 'put',
  path: '/{queueId}/members',
  tags: ['queues'],
  summary: "Replace the queue's members; order is rotation order",
  middleware: [requireRole('ops')] as const,
  request: { params: queueIdParam, body: jsonBody(replaceMembersSchema) },
  responses: { 200: jsonResponse(queueSchema, 'The queue after the change'), ...errorResponses(400, 401, 403, 404, 413) },
});

type RepBody = z.infer<typeof repSchema>;
type QueueBody = z.infer<typeof queueSchema>;

function toRepBody(row: typeof reps.$inferSelect): RepBody {
  return {
    repId: row.repId,
    name: row.name,
    email: row.email,
    seniority: row.seniority as RepBody['seniority'],
    managerId: row.managerId,
    active: row.active,
    outOfOffice: row.outOfOffice,
    createdAt: row.createdAt.toISOString(),
  };
}

async function loadQueues(db: Database | Transaction, queueId?: string): Promise<QueueBody[]> {
  const queueRows = await db
    .select()
    .from(queues)
    .where(queueId === undefined ? undefined : eq(queues.queueId, queueId))
    .orderBy(asc(queues.queueId));
  if (queueRows.length === 0) return [];
  const memberRows = await db
    .select({ queueId: queueMembers.queueId, repId: reps.repId, name: reps.name, seniority: reps.seniority, active: reps.active })
    .from(queueMembers)
    .innerJoin(reps, eq(reps.repId, queueMembers.repId))
    .where(
      inArray(
        queueMembers.queueId,
        queueRows.map((row) => row.queueId),
      ),
    )
    .orderBy(asc(queueMembers.queueId), asc(queueMembers.position), asc(queueMembers.repId));
  return queueRows.map((row) => ({
    queueId: row.queueId,
    name: row.name,
    strategy: row.strategy as QueueBody['strategy'],
    managerId: row.managerId,
    lastAssignedRepId: row.lastAssignedRepId,
    members: memberRows
      .filter((member) => member.queueId === row.queueId)
      .map((member) => ({
        repId: member.repId,
        name: member.name,
        seniority: member.seniority as QueueBody['members'][number]['seniority'],
        active: member.active,
      })),
    createdAt: row.createdAt.toISOString(),
  }));
}

/** Thrown inside a transaction when members name reps that do not exist; answered as a 400 naming each one. */
export class UnknownMembersError extends Error {
  constructor(
    readonly members: string[],
    readonly unknown: string[],
  ) {
    super(`unknown rep ids: ${unknown.join(', ')}`);
  }

  toBody(): ErrorBody {
    return {
      error: 'invalid-request',
      message: `members: unknown rep ids ${this.unknown.join(', ')}; create them first (POST /reps)`,
      issues: this.unknown.map((repId) => ({ path: `members.${this.members.indexOf(repId)}`, message: `no rep ${repId}` })),
    };
  }
}

/** Replaces the queue's membership with `members` in rotation order; locks the reps so none vanishes meanwhile. */
async function writeMembers(tx: Transaction, queueId: string, members: string[]): Promise<void> {
  if (members.length > 0) {
    const found = await tx.select({ repId: reps.repId }).from(reps).where(inArray(reps.repId, members)).for('share');
    const known = new Set(found.map((row) => row.repId));
    const unknown = members.filter((repId) => !known.has(repId));
    if (unknown.length > 0) throw new UnknownMembersError(members, unknown);
  }
  await tx.delete(queueMembers).where(eq(queueMembers.queueId, queueId));
  if (members.length > 0) {
    await tx.insert(queueMembers).values(members.map((repId, position) => ({ queueId, repId, position })));
  }
}

/** Adds the rep unless one with its repId exists (that one is left as it is); the new row, or undefined. */
export async function insertRep(db: Database | Transaction, body: z.infer<typeof createRepSchema>) {
  const [row] = await db
    .insert(reps)
    .values({
      repId: body.repId,
      name: body.name,
      email: body.email ?? null,
      seniority: body.seniority,
      managerId: body.managerId ?? null,
      active: body.active ?? true,
    })
    .onConflictDoNothing({ target: reps.repId })
    .returning();
  return row;
}

/**
 * Adds the queue with its members unless one with its queueId exists (left as it is, members included);
 * false then. Throws UnknownMembersError when a member names no rep; run it in a transaction so that
 * failure leaves no memberless queue behind.
 */
export async function insertQueue(tx: Transaction, body: z.infer<typeof createQueueSchema>): Promise<boolean> {
  const inserted = await tx
    .insert(queues)
    .values({ queueId: body.queueId, name: body.name, strategy: body.strategy, managerId: body.managerId ?? null })
    .onConflictDoNothing({ target: queues.queueId })
    .returning({ queueId: queues.queueId });
  if (inserted.length === 0) return false;
  await writeMembers(tx, body.queueId, body.members);
  return true;
}

export function repRoutes({ db }: RepRoutesDependencies) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: (result, c) => (result.success ? undefined : validationFailed(result.error, c)) });

  app.openapi(listRepsRoute, async (c) => {
    const rows = await db.select().from(reps).orderBy(asc(reps.repId));
    return c.json({ reps: rows.map(toRepBody) }, 200);
  });

  app.openapi(createRepRoute, async (c) => {
    const body = c.req.valid('json');
    const row = await insertRep(db, body);
    if (!row) throw new ApiError(409, 'conflict', `rep ${body.repId} already exists; change it with PATCH /reps/${body.repId}`);
    return c.json(toRepBody(row), 201);
  });

  app.openapi(getRepRoute, async (c) => {
    const { repId } = c.req.valid('param');
    const [row] = await db.select().from(reps).where(eq(reps.repId, repId));
    if (!row) throw new ApiError(404, 'not-found', `no rep ${repId}`);
    return c.json(toRepBody(row), 200);
  });

  app.openapi(patchRepRoute, async (c) => {
    const { repId } = c.req.valid('param');
    const patch = c.req.valid('json');
    const changes = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as Partial<typeof reps.$inferInsert>;
    const [row] = await db.update(reps).set(changes).where(eq(reps.repId, repId)).returning();
    if (!row) throw new ApiError(404, 'not-found', `no rep ${repId}`);
    return c.json(toRepBody(row), 200);
  });

  app.openapi(outOfOfficeRoute, async (c) => {
    const { repId } = c.req.valid('param');
    const { periods } = c.req.valid('json');
    // Stored as canonical UTC instants, in time order, so routing compares like with like.
    const outOfOffice = periods
      .map((period) => ({ from: new Date(period.from).toISOString(), to: new Date(period.to).toISOString() }))
      .sort((a, b) => a.from.localeCompare(b.from));
    const [row] = await db.update(reps).set({ outOfOffice }).where(eq(reps.repId, repId)).returning();
    if (!row) throw new ApiError(404, 'not-found', `no rep ${repId}`);
    return c.json(toRepBody(row), 200);
  });

  return app;
}

export function queueRoutes({ db }: RepRoutesDependencies) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: (result, c) => (result.success ? undefined : validationFailed(result.error, c)) });

  app.openapi(listQueuesRoute, async (c) => c.json({ queues: await loadQueues(db) }, 200));

  app.openapi(getQueueRoute, async (c) => {
    const { queueId } = c.req.valid('param');
    const [queue] = await loadQueues(db, queueId);
    if (!queue) throw new ApiError(404, 'not-found', `no queue ${queueId}`);
    return c.json(queue, 200);
  });

  app.openapi(createQueueRoute, async (c) => {
    const body = c.req.valid('json');
    try {
      const queue = await db.transaction(async (tx) => {
        if (!(await insertQueue(tx, body))) {
          throw new ApiError(409, 'conflict', `queue ${body.queueId} already exists; change its members with PUT /queues/${body.queueId}/members`);
        }
        const [created] = await loadQueues(tx, body.queueId);
        return created!;
      });
      return c.json(queue, 201);
    } catch (error) {
      if (error instanceof UnknownMembersError) return c.json(error.toBody(), 400);
      throw error;
    }
  });

  app.openapi(replaceMembersRoute, async (c) => {
    const { queueId } = c.req.valid('param');
    const { members } = c.req.valid('json');
    try {
      const queue = await db.transaction(async (tx) => {
        const [locked] = await tx.select({ queueId: queues.queueId }).from(queues).where(eq(queues.queueId, queueId)).for('update');
        if (!locked) throw new ApiError(404, 'not-found', `no queue ${queueId}`);
        await writeMembers(tx, queueId, members);
        const [updated] = await loadQueues(tx, queueId);
        return updated!;
      });
      return c.json(queue, 200);
    } catch (error) {
      if (error instanceof UnknownMembersError) return c.json(error.toBody(), 400);
      throw error;
    }
  });

  return app;
}
