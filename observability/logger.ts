import { trace } from '@opentelemetry/api';
import type { LogLevel as TemporalLogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import { pino, type Logger } from 'pino';

/**
 * The one home of the service's logs: JSON lines on stdout (pino), level from LOG_LEVEL, personal data
 * taken out before a line is written. The API's access log, the worker's SDK logs (through the Runtime
 * logger), the activity interceptor and the start-up and outage lines all go through `logger`.
 */

const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type ServiceLogLevel = (typeof levels)[number];

/** LOG_LEVEL, case-insensitive (trace, debug, info, warn, error, fatal, silent); `fallback` when unset. */
export function logLevelSetting(env: NodeJS.ProcessEnv = process.env, fallback: ServiceLogLevel = 'info'): ServiceLogLevel {
  const requested = (env.LOG_LEVEL ?? fallback).toLowerCase();
  if (!(levels as readonly string[]).includes(requested)) throw new Error(`LOG_LEVEL=${env.LOG_LEVEL} is not one of ${levels.join(', ')}`);
  return requested as ServiceLogLevel;
}

/**
 * Fields whose values are personal data or free text a person typed (the lead's e-mail and company, a rep's
 * name, a contact attempt's notes, a dossier's stakeholders), or whole inputs that may hold them (activity and
 * query arguments, a URL's query string): their values never reach a log line, whatever object holds them.
 */
const personalKeys = new Set(
  ['email', 'name', 'company', 'accountName', 'notes', 'attendees', 'stakeholders', 'contact', 'phone', 'args', 'arguments', 'input', 'parameters', 'params', 'query', 'search', 'authorization', 'token', 'body'].map((key) =>
    key.toLowerCase(),
  ),
);
const emailPattern = /[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+/g;
// drizzle's "Failed query: <sql>\nparams: <every bound value>" quotes the row it tried to write, e-mails included.
const boundParameters = /(\bparams: ).*$/gms;
export const REDACTED = '[redacted]';

export function redactText(text: string): string {
  return text.replace(boundParameters, `$1${REDACTED}`).replace(emailPattern, '[email]');
}

/** A copy of `value` without personal data: named fields blanked, e-mail addresses and bound SQL parameters cut from every string. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8) return '[deep]';
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Error) {
    const plain: Record<string, unknown> = { type: value.name, message: value.message, stack: value.stack };
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) plain.code = code;
    if (value.cause !== undefined) plain.cause = value.cause;
    return redact(plain, depth + 1);
  }
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] = personalKeys.has(key.toLowerCase()) && item !== undefined && item !== null ? REDACTED : redact(item, depth + 1);
  }
  return copy;
}

function createLogger(level: ServiceLogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      // With tracing on, a line written inside a span names its trace, so logs and traces join up.
      mixin() {
        const span = trace.getActiveSpan()?.spanContext();
        return span ? { traceId: span.traceId, spanId: span.spanId } : {};
      },
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => redact(object) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((arg) => (typeof arg === 'string' ? redactText(arg) : arg)) as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}

/** The process's root logger; components take a child (`logger.child({ component: 'api' })`). */
export let logger: Logger = createLogger(logLevelSetting(process.env));

/** Tests send the logs somewhere they can read them. */
export function setLogDestination(destination: pino.DestinationStream, level: ServiceLogLevel = logger.level as ServiceLogLevel): Logger {
  logger = createLogger(level, destination);
  return logger;
}

const temporalToPino: Record<TemporalLogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Sees every message the SDK logs, whatever LOG_LEVEL prints. */
export type LogObserver = (level: TemporalLogLevel, message: string, meta: LogMetadata | undefined) => void;

/** The SDK's Runtime logger, writing through `logger` (so through the same redaction); `observe` sees each message first. */
export function temporalLogger(observe?: LogObserver): TemporalLogger {
  const log = (level: TemporalLogLevel, message: string, meta?: LogMetadata) => {
    try {
      observe?.(level, message, meta);
    } catch {
      // An observer is a bystander: it must never stop the SDK's own log line.
    }
    logger[temporalToPino[level]]({ component: 'temporal', ...meta }, message);
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}
