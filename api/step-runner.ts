import { createHash, randomUUID } from 'node:crypto';
import { z } from '@hono/zod-openapi';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError, type Client } from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import { eq } from 'drizzle-orm';
import type { Context } from 'hono';
import type { Database } from '../db/client.js';
import { workflowArchives } from '../db/schema.js';
import { IDEMPOTENCY_KEY_REUSED, STEP_FORBIDDEN, STEP_NOT_RECORDED, STEP_REFUSED } from '../domain/failures.js';
import type { ApiKey } from '../service.config.js';
import type { AppliedRequest, StepAnswer, StepRequest } from '../workflows/step-engine.js';
import { ApiError } from './errors.js';
import { errorSchema } from './openapi.js';

/**
 * The one path every step takes from HTTP into its workflow (lead and deal alike): the caller's actor and role
 * and the client's Idempotency-Key travel with the step, the key becomes the Temporal update ID, and every way
 * a step can end becomes one HTTP answer.
 *
 * Without an Idempotency-Key each request is a new step: a client that retries after a timeout may apply it
 * twice. With one, a retry (same caller, same key, same body) answers with the first step's result and
 * applies nothing again, whether the first attempt is still running, finished, or the record has closed.
 */

/** Visible ASCII, as the IETF Idempotency-Key draft's examples use; an sf-string's quotes are accepted and dropped. */
const KEY_PATTERN = /^[\x21-\x7E]{1,200}$/;
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

/** The request headers every step route declares in the OpenAPI document. */
export const stepHeaders = z.object({
  'idempotency-key': z
    .string()
    .regex(KEY_PATTERN)
    .optional()
    .openapi({
      param: { name: 'idempotency-key', in: 'header' },
      description:
        'Makes the step safe to retry: the same caller sending the same key and body again gets the first answer and the step applies once. ' +
        'Without it every request is a new step. The answer echoes the key used (a generated one when none was sent).',
      example: '5f1c2f5e-9a3e-4c1b-8d7e-1e2f3a4b5c6d',
    }),
});

const stepErrorDescriptions = {
  400: 'Malformed input; `issues` names each field',
  401: 'Missing or unknown bearer token',
  403: "The token's role may not take this step, or the record is not the caller's (a sales rep acts on the leads and deals they own, CS on the deals they onboard); nothing changed",
  404: 'No such record',
  409: 'The step is not valid in the record\'s current stage, or the record is closed; nothing changed',
  410: 'The record was erased on request; no step applies to it',
  422: 'The Idempotency-Key was already used for a different request, or the step could not be recorded and was not applied',
  503: 'The step was not confirmed in time (Temporal or a worker is unavailable); it may still apply. Retry after Retry-After seconds with the same Idempotency-Key',
} as const;

/** The error answers of every step route. */
export function stepErrorResponses() {
  return Object.fromEntries(
    Object.entries(stepErrorDescriptions).map(([status, description]) => [status, { description, content: { 'application/json': { schema: errorSchema } } }]),
  ) as unknown as Record<keyof typeof stepErrorDescriptions, { description: string; content: { 'application/json': { schema: typeof errorSchema } } }>;
}

export interface StepRunnerOptions {
  client: Client;
  db: Database;
  /** How long a step may take before the API answers 503 (the step may still apply; retry with the same key). */
  stepTimeoutMs: number;
}

export interface StepCall<Args extends StepRequest, View> {
  workflowId: string;
  /** How the record is named in answers: "lead L-1", "deal D-7". */
  subject: string;
  update: UpdateDefinition<StepAnswer<View>, [Args]>;
  /** Names the step in the request's fingerprint, so one key cannot be reused for another step. */
  stepName: string;
  body: Omit<Args, keyof StepRequest>;
}

export function createStepRunner({ client, db, stepTimeoutMs }: StepRunnerOptions) {
  return async function runStep<Args extends StepRequest, View>(c: Context, call: StepCall<Args, View>): Promise<Response> {
    const caller = c.get('caller') as ApiKey;
    const clientKey = idempotencyKeyOf(c.req.header(IDEMPOTENCY_KEY_HEADER));
    // Scoped by caller: two clients that happen to pick the same key never see each other's answers.
    const requestKey = `${caller.actorId}:${clientKey ?? randomUUID()}`;
    const fingerprint = fingerprintOf(call.stepName, call.body);
    const args = { ...call.body, actor: caller.actorId, role: caller.role, requestKey, fingerprint } as Args;
    c.header(IDEMPOTENCY_KEY_HEADER, requestKey.slice(caller.actorId.length + 1));

    const deadline = Date.now() + stepTimeoutMs;
    const send = () =>
      client.withDeadline(deadline, () => client.workflow.getHandle(call.workflowId).executeUpdate(call.update, { args: [args], updateId: requestKey }));
    let answer: StepAnswer<View>;
    try {
      answer = await send().catch(async (error: unknown) => {
        // The run it reached ended as the step arrived (a return to nurture continues as new): the next run takes it.
        if (error instanceof WorkflowNotFoundError && (await statusOf(call.workflowId)) === 'RUNNING') return send();
        throw error;
      });
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return closedOrUnknown(c, call, requestKey, fingerprint);
      throw stepError(error, call.subject);
    }
    // Temporal answers a known update ID with the first outcome whatever this request carried.
    if (answer.request && answer.request.fingerprint !== fingerprint) throw keyReused(clientKey);
    return c.json(answer as object, 200);
  };

  /** The workflow is gone or finished: the archive tells a retried closing step from a step on a closed record. */
  async function closedOrUnknown(c: Context, call: StepCall<StepRequest, unknown>, requestKey: string, fingerprint: string): Promise<Response> {
    const [archive] = await db
      .select({ outcome: workflowArchives.outcome, finalState: workflowArchives.finalState })
      .from(workflowArchives)
      .where(eq(workflowArchives.workflowId, call.workflowId));
    if (!archive) {
      const status = await statusOf(call.workflowId);
      if (status && status !== 'RUNNING') throw new ApiError(409, 'closed', `${call.subject} is closed (workflow ${status.toLowerCase()})`);
      throw new ApiError(404, 'not-found', `no ${call.subject}`);
    }
    const remembered = ((archive.finalState.recentRequests ?? []) as AppliedRequest[]).find((entry) => entry.key === requestKey);
    if (remembered) {
      if (remembered.fingerprint !== fingerprint) throw keyReused(requestKey);
      const { recentRequests: _ledger, ...finalState } = archive.finalState;
      return c.json({ ...finalState, deadlines: [], request: remembered }, 200);
    }
    throw new ApiError(409, 'closed', `${call.subject} is closed (stage ${archive.outcome}); no step applies to it any more`);
  }

  /** The status of the workflow's latest run, or null when Temporal knows no such workflow. */
  function statusOf(workflowId: string): Promise<string | null> {
    return client.workflow
      .getHandle(workflowId)
      .describe()
      .then((description) => description.status.name)
      .catch(() => null);
  }
}

export type StepRunner = ReturnType<typeof createStepRunner>;

function idempotencyKeyOf(header: string | undefined): string | null {
  if (header === undefined) return null;
  const key = header.trim().replace(/^"(.*)"$/, '$1');
  if (!KEY_PATTERN.test(key)) throw new ApiError(400, 'invalid-request', `${IDEMPOTENCY_KEY_HEADER} must be 1 to 200 visible ASCII characters`);
  return key;
}

function fingerprintOf(stepName: string, body: unknown): string {
  return createHash('sha256').update(JSON.stringify([stepName, body])).digest('base64url');
}

function keyReused(key: string | null): ApiError {
  return new ApiError(422, 'idempotency-key-reused', `${IDEMPOTENCY_KEY_HEADER} ${key} was already used for a different request; send a new key for a new step`);
}

/** How a step that reached its workflow and did not apply is answered. */
function stepError(error: unknown, subject: string): unknown {
  if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
    const { type, message } = error.cause;
    if (type === STEP_REFUSED) return new ApiError(409, 'conflict', message);
    if (type === STEP_FORBIDDEN) return new ApiError(403, 'forbidden', message);
    if (type === IDEMPOTENCY_KEY_REUSED) return new ApiError(422, 'idempotency-key-reused', message);
    if (type === STEP_NOT_RECORDED) return new ApiError(422, 'not-recorded', message);
  }
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return new ApiError(503, 'unavailable', `the step on ${subject} was not confirmed in time; retry with the same ${IDEMPOTENCY_KEY_HEADER} to apply it once`);
  }
  return error;
}
