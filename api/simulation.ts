import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Database } from '../db/client.js';
import { loadRecordedWindow } from '../db/simulation-records.js';
import type { Policy } from '../domain/policy.js';
import { simulatePolicy, type SimulationResult } from '../domain/simulation/simulate.js';
import { versionsOf } from '../domain/simulation/records.js';
import { requireRole, type AppEnv } from './auth.js';
import { ApiError, validationFailed, type ErrorBody } from './errors.js';
import { errorResponses, jsonBody, jsonResponse } from './openapi.js';
import { instant, requiredText } from './primitives.js';
import { InvalidPolicyError, validatePolicyDocument, type PolicyStore } from '../db/policy-store.js';

/**
 * POST /policies/simulate: policy backtesting. The leads received and the deals won in a window are replayed
 * in pure code (no workflow starts) against a candidate policy, and compared with what the audit recorded under
 * the policies they actually ran under. Bounded so one request cannot run away: a window of at most
 * MAX_WINDOW_DAYS, at most MAX_RECORDS leads and MAX_RECORDS deals (the earliest; `truncated` says so).
 */

export const MAX_WINDOW_DAYS = 366;
export const MAX_RECORDS = 20_000;
export const MAX_SAMPLE = 200;
const DAY_MS = 86_400_000;

/** What a simulation cannot know, stated with every answer. */
export const SIMULATION_LIMITS = [
  'People keep the step times the audit recorded: a tighter deadline is not assumed to make reps work faster, nor a looser one slower.',
  'Where the candidate routes a lead to another queue, the rep a rotation would pick there is unknown (counted as repUnknown per queue).',
  'Recorded steps the candidate lifecycle would no longer allow (e.g. an acceptance after an earlier return to marketing) are dropped and listed.',
  'A manual reassignment keeps its recorded rep; its queue is the one the audit names, else the routing rules’ choice.',
  'Opportunity hygiene, notifications and QBRs beyond those recorded are not simulated.',
];

export class SimulationRequestError extends Error {
  constructor(
    readonly status: 400 | 404,
    message: string,
    readonly issues?: Array<{ path: string; message: string }>,
  ) {
    super(message);
  }
}

export interface SimulationRequest {
  /** A whole policy document (validated like POST /policies), or */
  policy?: unknown;
  /** a published version. */
  version?: string;
  from: Date;
  to: Date;
  sample?: number;
  /** The instant timers count up to; now unless a test pins it. */
  asOf?: Date;
  onProgress?: (done: number, total: number, phase: string) => void;
}

export interface SimulationAnswer extends SimulationResult {
  window: { from: string; to: string };
  truncated: { leads: boolean; deals: boolean; limit: number };
  limits: string[];
}

/** The candidate as a resolved policy: a pasted document validated as publishing would, or a stored version. */
async function candidateOf(store: Pick<PolicyStore, 'resolve'>, request: SimulationRequest, now: Date): Promise<Policy> {
  if (request.policy !== undefined) {
    try {
      return validatePolicyDocument(request.policy, now);
    } catch (error) {
      if (error instanceof InvalidPolicyError) {
        const issues = error.details.map((issue) => ({ path: issue.path === '(root)' ? 'policy' : `policy.${issue.path}`, message: issue.message }));
        throw new SimulationRequestError(400, issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), issues);
      }
      throw error;
    }
  }
  const policy = await store.resolve(request.version!);
  if (!policy) throw new SimulationRequestError(404, `no policy version ${request.version}; publish it first or paste the document as \`policy\``);
  return policy;
}

/** Loads the window's records and the versions they ran under, and simulates; shared by the API, the CLI and the bench. */
export async function runSimulation(db: Database, store: Pick<PolicyStore, 'resolve'>, request: SimulationRequest): Promise<SimulationAnswer> {
  if (request.policy === undefined && request.version === undefined) throw new SimulationRequestError(400, 'give the candidate as `policy` (a document) or `version` (a published one)');
  if (request.policy !== undefined && request.version !== undefined) throw new SimulationRequestError(400, 'give either `policy` or `version`, not both');
  if (request.from >= request.to) throw new SimulationRequestError(400, `from (${request.from.toISOString()}) must be before to (${request.to.toISOString()}): the window is [from, to)`);
  if (request.to.getTime() - request.from.getTime() > MAX_WINDOW_DAYS * DAY_MS) throw new SimulationRequestError(400, `the window is longer than ${MAX_WINDOW_DAYS} days; simulate a year or less at a time`);
  const sample = request.sample ?? 20;
  if (!Number.isInteger(sample) || sample < 0 || sample > MAX_SAMPLE) throw new SimulationRequestError(400, `sample must be a whole number from 0 to ${MAX_SAMPLE}`);
  const asOf = request.asOf ?? new Date();
  const candidate = await candidateOf(store, request, asOf);

  request.onProgress?.(0, 0, 'loading the recorded window');
  const window = await loadRecordedWindow(db, { from: request.from, to: request.to }, MAX_RECORDS);
  const versions = new Set<string>([...window.leads.flatMap(versionsOf), ...window.deals.map((deal) => deal.policyVersion)]);
  const resolved = new Map<string, Policy>();
  for (const version of versions) {
    const policy = await store.resolve(version);
    if (policy) resolved.set(version, policy);
  }
  request.onProgress?.(0, window.leads.length + window.deals.length, 'replaying');
  const result = simulatePolicy({
    leads: window.leads,
    deals: window.deals,
    candidate,
    policyOf: (version) => resolved.get(version),
    asOf: asOf.toISOString(),
    sample,
    onProgress: request.onProgress && ((done, total) => request.onProgress!(done, total, 'replaying')),
  });
  return {
    ...result,
    window: { from: request.from.toISOString(), to: request.to.toISOString() },
    truncated: { ...window.truncated, limit: MAX_RECORDS },
    limits: SIMULATION_LIMITS,
  };
}

// ---- the route -----------------------------------------------------------------------------------------------

const simulateBodySchema = z
  .object({
    policy: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: 'A whole candidate policy document (as for POST /policies), validated the same way; or give `version`' }),
    version: requiredText(200).optional().openapi({ description: 'A published policy version to simulate; or give `policy`', example: '2026-12-06.default' }),
    from: instant.openapi({ description: 'Leads received and deals won from this instant (inclusive)', example: '2026-09-01T00:00:00Z' }),
    to: instant.openapi({ description: `Up to this instant (exclusive); at most ${MAX_WINDOW_DAYS} days after from`, example: '2026-12-01T00:00:00Z' }),
    sample: z
      .number()
      .int()
      .min(0)
      .max(MAX_SAMPLE)
      .optional()
      .openapi({ description: `How many of the records whose outcome would change to list, with why (default 20, at most ${MAX_SAMPLE})` }),
  })
  .strict()
  .openapi('PolicySimulationRequest');

const sideSchema = z
  .object({
    leads: z.number(),
    deals: z.number(),
    mqlByBand: z.object({ cold: z.number(), mql: z.number(), hot: z.number() }),
    deadlinesByTier: z.array(z.object({ tier: z.number(), metOnTime: z.number(), metLate: z.number(), breachedUnmet: z.number(), endedBeforeDue: z.number(), open: z.number() })),
    escalationsByLevel: z.array(z.object({ level: z.number(), count: z.number() })),
    nurtureByReason: z.array(z.object({ reason: z.string(), count: z.number() })),
    loadByQueue: z.array(z.object({ queueId: z.string(), leads: z.number(), repUnknown: z.number() })),
    loadByRep: z.array(z.object({ repId: z.string(), leads: z.number() })),
    dealMilestones: z.array(z.object({ kind: z.string(), milestones: z.number(), breached: z.number() })),
  })
  .openapi('PolicySimulationSide');

const changedSchema = z.object({ kind: z.enum(['lead', 'deal']), id: z.string(), why: z.array(z.string()) });

const answerSchema = z
  .object({
    candidateVersion: z.string(),
    asOf: z.string(),
    window: z.object({ from: z.string(), to: z.string() }),
    recorded: sideSchema.openapi({ description: 'What the audit recorded, under the policies the records ran under' }),
    simulated: sideSchema.openapi({ description: 'The same records replayed against the candidate' }),
    changes: z.object({ count: z.number(), first: z.array(changedSchema) }),
    refusedSteps: z.number(),
    reproduction: z
      .object({ records: z.number(), mismatches: z.number(), first: z.array(changedSchema) })
      .nullable()
      .openapi({ description: 'The records replayed under the policies they ran under, compared with the audit: mismatches should be 0' }),
    skipped: z
      .object({ leads: z.number(), deals: z.number(), unknownVersions: z.array(z.string()), failures: z.array(z.string()) })
      .openapi({ description: 'Records left out: their version is not stored, or their audit could not be replayed (the first 20 failures, with why)' }),
    truncated: z.object({ leads: z.boolean(), deals: z.boolean(), limit: z.number() }),
    limits: z.array(z.string()),
  })
  .openapi('PolicySimulation');

const simulateRoute = createRoute({
  method: 'post',
  path: '/simulate',
  tags: ['policies'],
  summary: 'Backtest a policy: replay the recorded leads and deals of a window against it, side by side with what happened',
  description:
    `Pure replay, no workflow starts. The window [from, to) is at most ${MAX_WINDOW_DAYS} days; at most ${MAX_RECORDS} leads and ${MAX_RECORDS} deals ` +
    '(the earliest) are simulated, and `truncated` says when there were more. Recorded step times are kept: see `limits`.',
  middleware: [requireRole('ops', 'manager')] as const,
  request: { body: jsonBody(simulateBodySchema) },
  responses: { 200: jsonResponse(answerSchema, 'The comparison'), ...errorResponses(400, 401, 403, 404, 413) },
});

export function simulationRoutes({ db, store }: { db: Database; store: Pick<PolicyStore, 'resolve'> }) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: (result, c) => (result.success ? undefined : validationFailed(result.error, c)) });
  app.openapi(simulateRoute, async (c) => {
    const body = c.req.valid('json');
    try {
      const answer = await runSimulation(db, store, { policy: body.policy, version: body.version, from: new Date(body.from), to: new Date(body.to), sample: body.sample });
      return c.json(answer, 200);
    } catch (error) {
      if (error instanceof SimulationRequestError) {
        if (error.status === 404) throw new ApiError(404, 'not-found', error.message);
        const body: ErrorBody = { error: 'invalid-request', message: error.message, ...(error.issues ? { issues: error.issues } : {}) };
        return c.json(body, 400);
      }
      throw error;
    }
  });
  return app;
}
