import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { parseMilliseconds } from './service.config.js';
import { allSearchAttributeKeys } from './workflows/search-attributes.js';

/** The one home for where Temporal is, how to reach it, and how workflows are named. */

export const TASK_QUEUE = process.env.TEMPORAL_TASK_QUEUE ?? 'revops';

export { dealWorkflowId, leadWorkflowId } from './workflows/workflow-ids.js';

export const searchAttributeKeys = allSearchAttributeKeys;

export interface TemporalSettings {
  /** host:port of the frontend; unset means "start an embedded dev server" (npm start only). */
  address: string | undefined;
  namespace: string;
  /** Temporal Cloud API key (TEMPORAL_API_KEY); implies TLS. */
  apiKey: string | undefined;
  tls: TLSConfig | boolean;
  /**
   * TEMPORAL_STICKY_TIMEOUT_MS: how long a workflow task waits on the worker that holds its workflow in cache
   * before the server hands it, with the whole history to replay, to any worker (the SDK's
   * stickyQueueScheduleToStartTimeout, 10 s). Longer keeps a burst of wake-ups (every deadline due at a calendar's
   * opening) off replays; it is also how long the tasks sent to a worker that just died wait. See the README.
   */
  stickyQueueTimeoutMs: number;
}

export const DEFAULT_STICKY_QUEUE_TIMEOUT_MS = 10_000;

/**
 * Reads the connection settings from the environment:
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY for Temporal Cloud API keys, or
 * TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY (file paths, mTLS) with optional TEMPORAL_TLS_CA and TEMPORAL_TLS_SERVER_NAME.
 */
export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  const certPath = env.TEMPORAL_TLS_CERT;
  const keyPath = env.TEMPORAL_TLS_KEY;
  if (Boolean(certPath) !== Boolean(keyPath)) {
    throw new Error('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together for mTLS');
  }
  let tls: TLSConfig | boolean = Boolean(apiKey) || env.TEMPORAL_TLS === 'true';
  if (certPath && keyPath) {
    tls = {
      clientCertPair: { crt: readFileSync(certPath), key: readFileSync(keyPath) },
      serverRootCACertificate: env.TEMPORAL_TLS_CA ? readFileSync(env.TEMPORAL_TLS_CA) : undefined,
      serverNameOverride: env.TEMPORAL_TLS_SERVER_NAME || undefined,
    };
  }
  return {
    address: env.TEMPORAL_ADDRESS || undefined,
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    apiKey,
    tls,
    stickyQueueTimeoutMs: parseMilliseconds(env.TEMPORAL_STICKY_TIMEOUT_MS, DEFAULT_STICKY_QUEUE_TIMEOUT_MS, 'TEMPORAL_STICKY_TIMEOUT_MS', { min: 1_000 }),
  };
}
