import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { STEP_REFUSED } from '../workflows/lead-definitions.js';

export interface ErrorBody {
  error: string;
  message: string;
  issues?: Array<{ path: string; message: string }>;
}

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Malformed input: 400 naming every field that is wrong. */
export function validationFailed(error: z.ZodError, c: Context) {
  const issues = error.issues.map((issue) => ({ path: issue.path.join('.') || '(body)', message: issue.message }));
  const body: ErrorBody = {
    error: 'invalid-request',
    message: issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '),
    issues,
  };
  return c.json(body, 400);
}

/** The one place errors become HTTP answers; anything unrecognised is a 500 that is logged in full. */
export function toHttpError(error: unknown, c: Context) {
  if (error instanceof ApiError) return c.json<ErrorBody>({ error: error.code, message: error.message }, error.status);
  if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure && error.cause.type === STEP_REFUSED) {
    return c.json<ErrorBody>({ error: 'conflict', message: error.cause.message }, 409);
  }
  if (error instanceof WorkflowNotFoundError) {
    return c.json<ErrorBody>({ error: 'not-found', message: 'no such record' }, 404);
  }
  if (error instanceof HTTPException && error.status < 500) {
    return c.json<ErrorBody>({ error: 'invalid-request', message: error.message }, error.status as ContentfulStatusCode);
  }
  console.error('unhandled API error', error);
  return c.json<ErrorBody>({ error: 'internal', message: 'internal error; the request may be retried safely' }, 500);
}
