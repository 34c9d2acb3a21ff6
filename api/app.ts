import { OpenAPIHono } from '@hono/zod-openapi';
import type { Client } from '@temporalio/client';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import type { Database } from '../db/client.js';
import type { Policy } from '../domain/policy.js';
import { authenticate, type ApiKeyDirectory, type AppEnv } from './auth.js';
import { codecRoutes, type CodecRoutesDependencies } from './codec.js';
import { erasureRoutes } from './erasure.js';
import type { RecordKeys } from '../privacy/record-keys.js';
import { docsRoutes } from './docs.js';
import { toHttpError, type ErrorBody } from './errors.js';
import { healthRoutes, type ReadinessOptions } from './health.js';
import { dealRoutes } from './deals.js';
import { leadRoutes } from './leads.js';
import { listRoutes } from './lists.js';
import { policyRoutes } from './policies.js';
import { simulationRoutes } from './simulation.js';
import type { PolicyStore } from '../db/policy-store.js';
import { queueRoutes, repRoutes } from './reps.js';
import { findUnstorable } from './primitives.js';
import { reportRoutes } from './reports.js';
import { dashboardRoutes } from './dashboard/routes.js';
import { sessionSealer } from './dashboard/session.js';
import { observeHttp, metricsRoutes } from '../observability/http.js';
import { registerBusinessMetrics } from '../observability/metrics.js';
import { httpSpans } from '../observability/tracing.js';

export interface AppDependencies {
  client: Client;
  db: Database;
  apiKeys: ApiKeyDirectory;
  /** The policy new leads start under. */
  currentPolicy: () => Promise<Policy>;
  /** Every published policy version: published through /policies, used by lead migrations. */
  policyStore: PolicyStore;
  /** Bounds of the /ready checks; tests shorten them. */
  readiness?: Partial<ReadinessOptions>;
  /** How long a step may take before the API answers 503 (STEP_TIMEOUT_MS, default 10 s). */
  stepTimeoutMs?: number;
  /** The codec server for the Temporal UI and CLI, when payloads are encrypted. */
  codecServer?: Omit<CodecRoutesDependencies, 'apiKeys'>;
  /** This process's cache of record keys, emptied of a record as it is erased. */
  recordKeys?: RecordKeys;
  /** The management dashboard's settings: the Temporal UI it links to, the session secret. */
  dashboard?: { temporalUiUrl?: string; sessionSecret?: string };
}

/** No route takes more: the largest body is a policy document or a dossier, a few KiB each. */
export const MAX_BODY_BYTES = 1024 * 1024;

// Refused before a byte more is read: a Content-Length over the limit at once, a chunked body as soon as it passes it.
const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: (c) => c.json<ErrorBody>({ error: 'payload-too-large', message: `the body is larger than ${MAX_BODY_BYTES} bytes (1 MiB)` }, 413),
});

const jsonContentType = /^application\/(?:[\w.+-]*\+)?json\b/i;

/**
 * Defence in depth behind the schemas: a JSON body holding a NUL or a lone surrogate anywhere, even in a
 * field a schema passes through, or nested absurdly deep, is refused, because Postgres cannot store it
 * (jsonb rejects both characters and overflows on depth) and whatever took it in would fail later.
 */
const refuseUnstorableText = createMiddleware(async (c, next) => {
  if (!c.req.raw.body || !jsonContentType.test(c.req.header('content-type') ?? '')) return next();
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    // Malformed JSON: the route's validator answers it with its own 400.
    return next();
  }
  const problem = findUnstorable(body);
  if (problem === undefined) return next();
  return c.json<ErrorBody>({ error: 'invalid-request', message: `${problem.path}: ${problem.message}`, issues: [problem] }, 400);
});

export function createApp(deps: AppDependencies) {
  // One sealer for the sessions the dashboard signs in and the codec server reads.
  const sessions = sessionSealer(deps.dashboard?.sessionSecret);
  const app = new OpenAPIHono<AppEnv>();
  app.onError(toHttpError);
  app.notFound((c) => c.json({ error: 'not-found', message: `no route ${c.req.method} ${c.req.path}` }, 404));

  // The codec server takes Temporal payloads, which may be larger; it sets its own limit.
  app.use('*', httpSpans, observeHttp, (c, next) => (c.req.path.startsWith('/codec/') ? next() : limitBody(c, next)));
  registerBusinessMetrics({ db: deps.db, client: deps.client });
  app.route('/', metricsRoutes());
  app.route('/', healthRoutes({ client: deps.client, db: deps.db, readiness: deps.readiness }));
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'RevOps Orchestrator',
      version: '0.1.0',
      description:
        'Leads and closed-won deals as durable Temporal workflows. Every route but /health, /ready, /metrics and the docs needs `Authorization: Bearer <token>`. ' +
        'Bodies are JSON of at most 1 MiB (413 beyond), nested at most 32 levels; no string or key in a body may contain a NUL character or an unpaired UTF-16 surrogate (400).',
    },
    security: [{ bearer: [] }],
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  app.route('/docs', docsRoutes('/openapi.json'));

  const authenticated = authenticate(deps.apiKeys);
  for (const resource of ['/leads', '/deals', '/reps', '/queues', '/policies', '/reports']) {
    // Authenticated first, so an unknown caller learns nothing about the body's content.
    app.use(resource, authenticated, refuseUnstorableText).use(`${resource}/*`, authenticated, refuseUnstorableText);
  }
  app.route('/', listRoutes(deps));
  app.route('/leads', leadRoutes(deps));
  app.route('/leads', erasureRoutes(deps));
  app.route('/deals', dealRoutes(deps));
  app.route('/reps', repRoutes(deps));
  app.route('/queues', queueRoutes(deps));
  app.route('/policies', policyRoutes({ store: deps.policyStore }));
  app.route('/policies', simulationRoutes({ db: deps.db, store: deps.policyStore }));
  app.route('/reports', reportRoutes({ db: deps.db }));
  if (deps.codecServer) app.route('/codec', codecRoutes({ apiKeys: deps.apiKeys, sessions, ...deps.codecServer }));
  // HTML for browsers, outside the OpenAPI document: its own session cookie instead of a bearer token.
  app.route(
    '/dashboard',
    dashboardRoutes({
      db: deps.db,
      apiKeys: deps.apiKeys,
      currentPolicy: deps.currentPolicy,
      namespace: deps.client.options.namespace,
      temporalUiUrl: deps.dashboard?.temporalUiUrl,
      sealer: sessions,
      policyStore: deps.policyStore,
    }),
  );
  return app;
}
