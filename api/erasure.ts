import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Client } from '@temporalio/client';
import type { Database } from '../db/client.js';
import { eraseLead, NothingToErase } from '../privacy/erasure.js';
import type { RecordKeys } from '../privacy/record-keys.js';
import { requireRole, type AppEnv } from './auth.js';
import { ApiError, validationFailed } from './errors.js';
import { errorResponses, jsonBody, jsonResponse } from './openapi.js';
import { idParam, requiredText } from './primitives.js';

export interface ErasureRoutesDependencies {
  client: Client;
  db: Database;
  /** This process's record-key cache, emptied of an erased record at once. */
  recordKeys?: RecordKeys;
  now?: () => Date;
}

const erasureSchema = z
  .object({
    leadId: z.string(),
    erasedAt: z.string(),
    erasedBy: z.string(),
    reason: z.string(),
    workflow: z.enum(['terminated', 'was-closed', 'none']).openapi({ description: 'What became of the workflow: terminated by this erasure, already closed, or never started' }),
    alreadyErased: z.boolean().openapi({ description: 'true when this answers a repeated request with the first erasure' }),
  })
  .openapi('Erasure');

const eraseRoute = createRoute({
  method: 'post',
  path: '/{leadId}/erase',
  tags: ['privacy'],
  summary: "Erase a lead's personal data (GDPR art. 17); ops only",
  description:
    "Terminates the lead's workflow if it runs, anonymises every row about the lead in place (e-mail, company, notes and free-text reasons; " +
    "times, stages and enumerated reasons stay, so reports add up as before), destroys the lead's data key so nothing Temporal holds of it can be " +
    'decoded again, and records who erased it, when and why. Repeating it answers with the first erasure. Write no personal data in `reason`.',
  middleware: [requireRole('ops')] as const,
  request: {
    params: z.object({ leadId: idParam('leadId', 'L-1001') }),
    body: jsonBody(z.object({ reason: requiredText(500, 'Why (a request reference, "retention"); kept with the erasure, so it must not name the person') }).strict()),
  },
  responses: {
    200: jsonResponse(erasureSchema, 'The erasure'),
    ...errorResponses(400, 401, 403, 404, 413, 503),
  },
});

export function erasureRoutes(deps: ErasureRoutesDependencies) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: (result, c) => (result.success ? undefined : validationFailed(result.error, c)) });
  app.openapi(eraseRoute, async (c) => {
    const { leadId } = c.req.valid('param');
    const { reason } = c.req.valid('json');
    try {
      const { erasure, first } = await eraseLead(deps, leadId, { actor: c.get('caller').actorId, reason, at: (deps.now ?? (() => new Date()))() });
      return c.json(
        {
          leadId: erasure.subjectId,
          erasedAt: erasure.erasedAt,
          erasedBy: erasure.erasedBy,
          reason: erasure.reason,
          workflow: erasure.workflow as 'terminated' | 'was-closed' | 'none',
          alreadyErased: !first,
        },
        200,
      );
    } catch (error) {
      if (error instanceof NothingToErase) throw new ApiError(404, 'not-found', error.message);
      throw error;
    }
  });
  return app;
}
