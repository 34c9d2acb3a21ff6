import { OpenAPIHono } from '@hono/zod-openapi';
import type { Client } from '@temporalio/client';
import type { Database } from '../db/client.js';
import type { Policy } from '../domain/policy.js';
import type { ApiKey } from '../service.config.js';
import { authenticate, type AppEnv } from './auth.js';
import { docsRoutes } from './docs.js';
import { toHttpError } from './errors.js';
import { dealRoutes } from './deals.js';
import { leadRoutes } from './leads.js';
import { policyRoutes } from './policies.js';
import type { PolicyStore } from './policy-store.js';
import { queueRoutes, repRoutes } from './reps.js';
import { reportRoutes } from './reports.js';

export interface AppDependencies {
  client: Client;
  db: Database;
  apiKeys: readonly ApiKey[];
  /** The policy new leads start under. */
  currentPolicy: () => Promise<Policy>;
  /** Every published policy version: published through /policies, used by lead migrations. */
  policyStore: PolicyStore;
}

export function createApp(deps: AppDependencies) {
  const app = new OpenAPIHono<AppEnv>();
  app.onError(toHttpError);
  app.notFound((c) => c.json({ error: 'not-found', message: `no route ${c.req.method} ${c.req.path}` }, 404));

  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'RevOps Orchestrator',
      version: '0.1.0',
      description: 'Leads and closed-won deals as durable Temporal workflows. Every route but /health and the docs needs `Authorization: Bearer <token>`.',
    },
    security: [{ bearer: [] }],
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  app.route('/docs', docsRoutes('/openapi.json'));

  const authenticated = authenticate(deps.apiKeys);
  for (const resource of ['/leads', '/deals', '/reps', '/queues', '/policies', '/reports']) app.use(resource, authenticated).use(`${resource}/*`, authenticated);
  app.route('/leads', leadRoutes(deps));
  app.route('/deals', dealRoutes(deps));
  app.route('/reps', repRoutes(deps));
  app.route('/queues', queueRoutes(deps));
  app.route('/policies', policyRoutes({ store: deps.policyStore }));
  app.route('/reports', reportRoutes({ db: deps.db }));
  return app;
}
