import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';
import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';

/**
 * The one home of tracing. Off unless OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is
 * set: then spans go over OTLP/HTTP, from the HTTP request (`httpSpans`) through the Temporal client's
 * update, the workflow's handler and its activities (`@temporalio/interceptors-opentelemetry`, as a client and
 * worker plugin) down to each SQL statement (`traceSql`). Tests pass their own span processor.
 */

export interface Tracing {
  plugin: OpenTelemetryPlugin;
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

/** The running process's tracing, if on: the client and the worker add its plugin. */
export const tracing = (): Tracing | undefined => active;

export function tracingWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) && env.OTEL_SDK_DISABLED !== 'true';
}

/** Turns tracing on for this process (once); `spanProcessor` replaces the OTLP exporter (tests). */
export function startTracing(options: { serviceName: string; spanProcessor?: SpanProcessor }): Tracing | undefined {
  if (active) return active;
  if (!options.spanProcessor && !tracingWanted()) return undefined;
  // The exporter reads OTEL_EXPORTER_OTLP_ENDPOINT, _HEADERS, _TIMEOUT itself.
  const spanProcessor = options.spanProcessor ?? new BatchSpanProcessor(new OTLPTraceExporter());
  const resource = new Resource({ 'service.name': process.env.OTEL_SERVICE_NAME || options.serviceName });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  active = { plugin: new OpenTelemetryPlugin({ resource, spanProcessor }), shutdown: () => provider.shutdown() };
  return active;
}

const tracer = (): Tracer => trace.getTracer('revops-orchestrator');

/** A server span per request, continuing the caller's trace (W3C traceparent) and named by route pattern. */
export const httpSpans = createMiddleware(async (c, next) => {
  if (!active) return next();
  const parent = propagation.extract(context.active(), Object.fromEntries(c.req.raw.headers));
  await tracer().startActiveSpan(`${c.req.method} ${c.req.path}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': c.req.method } }, parent, async (span) => {
    try {
      await next();
    } finally {
      const route = [...matchedRoutes(c)].reverse().find((match) => match.method !== 'ALL')?.path ?? 'unmatched';
      span.updateName(`${c.req.method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': c.res.status });
      if (c.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
  });
});

interface QueryLike {
  then: Promise<unknown>['then'];
}

/**
 * Wraps a postgres.js client so each statement is a client span (`db.query.text` without its parameters,
 * which hold personal data), inside transactions too. Without tracing, the client is returned as it is.
 */
export function traceSql<T extends object>(sql: T): T {
  if (!active) return sql;
  return new Proxy(sql, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property === 'unsafe' && typeof value === 'function') {
        return (text: string, ...rest: unknown[]) => observeQuery(text, (value as (...args: unknown[]) => QueryLike).call(target, text, ...rest));
      }
      if (property === 'begin' && typeof value === 'function') {
        return (...args: unknown[]) => {
          const callback = args.at(-1) as (tx: object) => unknown;
          return (value as (...args: unknown[]) => unknown).apply(target, [...args.slice(0, -1), (tx: object) => callback(traceSql(tx))]);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function observeQuery<Q extends QueryLike>(text: string, query: Q): Q {
  const operation = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? 'SQL';
  const span = tracer().startSpan(operation, { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql', 'db.query.text': text.slice(0, 2000) } });
  // postgres.js runs a query when it is first awaited, after the caller picked its result form (.values()):
  // the span ends when that await settles.
  const originalThen = query.then.bind(query);
  let open = true;
  const end = (error?: unknown) => {
    if (!open) return;
    open = false;
    if (error !== undefined) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  };
  query.then = ((onFulfilled, onRejected) =>
    originalThen(
      (value) => {
        end();
        return onFulfilled ? onFulfilled(value) : value;
      },
      (error: unknown) => {
        end(error);
        if (onRejected) return onRejected(error);
        throw error;
      },
    )) as Q['then'];
  return query;
}
