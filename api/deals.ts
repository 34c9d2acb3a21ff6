import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { asc, eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { dealEvents, dealMilestones, deals } from '../db/schema.js';
import { dossierSchema } from './dossier-schema.js';
import { dealStages, incidentSeverities, type DealStage } from '../domain/deal-lifecycle.js';
import type { Policy } from '../domain/policy.js';
import { DEFAULT_STEP_TIMEOUT_MS, type Role } from '../service.config.js';
import { dealWorkflowId, TASK_QUEUE } from '../temporal.config.js';
import {
  closeOutDealUpdate,
  dealStateQuery,
  deliverDossierUpdate,
  openIncidentUpdate,
  resolveIncidentUpdate,
  recordKickoffUpdate,
  recordQbrUpdate,
  type DealIntake,
  type DealView,
} from '../workflows/deal-definitions.js';
import { dealWorkflow } from '../workflows/deal-workflow.js';
import { dealMemo, dealStaticDetails, dealSummary } from '../workflows/ui-metadata.js';
import { archivedState, closedSchema } from './archived-state.js';
import { dealStartSearchAttributes } from '../workflows/deal-search-attributes.js';
import { requireRole, type AppEnv } from './auth.js';
import { ApiError, validationFailed } from './errors.js';
import { errorResponses, jsonBody, jsonResponse } from './openapi.js';
import { createStepRunner, stepErrorResponses, stepHeaders } from './step-runner.js';
import { currency, healthScore, idParam, identifier, instant, money, requiredText, text } from './primitives.js';

// ---- the one start path for deal workflows (the API's intake, and later the lead's "closed won") ----------

/** The policy has no `deal` section, so no deal can start under it. */
export class DealPolicyMissingError extends Error {
  constructor(readonly policyVersion: string) {
    super(`policy ${policyVersion} has no deal section; publish a version with one before taking in deals`);
    this.name = 'DealPolicyMissingError';
  }
}

export interface StartDealInput {
  deal: DealIntake;
  policy: Policy;
  /** Who brought the deal in: an API caller's actorId, or e.g. 'lead-workflow'. */
  actor: string;
  taskQueue?: string;
}

export interface StartDealResult {
  dealId: string;
  workflowId: string;
  /** false: a workflow for this dealId already existed and nothing new was started. */
  started: boolean;
  stage: DealStage;
}

/** Every deal workflow starts here: always as `deal-<dealId>`, and at most once per dealId. */
export async function startDealWorkflow(client: Client, { deal, policy, actor, taskQueue = TASK_QUEUE }: StartDealInput): Promise<StartDealResult> {
  if (!policy.deal) throw new DealPolicyMissingError(policy.version);
  const workflowId = dealWorkflowId(deal.dealId);
  try {
    await client.workflow.start(dealWorkflow, {
      workflowId,
      taskQueue,
      // A closed deal stays closed: its ID is never reused for a second handoff.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      staticSummary: dealSummary(deal),
      staticDetails: dealStaticDetails(deal, policy.version),
      memo: dealMemo(deal, policy.version),
      // Given at start they cost no action; the workflow upserts only what differs from them.
      typedSearchAttributes: dealStartSearchAttributes({ salesOwnerId: deal.salesOwnerId, csOwnerId: deal.csOwnerId, policyVersion: policy.version }),
      args: [{ deal, policy, actor }],
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    const existing = await client.withDeadline(Date.now() + DEFAULT_STEP_TIMEOUT_MS, () => client.workflow.getHandle(workflowId).query(dealStateQuery));
    return { dealId: deal.dealId, workflowId, started: false, stage: existing.stage };
  }
  // The workflow's entry stage: nothing is done yet when it starts.
  return { dealId: deal.dealId, workflowId, started: true, stage: 'AWAITING_DOSSIER' };
}

// ---- HTTP ----------------------------------------------------------------------------------------

export interface DealRoutesDependencies {
  client: Client;
  db: Database;
  currentPolicy: () => Promise<Policy>;
  /** How long a step may take before the API answers 503; see service.config.ts. */
  stepTimeoutMs?: number;
}

const dealIdParam = z.object({ dealId: idParam('dealId', 'D-2001') });

const intakeSchema = z
  .object({
    dealId: identifier,
    accountName: requiredText(200),
    amount: money,
    currency,
    signedAt: instant,
    closedWonAt: instant,
    salesOwnerId: identifier,
    leadId: identifier.optional(),
    csOwnerId: identifier.optional(),
  })
  .strict()
  .openapi('DealIntake');

const stageSchema = z.enum(dealStages);

const intakeResponse = z.object({ dealId: z.string(), workflowId: z.string(), stage: stageSchema }).openapi('DealIntakeResult');

const milestoneViewSchema = z
  .object({
    key: z.string(),
    label: z.string(),
    rule: z.string(),
    owner: z.enum(['sales', 'cs']),
    startedAt: z.string(),
    due: z.object({ at: z.string(), clock: z.string() }),
    doneAt: z.string().nullable(),
    breached: z.boolean(),
    actor: z.string().nullable(),
    businessMinutesLate: z.number().nullable(),
  })
  .passthrough();

const dealStateSchema = z
  .object({
    dealId: z.string(),
    stage: stageSchema,
    accountName: z.string(),
    salesOwnerId: z.string(),
    csOwnerId: z.string().nullable(),
    handoffState: z.enum(['on-track', 'breached']),
    policyVersion: z.string(),
    milestones: z.array(milestoneViewSchema),
    deadlines: z.array(z.object({ kind: z.string(), label: z.string(), dueAt: z.string() })),
    lastEventSeq: z.number(),
    closed: closedSchema.optional(),
  })
  .passthrough()
  .openapi('DealState');

const timelineSchema = z
  .object({
    dealId: z.string(),
    milestones: z.array(
      z.object({
        milestone: z.string(),
        kind: z.string(),
        startedAt: z.string(),
        dueAt: z.string(),
        doneAt: z.string().nullable(),
        actor: z.string().nullable(),
        breached: z.boolean(),
        businessMinutesTaken: z.number().nullable(),
        businessMinutesLate: z.number().nullable(),
      }),
    ),
    events: z.array(z.object({ seq: z.number(), type: z.string(), at: z.string(), actor: z.string(), payload: z.record(z.string(), z.unknown()) })),
  })
  .openapi('DealTimeline');

const readers: Role[] = ['sales', 'cs', 'ops', 'manager'];

const intakeRoute = createRoute({
  method: 'post',
  path: '/',
  tags: ['deals'],
  summary: 'Take in a closed-won deal and start its sales → CS handoff (idempotent on dealId)',
  middleware: [requireRole('sales', 'ops')] as const,
  request: { body: jsonBody(intakeSchema) },
  responses: {
    201: jsonResponse(intakeResponse, 'Deal workflow started'),
    200: jsonResponse(intakeResponse, 'A workflow for this dealId already exists; nothing new was started'),
    ...errorResponses(400, 401, 403, 409, 413, 503),
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/{dealId}',
  tags: ['deals'],
  summary: 'Handoff state: stage, owners, milestones due/done/breached, pending deadlines, policy version; live while open, from the archive once closed (with `closed`)',
  middleware: [requireRole(...readers)] as const,
  request: { params: dealIdParam },
  responses: { 200: jsonResponse(dealStateSchema, 'Deal state'), ...errorResponses(400, 401, 403, 404, 503) },
});

const timelineRoute = createRoute({
  method: 'get',
  path: '/{dealId}/timeline',
  tags: ['deals'],
  summary: 'Milestones (due, done, breached, business minutes) and the audit trail, from Postgres',
  middleware: [requireRole(...readers)] as const,
  request: { params: dealIdParam },
  responses: { 200: jsonResponse(timelineSchema, 'Milestones in due order and audit events in order'), ...errorResponses(400, 401, 403, 404) },
});

function stepRoute<S extends z.ZodType>(path: string, summary: string, body: S, roles: Role[]) {
  return createRoute({
    method: 'post',
    path: `/{dealId}/${path}`,
    tags: ['deal steps'],
    summary,
    middleware: [requireRole(...roles)] as const,
    request: { params: dealIdParam, headers: stepHeaders, body: jsonBody(body) },
    responses: { 200: jsonResponse(dealStateSchema, 'The deal after the step'), ...stepErrorResponses() },
  });
}

const dossierRoute = stepRoute(
  'dossier',
  'Deliver the handoff dossier to CS: goals, scope, measurable KPIs, stakeholders (an economic buyer and a champion at least), risks. Delivered once.',
  dossierSchema.openapi('Dossier'),
  ['sales'],
);
const kickoffRoute = stepRoute(
  'kickoff',
  'Record the onboarding kickoff (may come before the dossier)',
  z.object({ heldAt: instant, attendees: z.array(requiredText(200)).min(1).max(100), notes: text(5000).optional() }).strict(),
  ['cs'],
);
const qbrRoute = stepRoute(
  'qbr',
  'Record the QBR that is due; the first one completes the handoff unless the policy repeats QBRs',
  z.object({ heldAt: instant, healthScore: healthScore.optional(), notes: text(5000).optional() }).strict(),
  ['cs'],
);
const closeOutRoute = stepRoute(
  'close-out',
  'End the handoff (e.g. repeating QBRs no longer needed, contract ended); open milestones stop',
  z.object({ reason: requiredText(1000) }).strict(),
  ['cs', 'ops'],
);

const incidentRoute = stepRoute(
  'incidents',
  'Open an incident after the win; critical and significant ones start a resolution clock (policy deal.incidents: 24 h / 72 h by default) that escalates when missed. The answer lists it in `incidents` with its ID',
  z.object({ severity: z.enum(incidentSeverities), summary: requiredText(1000) }).strict(),
  ['sales', 'cs', 'ops', 'manager'],
);

const incidentParams = z.object({ dealId: idParam('dealId', 'D-2001'), incidentId: idParam('incidentId', 'INC-1') });
const resolveIncidentRoute = createRoute({
  method: 'post',
  path: '/{dealId}/incidents/{incidentId}/resolve',
  tags: ['deal steps'],
  summary: 'Resolve an open incident: its clock stops, on time or late',
  middleware: [requireRole('cs', 'ops', 'manager')] as const,
  request: { params: incidentParams, headers: stepHeaders, body: jsonBody(z.object({ resolution: text(2000).optional() }).strict()) },
  responses: { 200: jsonResponse(dealStateSchema, 'The deal after the step'), ...stepErrorResponses() },
});

export function dealRoutes({ client, db, currentPolicy, stepTimeoutMs = DEFAULT_STEP_TIMEOUT_MS }: DealRoutesDependencies) {
  const runStep = createStepRunner({ client, db, stepTimeoutMs });
  const app = new OpenAPIHono<AppEnv>({ defaultHook: (result, c) => (result.success ? undefined : validationFailed(result.error, c)) });
  const handleFor = (dealId: string) => client.workflow.getHandle(dealWorkflowId(dealId));
  const toStateBody = (state: DealView) => state as unknown as z.infer<typeof dealStateSchema>;

  app.openapi(intakeRoute, async (c) => {
    const deal = c.req.valid('json');
    try {
      const result = await startDealWorkflow(client, { deal, policy: await currentPolicy(), actor: c.get('caller').actorId });
      return c.json({ dealId: result.dealId, workflowId: result.workflowId, stage: result.stage }, result.started ? 201 : 200);
    } catch (error) {
      if (error instanceof DealPolicyMissingError) throw new ApiError(409, 'conflict', error.message);
      throw error;
    }
  });

  app.openapi(getRoute, async (c) => {
    // A query needs a worker to answer it: bounded, so a missing worker is a 503 and never a hung request.
    const { dealId } = c.req.valid('param');
    const archived = await archivedState(db, dealWorkflowId(dealId));
    if (archived) return c.json(toStateBody(archived as unknown as DealView), 200);
    const state = await client.withDeadline(Date.now() + stepTimeoutMs, () => handleFor(dealId).query(dealStateQuery));
    return c.json(toStateBody(state), 200);
  });

  app.openapi(timelineRoute, async (c) => {
    const { dealId } = c.req.valid('param');
    const [deal] = await db.select({ dealId: deals.dealId }).from(deals).where(eq(deals.dealId, dealId));
    if (!deal) throw new ApiError(404, 'not-found', `no deal ${dealId}`);
    const [milestones, events] = await Promise.all([
      db.select().from(dealMilestones).where(eq(dealMilestones.dealId, dealId)).orderBy(asc(dealMilestones.dueAt), asc(dealMilestones.milestone)),
      db
        .select({ seq: dealEvents.seq, type: dealEvents.type, at: dealEvents.at, actor: dealEvents.actor, payload: dealEvents.payload })
        .from(dealEvents)
        .where(eq(dealEvents.dealId, dealId))
        .orderBy(asc(dealEvents.seq)),
    ]);
    return c.json(
      {
        dealId,
        milestones: milestones.map((row) => ({
          milestone: row.milestone,
          kind: row.kind,
          startedAt: row.startedAt.toISOString(),
          dueAt: row.dueAt.toISOString(),
          doneAt: row.doneAt?.toISOString() ?? null,
          actor: row.actor,
          breached: row.breached,
          businessMinutesTaken: row.businessMinutesTaken,
          businessMinutesLate: row.businessMinutesLate,
        })),
        events: events.map((row) => ({ ...row, at: row.at.toISOString() })),
      },
      200,
    );
  });

  const steps = [
    [dossierRoute, deliverDossierUpdate],
    [kickoffRoute, recordKickoffUpdate],
    [qbrRoute, recordQbrUpdate],
    [closeOutRoute, closeOutDealUpdate],
    [incidentRoute, openIncidentUpdate],
  ] as const;
  for (const [route, update] of steps) {
    // Each step is a Workflow Update: its validator refuses a step the stage or the owner does not allow before it reaches history.
    app.openapi(route as typeof kickoffRoute, async (c) => {
      const { dealId } = c.req.valid('param');
      const response = await runStep(c, {
        workflowId: dealWorkflowId(dealId),
        subject: `deal ${dealId}`,
        update: update as typeof recordKickoffUpdate,
        stepName: update.name,
        body: c.req.valid('json') as { heldAt: string; attendees: string[] },
      });
      return response as never;
    });
  }

  app.openapi(resolveIncidentRoute, async (c) => {
    const { dealId, incidentId } = c.req.valid('param');
    const response = await runStep(c, {
      workflowId: dealWorkflowId(dealId),
      subject: `deal ${dealId}`,
      update: resolveIncidentUpdate,
      stepName: resolveIncidentUpdate.name,
      body: { ...c.req.valid('json'), incidentId },
    });
    return response as never;
  });

  return app;
}
