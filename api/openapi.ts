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
} as const;

type ErrorStatus = keyof typeof errorDescriptions;

export function errorResponses<S extends ErrorStatus>(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((status) => [status, { description: errorDescriptions[status], content: { 'application/json': { schema: errorSchema } } }]),
  ) as unknown as Record<S, { description: string; content: { 'application/json': { schema: typeof errorSchema } } }>;
}

export function jsonBody<S extends z.ZodType>(schema: S) {
  return { content: { 'application/json': { schema } }, required: true };
}

export function jsonResponse<S extends z.ZodType>(schema: S, description: string) {
  return { description, content: { 'application/json': { schema } } };
}
