import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import type { Context } from 'hono';
import { dealWorkflowId, leadWorkflowId } from '../workflows/workflow-ids.js';
import { logger } from './logger.js';
import { httpDuration, httpRequests, metricsText } from './metrics.js';

/**
 * The API's access log and HTTP series: one JSON line per request with the caller, the route pattern (never
 * the query string, which may carry an e-mail), the status, the duration and the workflow the request is
 * about; and the request counter and duration histogram labelled by route pattern, so cardinality stays
 * bounded however many leads there are.
 */
export const observeHttp = createMiddleware<{ Variables: { caller?: { actorId: string; role: string } } }>(async (c, next) => {
  const started = performance.now();
  try {
    await next();
  } finally {
    const durationMs = Math.round((performance.now() - started) * 10) / 10;
    const route = routePattern(c);
    const status = c.res.status;
    httpRequests.inc({ method: c.req.method, route, status: String(status) });
    httpDuration.observe({ method: c.req.method, route, status_class: `${Math.floor(status / 100)}xx` }, durationMs / 1000);
    const caller = c.get('caller');
    const fields = {
      component: 'http',
      method: c.req.method,
      route,
      status,
      durationMs,
      actor: caller?.actorId,
      role: caller?.role,
      workflowId: workflowIdOf(c.req.path),
      requestKey: c.res.headers.get('idempotency-key') ?? undefined,
    };
    if (status >= 500) logger.error(fields, `${c.req.method} ${route} ${status}`);
    else logger.info(fields, `${c.req.method} ${route} ${status}`);
  }
});

function routePattern(c: Context): string {
  const handler = [...matchedRoutes(c)].reverse().find((route) => route.method !== 'ALL');
  return handler?.path ?? 'unmatched';
}

function workflowIdOf(path: string): string | undefined {
  const match = /^\/(leads|deals)\/([^/]+)/.exec(path);
  if (!match) return undefined;
  const id = decodeURIComponent(match[2]!);
  return match[1] === 'leads' ? leadWorkflowId(id) : dealWorkflowId(id);
}

const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['operations'],
  summary: 'Prometheus metrics: HTTP series, business figures (from Postgres and Temporal visibility), Node and, in a worker process, the Temporal SDK runtime',
  security: [],
  responses: {
    200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } },
  },
});

export function metricsRoutes() {
  const app = new OpenAPIHono();
  app.openapi(metricsRoute, async (c) => {
    const { contentType, body } = await metricsText();
    return c.text(body, 200, { 'content-type': contentType });
  });
  return app;
}
