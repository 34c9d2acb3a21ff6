import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { asc, eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { leadEvents, leads } from '../db/schema.js';
import { contactOutcomes, leadStages, rejectionReasons } from '../domain/lead-lifecycle.js';
import { contactChannels, type Policy } from '../domain/policy.js';
import { scoreBand } from '../domain/scoring.js';
import { scoringFor } from '../domain/lead-rules.js';
import { nextStepTypes } from '../domain/opportunity-hygiene.js';
import { slaStateNow } from '../domain/lead-clocks.js';
import { leadWorkflowId, TASK_QUEUE } from '../temporal.config.js';
import {
  acceptLeadUpdate,
  closeLeadUpdate,
  leadStateQuery,
  pauseLeadUpdate,
  reassignLeadUpdate,
  recordEngagementUpdate,
  resumeLeadUpdate,
  logContactAttemptUpdate,
  migrateLeadPolicyUpdate,
  qualifyLeadUpdate,
  rejectLeadUpdate,
  setNextStepUpdate,
  updateOpportunityUpdate,
  type LeadView,
} from '../workflows/lead-definitions.js';
import { leadWorkflow } from '../workflows/lead-workflow.js';
import { leadMemo, leadStaticDetails, leadSummary } from '../workflows/ui-metadata.js';
import { archivedState, closedSchema } from './archived-state.js';
import { leadStartSearchAttributes } from '../workflows/lead-search-attributes.js';
import { DEFAULT_STEP_TIMEOUT_MS, type Role } from '../service.config.js';
import { requireRole, type AppEnv } from './auth.js';
import { ApiError, validationFailed } from './errors.js';
import { errorResponses, jsonBody, jsonResponse } from './openapi.js';
import { createStepRunner, stepErrorResponses, stepHeaders } from './step-runner.js';
import type { PolicyStore } from '../db/policy-store.js';
import { erasureOf } from '../privacy/erasure.js';
import { RecordErased } from '../privacy/record-keys.js';
import { countryCode, currency, idParam, identifier, instant, money, requiredText, scoreComponent, scoreDelta, text } from './primitives.js';

export interface LeadRoutesDependencies {
  client: Client;
  db: Database;
  currentPolicy: () => Promise<Policy>;
  policyStore: Pick<PolicyStore, 'resolve'>;
  /** How long a step may take before the API answers 503; see service.config.ts. */
  stepTimeoutMs?: number;
}

const leadIdParam = z.object({ leadId: idParam('leadId', 'L-1001') });

const intakeSchema = z
  .object({
    leadId: identifier,
    // Checked, not refused (seed 000's data quality): an address that is not valid, or no company, flags the lead.
    email: text(254, { description: 'The contact\'s e-mail; a lead without a valid one is taken in and flagged `email-invalid`.' }).default(''),
    company: text(200, { description: 'A lead without one is taken in and flagged `company-missing`.' }).default(''),
    icpTier: z.union([z.literal(1), z.literal(2), z.literal(3)]),
    segment: requiredText(50).optional(),
    country: countryCode.optional(),
    region: requiredText(100).optional(),
    product: requiredText(100).optional(),
    skills: z.array(requiredText(100)).min(1).max(20).optional(),
    source: requiredText(100).optional(),
    score: z.object({ fit: scoreComponent, behavior: scoreComponent, intent: scoreComponent, negative: scoreComponent.default(0) }),
  })
  .openapi('LeadIntake');

const stageSchema = z.enum(leadStages);

const leadStateSchema = z
  .object({
    leadId: z.string(),
    stage: stageSchema,
    ownerId: z.string().nullable(),
    policyVersion: z.string(),
    score: z.object({ fit: z.number(), behavior: z.number(), intent: z.number(), negative: z.number(), total: z.number(), band: z.string() }),
    deadlines: z.array(z.object({ kind: z.string(), label: z.string(), dueAt: z.string() })),
    attempts: z.array(z.object({ number: z.number(), channel: z.string(), outcome: z.string(), at: z.string(), actor: z.string() })),
    nurtureReason: z.string().nullable(),
    slaState: z
      .enum(['on-track', 'due-soon', 'breached', 'none'])
      .optional()
      .openapi({ description: 'The speed-to-lead clock as of this answer (`due-soon` from `dueSoonAt` once its mark has passed); `none` when no clock runs' }),
    dueSoonAt: z.string().nullable().optional().openapi({ description: 'When the running response deadline turns due soon; null when none runs' }),
    enteredStageAt: z.string(),
    lastEventSeq: z.number(),
    closed: closedSchema.optional(),
  })
  .passthrough()
  .openapi('LeadState');

const intakeResponse = z.object({ leadId: z.string(), workflowId: z.string(), stage: stageSchema }).openapi('LeadIntakeResult');

const timelineSchema = z
  .object({
    leadId: z.string(),
    events: z.array(
      z.object({ seq: z.number(), type: z.string(), at: z.string(), actor: z.string(), payload: z.record(z.string(), z.unknown()) }),
    ),
  })
  .openapi('LeadTimeline');

const intakeRoute = createRoute({
  method: 'post',
  path: '/',
  tags: ['leads'],
  summary: 'Bring a lead in (idempotent on leadId)',
  middleware: [requireRole('sales', 'ops')] as const,
  request: { body: jsonBody(intakeSchema) },
  responses: {
    201: jsonResponse(intakeResponse, 'Lead workflow started'),
    200: jsonResponse(intakeResponse, 'A workflow for this leadId already exists; nothing new was started'),
    ...errorResponses(400, 401, 403, 410, 413, 503),
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/{leadId}',
  tags: ['leads'],
  summary: 'State of the lead: live from its workflow while open; once closed, its final state from the archive (with `closed`)',
  middleware: [requireRole('sales', 'ops', 'manager')] as const,
  request: { params: leadIdParam },
  responses: { 200: jsonResponse(leadStateSchema, 'Lead state'), ...errorResponses(400, 401, 403, 404, 410, 503) },
});

const timelineRoute = createRoute({
  method: 'get',
  path: '/{leadId}/timeline',
  tags: ['leads'],
  summary: 'Audit trail of the lead, from Postgres',
  middleware: [requireRole('sales', 'ops', 'manager')] as const,
  request: { params: leadIdParam },
  responses: { 200: jsonResponse(timelineSchema, 'Audit events in order'), ...errorResponses(400, 401, 403, 404) },
});

function stepRoute<S extends z.ZodType>(path: string, summary: string, body: S, roles: Role[] = ['sales']) {
  return createRoute({
    method: 'post',
    path: `/{leadId}/${path}`,
    tags: ['lead steps'],
    summary,
    middleware: [requireRole(...roles)] as const,
    request: { params: leadIdParam, headers: stepHeaders, body: jsonBody(body) },
    responses: { 200: jsonResponse(leadStateSchema, 'The lead after the step'), ...stepErrorResponses() },
  });
}

const mustConfirm = (field: string) =>
  z.literal(true, { error: `${field} must be confirmed (true) to qualify a lead` });

const acceptRoute = stepRoute('accept', 'Accept an MQL (→ SAL)', z.object({}).strict());
const attemptRoute = stepRoute(
  'contact-attempts',
  'Log a contact attempt',
  z.object({ channel: z.enum(contactChannels), outcome: z.enum(contactOutcomes), notes: text(2000).optional() }).strict(),
);
const qualifyRoute = stepRoute(
  'qualify',
  'Qualify a SAL: need, budget and timing confirmed (→ SQL)',
  z.object({ need: mustConfirm('need'), budget: mustConfirm('budget'), timing: mustConfirm('timing'), notes: text(2000).optional() }).strict(),
);
const engagementRoute = stepRoute(
  'engagement',
  'Record engagement that changes the score; crossing a threshold moves the stage',
  z
    .object({ behavior: scoreDelta.optional(), intent: scoreDelta.optional(), negative: scoreDelta.optional(), signal: requiredText(100).optional() })
    .strict()
    .refine((body) => Object.keys(body).length > 0, 'give at least one of behavior, intent, negative, signal')
    .openapi({ minProperties: 1, description: 'At least one of behavior, intent, negative, signal' }),
  ['sales', 'ops'],
);
const pauseRoute = stepRoute(
  'pause',
  'Pause the SLA clock and the cadence (rep away, prospect asked for later); paused time does not count',
  z.object({ until: instant.optional(), reason: requiredText(500) }).strict(),
);
const resumeRoute = stepRoute('resume', 'Resume a paused lead; pending due times move by the time paused', z.object({}).strict());
const reassignRoute = stepRoute(
  'reassign',
  'Move the lead to another rep (a named one, or the next in its queue; `toQueueId` routes it in another team queue, whose calendar and SLA then drive its deadlines) with a fresh deadline',
  z.object({ toRepId: identifier.optional(), toQueueId: identifier.optional(), reason: requiredText(500) }).strict(),
  ['manager', 'ops'],
);
const nextStepRoute = stepRoute(
  'next-step',
  'Set the SQL opportunity\'s next step (a date ahead and an activity type): no opportunity without one, and the weekly hygiene check reminds the owner when it is missing or overdue',
  z.object({ dueAt: instant, type: z.enum(nextStepTypes) }).strict(),
  ['sales', 'manager', 'ops'],
);
const opportunityRoute = stepRoute(
  'opportunity',
  'Report the SQL opportunity\'s stage and value; the weekly hygiene check reminds the owner when they are 7 days old',
  z.object({ stage: requiredText(100), amount: money }).strict(),
  ['sales', 'manager', 'ops'],
);
const closeRoute = stepRoute(
  'close',
  'Close an SQL as won or lost; this ends the lead workflow',
  z
    .object({
      outcome: z.enum(['won', 'lost']),
      reason: text(500).optional(),
      deal: z
        .object({
          dealId: identifier,
          amount: money,
          currency,
          signedAt: instant,
          closedWonAt: instant.optional(),
          accountName: requiredText(200).optional(),
          csOwnerId: identifier.optional(),
        })
        .strict()
        .optional(),
    })
    .strict()
    .refine((body) => !body.deal || body.outcome === 'won', { path: ['deal'], message: 'only a won lead becomes a deal' })
    // The refine above, stated for readers of the document: a body with `deal` has outcome "won".
    .openapi({ anyOf: [{ not: { required: ['deal'] } }, { properties: { outcome: { const: 'won' } } }], description: 'Only a won lead becomes a deal: `deal` requires outcome "won"' }),
);

const rejectRoute = stepRoute(
  'reject',
  'Return the lead to nurture with a mandatory reason',
  z.object({ reason: z.enum(rejectionReasons), notes: text(2000).optional() }).strict(),
);

const migratePolicyRoute = stepRoute(
  'policy',
  'Move a running lead to another stored policy version; deadlines already set keep their due times',
  z.object({ version: requiredText(200), note: requiredText(1000).optional() }).strict(),
  ['ops'],
);

export function leadRoutes({ client, db, currentPolicy, policyStore, stepTimeoutMs = DEFAULT_STEP_TIMEOUT_MS }: LeadRoutesDependencies) {
  const runStep = createStepRunner({ client, db, stepTimeoutMs });
  const app = new OpenAPIHono<AppEnv>({ defaultHook: (result, c) => (result.success ? undefined : validationFailed(result.error, c)) });
  const handleFor = (leadId: string) => client.workflow.getHandle(leadWorkflowId(leadId));
  // A query needs a worker to answer it: bounded, so a missing worker is a 503 and never a hung request.
  const queryLead = (leadId: string) => client.withDeadline(Date.now() + stepTimeoutMs, () => handleFor(leadId).query(leadStateQuery));
  // The state is as of the lead's last workflow task; a due-soon mark passed since shows from its dueSoonAt.
  const toStateBody = (state: LeadView) => ({ ...state, slaState: slaStateNow(state, new Date()) }) as unknown as z.infer<typeof leadStateSchema>;

  app.openapi(intakeRoute, async (c) => {
    const { score, ...profile } = c.req.valid('json');
    const workflowId = leadWorkflowId(profile.leadId);
    const policy = await currentPolicy();
    // The workflow derives its entry stage with this same function and policy.
    const stage = scoreBand(scoringFor(policy, profile.segment), score) === 'cold' ? 'LEAD' : 'MQL';
    try {
      await client.workflow.start(leadWorkflow, {
        workflowId,
        taskQueue: TASK_QUEUE,
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        staticSummary: leadSummary(profile),
        staticDetails: leadStaticDetails(profile, policy.version),
        memo: leadMemo(profile, policy.version),
        // Given at start they cost no action; the workflow upserts only what differs from them.
        typedSearchAttributes: leadStartSearchAttributes({ icpTier: profile.icpTier, stage, policyVersion: policy.version }),
        args: [{ profile, score, policy, actor: c.get('caller').actorId }],
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      const existing = await queryLead(profile.leadId);
      return c.json({ leadId: existing.leadId, workflowId, stage: existing.stage }, 200);
    }
    return c.json({ leadId: profile.leadId, workflowId, stage } as const, 201);
  });

  app.openapi(getRoute, async (c) => {
    const { leadId } = c.req.valid('param');
    // An erased lead's history can no longer be decoded, so no worker could answer for it.
    if (await erasureOf(db, leadWorkflowId(leadId))) throw new RecordErased(leadWorkflowId(leadId));
    const archived = await archivedState(db, leadWorkflowId(leadId));
    if (archived) return c.json(toStateBody(archived as unknown as LeadView), 200);
    const state = await queryLead(leadId);
    return c.json(toStateBody(state), 200);
  });

  app.openapi(timelineRoute, async (c) => {
    const { leadId } = c.req.valid('param');
    const [lead] = await db.select({ leadId: leads.leadId }).from(leads).where(eq(leads.leadId, leadId));
    if (!lead) throw new ApiError(404, 'not-found', `no lead ${leadId}`);
    const rows = await db
      .select({ seq: leadEvents.seq, type: leadEvents.type, at: leadEvents.at, actor: leadEvents.actor, payload: leadEvents.payload })
      .from(leadEvents)
      .where(eq(leadEvents.leadId, leadId))
      .orderBy(asc(leadEvents.seq));
    return c.json({ leadId, events: rows.map((row) => ({ ...row, at: row.at.toISOString() })) }, 200);
  });

  const steps = [
    [acceptRoute, acceptLeadUpdate],
    [attemptRoute, logContactAttemptUpdate],
    [qualifyRoute, qualifyLeadUpdate],
    [rejectRoute, rejectLeadUpdate],
    [engagementRoute, recordEngagementUpdate],
    [pauseRoute, pauseLeadUpdate],
    [resumeRoute, resumeLeadUpdate],
    [reassignRoute, reassignLeadUpdate],
    [closeRoute, closeLeadUpdate],
    [nextStepRoute, setNextStepUpdate],
    [opportunityRoute, updateOpportunityUpdate],
  ] as const;
  for (const [route, update] of steps) {
    // Each step is a Workflow Update: its validator refuses a step the stage or the owner does not allow before it reaches history.
    app.openapi(route as typeof acceptRoute, async (c) => {
      const { leadId } = c.req.valid('param');
      const response = await runStep(c, { workflowId: leadWorkflowId(leadId), subject: `lead ${leadId}`, update: update as typeof acceptLeadUpdate, stepName: update.name, body: c.req.valid('json') as object });
      return response as never;
    });
  }

  app.openapi(migratePolicyRoute, async (c) => {
    const { version, note } = c.req.valid('json');
    const policy = await policyStore.resolve(version);
    if (!policy) throw new ApiError(404, 'not-found', `no policy version ${version}`);
    const { leadId } = c.req.valid('param');
    const response = await runStep(c, { workflowId: leadWorkflowId(leadId), subject: `lead ${leadId}`, update: migrateLeadPolicyUpdate, stepName: migrateLeadPolicyUpdate.name, body: { policy, note } });
    return response as never;
  });

  return app;
}
