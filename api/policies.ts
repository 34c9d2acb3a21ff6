import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { requireRole, type AppEnv } from './auth.js';
import { ApiError, validationFailed, type ErrorBody } from './errors.js';
import { errorResponses, jsonBody, jsonResponse } from './openapi.js';
import { findUnstorable, MAX_JSON_DEPTH, requiredText } from './primitives.js';
import { InvalidPolicyError, PolicyVersionConflictError, type PolicyStore, type PolicySummary, type StoredPolicy } from '../db/policy-store.js';

export interface PolicyRoutesDependencies {
  store: PolicyStore;
}

const versionSchema = requiredText(200);
const versionParam = z.object({ version: versionSchema.openapi({ param: { name: 'version', in: 'path' }, example: '2026-12-06.default' }) });

/**
 * A policy document as in policies/default.json; the server validates it in full (every problem is reported
 * with its path). It is stored as jsonb as sent, so no string or key anywhere in it may be unstorable.
 */
const policyDocumentSchema = z
  .object({ version: versionSchema.openapi({ example: '2026-12-01.faster-tier1' }) })
  .passthrough()
  .superRefine((document, ctx) => {
    const problem = findUnstorable(document);
    if (problem) ctx.addIssue({ code: 'custom', path: problem.path === '(body)' ? [] : problem.path.split('.'), message: problem.message });
  })
  .openapi('PolicyDocument', {
    description:
      'A whole policy document, as in policies/default.json; `version` must be new. The server validates the whole document ' +
      '(scoring, calendars, speed-to-lead, cadence, routing, SLA, escalation, deal handoff) and answers 400 naming each problem. ' +
      `No string or key in it may contain a NUL character or an unpaired UTF-16 surrogate, and it nests at most ${MAX_JSON_DEPTH} levels.`,
  });

const policySummarySchema = z
  .object({ version: z.string(), author: z.string(), note: z.string(), createdAt: z.string() })
  .openapi('PolicySummary');

const storedPolicySchema = z
  .object({
    version: z.string(),
    author: z.string(),
    note: z.string(),
    createdAt: z.string(),
    policy: z.record(z.string(), z.unknown()),
  })
  .openapi('StoredPolicy');

const policyListSchema = z
  .object({
    /** The version new leads start under (the most recently published one); null while none is stored. */
    current: z.string().nullable(),
    policies: z.array(policySummarySchema),
  })
  .openapi('PolicyList');

const publishSchema = z
  .object({
    note: requiredText(1000, 'Why the rules change: the changelog entry').openapi({ example: 'Tier 1 speed-to-lead down to 10 minutes' }),
    policy: policyDocumentSchema,
  })
  .strict()
  .openapi('PolicyPublish');

const listRoute = createRoute({
  method: 'get',
  path: '/',
  tags: ['policies'],
  summary: 'Every published policy version, newest first: the changelog of the framework',
  middleware: [requireRole('ops', 'manager')] as const,
  responses: { 200: jsonResponse(policyListSchema, 'Policy versions, newest first'), ...errorResponses(401, 403) },
});

const getRoute = createRoute({
  method: 'get',
  path: '/{version}',
  tags: ['policies'],
  summary: 'One policy version with its document as published',
  middleware: [requireRole('ops', 'manager')] as const,
  request: { params: versionParam },
  responses: { 200: jsonResponse(storedPolicySchema, 'The policy version'), ...errorResponses(400, 401, 403, 404) },
});

const publishRoute = createRoute({
  method: 'post',
  path: '/',
  tags: ['policies'],
  summary: 'Publish a new policy version; leads started from now on run under it (running leads keep theirs)',
  middleware: [requireRole('ops')] as const,
  request: { body: jsonBody(publishSchema) },
  responses: {
    201: jsonResponse(storedPolicySchema, 'Published; new leads start under this version'),
    ...errorResponses(400, 401, 403, 413),
    409: { ...errorResponses(409)[409], description: 'This version already exists; versions are immutable, nothing changed' },
  },
});

type SummaryBody = z.infer<typeof policySummarySchema>;
type StoredBody = z.infer<typeof storedPolicySchema>;

function toSummaryBody(row: PolicySummary): SummaryBody {
  return { version: row.version, author: row.author, note: row.note, createdAt: row.createdAt.toISOString() };
}

function toStoredBody(row: StoredPolicy): StoredBody {
  return { ...toSummaryBody(row), policy: row.document as Record<string, unknown> };
}

export function policyRoutes({ store }: PolicyRoutesDependencies) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: (result, c) => (result.success ? undefined : validationFailed(result.error, c)) });

  app.openapi(listRoute, async (c) => {
    const rows = await store.list();
    return c.json({ current: rows[0]?.version ?? null, policies: rows.map(toSummaryBody) }, 200);
  });

  app.openapi(getRoute, async (c) => {
    const { version } = c.req.valid('param');
    const stored = await store.get(version);
    if (!stored) throw new ApiError(404, 'not-found', `no policy version ${version}`);
    return c.json(toStoredBody(stored), 200);
  });

  app.openapi(publishRoute, async (c) => {
    const { note, policy } = c.req.valid('json');
    try {
      const stored = await store.publish({ document: policy, author: c.get('caller').actorId, note });
      return c.json(toStoredBody(stored), 201);
    } catch (error) {
      if (error instanceof InvalidPolicyError) {
        // Paths name the field in the request body, as every other 400 does.
        const issues = error.details.map((issue) => ({ path: issue.path === '(root)' ? 'policy' : `policy.${issue.path}`, message: issue.message }));
        const body: ErrorBody = {
          error: 'invalid-request',
          message: issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '),
          issues,
        };
        return c.json(body, 400);
      }
      if (error instanceof PolicyVersionConflictError) throw new ApiError(409, 'conflict', error.message);
      throw error;
    }
  });

  return app;
}
