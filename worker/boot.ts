import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogMetadata, Logger } from '@temporalio/common';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { roles, type ApiKey } from '../service.config.js';

const logLevels: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/** Sees every message the SDK logs, whatever LOG_LEVEL prints. */
export type LogObserver = (level: LogLevel, message: string, meta: LogMetadata | undefined) => void;

/** LOG_LEVEL (TRACE…ERROR) for the Temporal worker's own logs; each entry point picks its default. */
export function installWorkerLogging(fallback: LogLevel, observe?: LogObserver): void {
  const requested = (process.env.LOG_LEVEL ?? fallback).toUpperCase() as LogLevel;
  if (!logLevels.includes(requested)) throw new Error(`LOG_LEVEL=${process.env.LOG_LEVEL} is not one of ${logLevels.join(', ')}`);
  const printer = new DefaultLogger(requested);
  Runtime.install({ logger: observe ? observingLogger(printer, observe) : printer });
}

function observingLogger(inner: Logger, observe: LogObserver): Logger {
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => {
    try {
      observe(level, message, meta);
    } catch {
      // An observer is a bystander: it must never stop the SDK's own log line.
    }
    inner.log(level, message, meta);
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

/** Start-up steps shared by `npm start`, `npm run worker` and `npm run api`. */

/**
 * Without API_KEYS, `npm start` never runs open: it makes one development token per role, keeps them in
 * DATA_DIR so they survive a restart, and prints them.
 */
export function developmentApiKeys(dataDir: string): ApiKey[] {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'dev-api-keys.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as ApiKey[];
  const keys = roles.map((role) => ({ token: `dev-${role}-${randomBytes(12).toString('hex')}`, actorId: `dev-${role}`, role }));
  writeFileSync(file, JSON.stringify(keys, null, 2), { mode: 0o600 });
  return keys;
}

export function describeApiKeys(keys: readonly ApiKey[]): string {
  return keys.map((key) => `  ${key.role.padEnd(8)} ${key.actorId.padEnd(14)} ${key.token}`).join('\n');
}

export function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal} received, shutting down…`);
    stop().then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
