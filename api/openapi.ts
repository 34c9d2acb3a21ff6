import { z } from '@hono/zod-openapi';

export const errorSchema = z
  .object({
    error: z.string(),
    message: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Error');

const errorDescriptions = {
  400: 'Malformed input; `issues` names each field',
  401: 'Missing or unknown bearer token',
  403: "The token's role may not do this",
  404: 'No such record',
  409: 'The step is not valid in the current stage; nothing changed',
  410: 'The record was erased on request (POST /leads/{leadId}/erase); its data no longer exists',
  413: 'The body is larger than the API accepts (1 MiB); nothing was read past the limit',
  422: 'This Idempotency-Key was already used for a different request; nothing changed',
  503: 'A dependency (Temporal, the database, a worker) is unavailable, or the step could not be applied in time; safe to retry after Retry-After seconds, with the same Idempotency-Key for a step',
} as const;

type ErrorStatus = keyof typeof errorDescriptions;

/** A 503 tells the client when to come back. */
const retryAfterHeader = { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' as const, minimum: 0 } } };

type ErrorResponse = {
  description: string;
  content: { 'application/json': { schema: typeof errorSchema } };
  headers?: typeof retryAfterHeader;
};

export function errorResponses<S extends ErrorStatus>(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: errorDescriptions[status], content: { 'application/json': { schema: errorSchema } }, ...(status === 503 ? { headers: retryAfterHeader } : {}) },
    ]),
  ) as unknown as Record<S, ErrorResponse>;
}

export function jsonBody<S extends z.ZodType>(schema: S) {
  return { content: { 'application/json': { schema } }, required: true };
}

export function jsonResponse<S extends z.ZodType>(schema: S, description: string) {
  return { description, content: { 'application/json': { schema } } };
}
