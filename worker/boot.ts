import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { roles, type ApiKey } from '../service.config.js';

const logLevels: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/** LOG_LEVEL (TRACE…ERROR) for the Temporal worker's own logs; each entry point picks its default. */
export function installWorkerLogging(fallback: LogLevel): void {
  const requested = (process.env.LOG_LEVEL ?? fallback).toUpperCase() as LogLevel;
  if (!logLevels.includes(requested)) throw new Error(`LOG_LEVEL=${process.env.LOG_LEVEL} is not one of ${logLevels.join(', ')}`);
  Runtime.install({ logger: new DefaultLogger(requested) });
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
