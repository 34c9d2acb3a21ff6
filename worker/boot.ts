import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { Runtime } from '@temporalio/worker';
import { logger, temporalLogger, type LogObserver } from '../observability/logger.js';
import { setRuntimeMetricsAddress } from '../observability/metrics.js';
import { roles, type ApiKey } from '../service.config.js';

/**
 * Installs the Temporal SDK's runtime once per worker process: its logs through the service's logger
 * (LOG_LEVEL, JSON, redacted; `observe` sees each message first), its metrics through its own Prometheus
 * exporter on a loopback port that the process's /metrics appends.
 */
let installed = false;
export const workerRuntimeInstalled = (): boolean => installed;

export async function installWorkerRuntime(observe?: LogObserver): Promise<void> {
  const bindAddress = `127.0.0.1:${await freeLoopbackPort()}`;
  Runtime.install({
    logger: temporalLogger(observe),
    telemetryOptions: { metrics: { prometheus: { bindAddress, useSecondsForDurations: true } } },
  });
  setRuntimeMetricsAddress(bindAddress);
  installed = true;
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
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
    logger.info({ signal }, `${signal} received, shutting down…`);
    stop().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  // A process whose parent is gone shuts down as if told to. `npm start` under a supervisor that signals only
  // npm's pid: npm passes SIGTERM to the shell it ran the script in, and the shell dies without passing it on.
  const parent = process.ppid;
  const orphanWatch = setInterval(() => {
    if (process.ppid !== parent) handler(`parent process ${parent} gone`);
  }, 250);
  orphanWatch.unref();
}
