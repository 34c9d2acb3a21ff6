import { isGrpcServiceError, ServiceError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { isDatabaseUnavailable } from '../db/client.js';
import { STEP_REFUSED } from '../domain/failures.js';
import { RecordErased } from '../privacy/record-keys.js';
import { logger } from '../observability/logger.js';

/** Seconds a client should wait before retrying a 503. */
const RETRY_AFTER_SECONDS = 2;

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
  if (error instanceof ApiError) {
    if (error.status === 503) c.header('Retry-After', String(RETRY_AFTER_SECONDS));
    return c.json<ErrorBody>({ error: error.code, message: error.message }, error.status);
  }
  if (isTemporalUnavailable(error)) {
    c.header('Retry-After', String(RETRY_AFTER_SECONDS));
    return c.json<ErrorBody>({ error: 'unavailable', message: 'Temporal did not answer in time; the request may be retried' }, 503);
  }
  if (isDatabaseUnavailable(error)) {
    c.header('Retry-After', String(RETRY_AFTER_SECONDS));
    return c.json<ErrorBody>({ error: 'unavailable', message: 'the database is not reachable; the request may be retried' }, 503);
  }
  if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure && error.cause.type === STEP_REFUSED) {
    return c.json<ErrorBody>({ error: 'conflict', message: error.cause.message }, 409);
  }
  // The record's data key is destroyed: nothing can be written to it or read from it again.
  if (findCause(error, RecordErased)) {
    return c.json<ErrorBody>({ error: 'erased', message: 'this record was erased on request; its data no longer exists' }, 410);
  }
  if (error instanceof WorkflowNotFoundError) {
    return c.json<ErrorBody>({ error: 'not-found', message: 'no such record' }, 404);
  }
  if (error instanceof HTTPException && error.status < 500) {
    return c.json<ErrorBody>({ error: 'invalid-request', message: error.message }, error.status as ContentfulStatusCode);
  }
  logger.error({ component: 'api', err: error, method: c.req.method, path: c.req.path }, 'unhandled API error');
  return c.json<ErrorBody>({ error: 'internal', message: 'internal error; the request may be retried safely' }, 500);
}

function findCause<E extends Error>(error: unknown, type: new (...args: never[]) => E): E | undefined {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth += 1) {
    if (cause instanceof type) return cause;
  }
  return undefined;
}

/** Temporal down, restarting or too slow for the request's deadline: a moment later the same request may succeed. */
function isTemporalUnavailable(error: unknown): boolean {
  const cause = error instanceof ServiceError ? error.cause : error;
  // 4 DEADLINE_EXCEEDED, 8 RESOURCE_EXHAUSTED, 14 UNAVAILABLE; and 1 CANCELLED, which is how the client reports
  // a request deadline that passed while it was backing off between retries (the API cancels nothing else).
  return isGrpcServiceError(cause) && [1, 4, 8, 14].includes(cause.code);
}
