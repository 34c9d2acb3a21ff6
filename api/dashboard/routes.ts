import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { z } from '@hono/zod-openapi';
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { html } from 'hono/html';
import type { Database } from '../../db/client.js';
import type { Policy } from '../../domain/policy.js';
import type { ApiKey, Role } from '../../service.config.js';
import { apiKeyLookup, type ApiKeyDirectory } from '../auth.js';
import { errorPage, layout } from './html.js';
import { CODEC_SESSION_COOKIE, SESSION_COOKIE, SESSION_TTL_MS, type SessionSealer } from './session.js';
import { dealPage, funnelPage, handoffsPage, leadPage, leadSlaPage, plannerPage, type PageContext } from './views.js';
import { simulateFormPage, simulatePage } from './simulate-view.js';
import type { PolicyStore } from '../../db/policy-store.js';

/**
 * The management dashboard at /dashboard: server-rendered pages over the same report queries the API
 * serves, for managers and ops. Sign-in takes an API token once and keeps it sealed in an HttpOnly,
 * SameSite=Strict cookie, so no token ever appears in a URL. Every POST must come from the dashboard's
 * own origin (CSRF defence besides SameSite); every page is sent with a CSP that admits only the
 * service's own scripts, served from the bundled chart library.
 */

export interface DashboardDependencies {
  db: Database;
  apiKeys: ApiKeyDirectory;
  currentPolicy: () => Promise<Policy>;
  /** Namespace of the workflows the Temporal UI links point at. */
  namespace: string;
  /** The Temporal Web UI's base URL (TEMPORAL_UI_URL, as npm start prints it); no links without one. */
  temporalUiUrl?: string;
  /** Seals the session cookies (DASHBOARD_SESSION_SECRET); the codec server opens them with the same sealer. */
  sealer: SessionSealer;
  /** The published policy versions the simulation page replays against; without it the page is not offered. */
  policyStore?: Pick<PolicyStore, 'resolve'>;
  now?: () => Date;
}

const DASHBOARD_ROLES: readonly Role[] = ['manager', 'ops'];

type DashboardEnv = { Variables: { caller: ApiKey } };

// The UMD build sits beside the package's entry point; the package's exports map does not list it.
const require = createRequire(import.meta.url);
const assets: Record<string, { body: string; type: string }> = {
  'chart.umd.min.js': { body: readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8'), type: 'text/javascript; charset=utf-8' },
  'dashboard.js': { body: readFileSync(new URL('./assets/dashboard.js', import.meta.url), 'utf8'), type: 'text/javascript; charset=utf-8' },
  'dashboard.css': { body: readFileSync(new URL('./assets/dashboard.css', import.meta.url), 'utf8'), type: 'text/css; charset=utf-8' },
};

const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const securityHeaders = createMiddleware(async (c, next) => {
  await next();
  c.header('content-security-policy', CONTENT_SECURITY_POLICY);
  c.header('x-content-type-options', 'nosniff');
  c.header('referrer-policy', 'same-origin');
  c.header('x-frame-options', 'DENY');
  if (!c.res.headers.has('cache-control')) c.header('cache-control', 'no-store');
});

/** Where a sign-in may send the browser back to: a dashboard page of this service, nothing else. */
function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/dashboard(?:\/[A-Za-z0-9._~\-/]*)?(?:\?[A-Za-z0-9._~\-=&%+:]*)?$/.test(value) && !value.includes('//')
    ? value
    : '/dashboard/handoffs';
}

const isHttps = (c: Context) => new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';

/** The request's own origin as the browser names it: scheme and Host. */
function ownOrigin(c: Context): string | undefined {
  const host = c.req.header('host');
  return host ? `${isHttps(c) ? 'https' : 'http'}://${host}` : undefined;
}

/** CSRF: a state-changing request must say it comes from this origin. Browsers send Origin on every POST. */
const sameOriginOnly = createMiddleware(async (c, next) => {
  const origin = c.req.header('origin');
  if (!origin || origin !== ownOrigin(c)) {
    return c.html(errorPage('Refused', 'This form must be sent from the dashboard itself (the Origin header did not match).'), 403);
  }
  await next();
});

const signInForm = z.object({
  token: z.string().min(1, 'enter your API token').max(500, 'the token is too long'),
  next: z.string().max(2000).optional(),
});

export function dashboardRoutes(deps: DashboardDependencies) {
  const now = deps.now ?? (() => new Date());
  const tokens = apiKeyLookup(deps.apiKeys);
  const { sealer } = deps;
  const app = new Hono<DashboardEnv>();
  app.use('*', securityHeaders);

  app.get('/assets/:name', (c) => {
    const asset = assets[c.req.param('name')];
    if (!asset) return c.text('not found', 404);
    return c.body(asset.body, 200, { 'content-type': asset.type, 'cache-control': 'public, max-age=3600' });
  });

  const signInPage = (c: Context, status: 200 | 400 | 401 | 403, next: string, message?: string) =>
    c.html(
      layout({
        title: 'Sign in',
        body: html`${message ? html`<p class="error" role="alert">${message}</p>` : ''}
<p>The dashboard is for managers and ops. Sign in with your API token (the one you send as <code>Authorization: Bearer</code>); it is kept in a session cookie for 8 hours, never in a URL.</p>
<form method="post" action="/dashboard/sign-in" class="sign-in">
  <input type="hidden" name="next" value="${next}">
  <label>API token <input type="password" name="token" autocomplete="current-password" required></label>
  <button type="submit">Sign in</button>
</form>`,
      }),
      status,
    );

  app.get('/sign-in', (c) => signInPage(c, 200, safeNext(c.req.query('next'))));

  app.post('/sign-in', sameOriginOnly, async (c) => {
    const form = signInForm.safeParse(await c.req.parseBody().catch(() => ({})));
    if (!form.success) return signInPage(c, 400, '/dashboard/handoffs', form.error.issues.map((issue) => issue.message).join('; '));
    const next = safeNext(form.data.next);
    const caller = tokens.get(form.data.token);
    if (!caller) return signInPage(c, 401, next, 'Unknown API token.');
    if (!DASHBOARD_ROLES.includes(caller.role)) return signInPage(c, 403, next, `The dashboard is for managers and ops; a ${caller.role} token is refused.`);
    const sealed = sealer.seal({ token: caller.token, expiresAt: now().getTime() + SESSION_TTL_MS });
    const cookie = (path: string) => ({ path, httpOnly: true, sameSite: 'Strict' as const, secure: isHttps(c), maxAge: SESSION_TTL_MS / 1000 });
    setCookie(c, SESSION_COOKIE, sealed, cookie('/dashboard'));
    // Ops also read decoded payloads in the Temporal Web UI, which calls the codec server with this cookie.
    if (caller.role === 'ops') setCookie(c, CODEC_SESSION_COOKIE, sealed, cookie('/codec'));
    return c.redirect(next, 303);
  });

  app.post('/sign-out', sameOriginOnly, (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: '/dashboard', httpOnly: true, sameSite: 'Strict', secure: isHttps(c) });
    deleteCookie(c, CODEC_SESSION_COOKIE, { path: '/codec', httpOnly: true, sameSite: 'Strict', secure: isHttps(c) });
    return c.redirect('/dashboard/sign-in', 303);
  });

  // Every other dashboard page needs a live session of a manager or ops token.
  app.use('*', async (c, next) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    const session = cookie === undefined ? undefined : sealer.unseal(cookie, now().getTime());
    const caller = session === undefined ? undefined : tokens.get(session.token);
    if (!caller) {
      const url = new URL(c.req.url);
      return c.redirect(`/dashboard/sign-in?next=${encodeURIComponent(safeNext(url.pathname + url.search))}`, 303);
    }
    if (!DASHBOARD_ROLES.includes(caller.role)) return c.html(errorPage('Refused', `The dashboard is for managers and ops; a ${caller.role} token is refused.`), 403);
    c.set('caller', caller);
    await next();
  });

  const context = (c: Context<DashboardEnv>): PageContext => ({
    db: deps.db,
    caller: c.get('caller'),
    query: new URL(c.req.url).searchParams,
    now: now(),
    currentPolicy: deps.currentPolicy,
    workflowLink: (workflowId) =>
      deps.temporalUiUrl ? `${deps.temporalUiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(deps.namespace)}/workflows/${encodeURIComponent(workflowId)}` : undefined,
  });
  const render = async (c: Context<DashboardEnv>, view: (context: PageContext) => Promise<{ status: 200 | 400 | 404; body: ReturnType<typeof layout> }>) => {
    const page = await view(context(c));
    return c.html(page.body, page.status);
  };

  app.get('/', (c) => c.redirect('/dashboard/handoffs', 303));
  app.get('/handoffs', (c) => render(c, handoffsPage));
  app.get('/lead-sla', (c) => render(c, leadSlaPage));
  app.get('/funnel', (c) => render(c, funnelPage));
  app.get('/planner', (c) => render(c, plannerPage));
  const { policyStore } = deps;
  if (policyStore) {
    app.get('/simulate', (c) => render(c, async (ctx) => simulateFormPage(ctx)));
    app.post('/simulate', sameOriginOnly, async (c) => {
      const body = await c.req.parseBody().catch(() => ({}));
      const fields = Object.fromEntries(Object.entries(body).flatMap(([key, value]) => (typeof value === 'string' ? [[key, value]] : [])));
      return render(c, (ctx) => simulatePage(ctx, policyStore, fields));
    });
  }
  app.get('/leads/:leadId', (c) => render(c, (ctx) => leadPage(ctx, c.req.param('leadId'))));
  app.get('/deals/:dealId', (c) => render(c, (ctx) => dealPage(ctx, c.req.param('dealId'))));
  app.notFound((c) => c.html(errorPage('Not found', `No dashboard page ${c.req.path}.`, c.get('caller')), 404));
  return app;
}
