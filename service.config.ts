import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseKeyring, type Keyring } from './privacy/keyring.js';

/** The one home for the service's own environment (Temporal's lives in temporal.config.ts). */

export type Role = 'sales' | 'cs' | 'ops' | 'manager';
export const roles: readonly Role[] = ['sales', 'cs', 'ops', 'manager'];

export interface ApiKey {
  token: string;
  actorId: string;
  role: Role;
}

export interface ServiceSettings {
  dataDir: string;
  port: number;
  temporalPort: number;
  temporalUiPort: number;
  databaseUrl: string | undefined;
  policyFile: string;
  apiKeys: ApiKey[] | undefined;
  /** How long the API waits for a step before answering 503 (retry with the same Idempotency-Key). */
  stepTimeoutMs: number;
  /** PAYLOAD_KEYS: the master keys that encrypt every payload sent to Temporal, the active one first. */
  payloadKeys: Keyring | undefined;
  /** CODEC_CORS_ORIGINS: browser origins (Temporal UIs) allowed to call the codec server. */
  codecCorsOrigins: string[];
  /** The Temporal Web UI's base URL, for the dashboard's links to workflows (npm start sets it for its dev server). */
  temporalUiUrl: string | undefined;
  /** Seals the dashboard's session cookies; give every API process the same one. Unset: a random key per process. */
  dashboardSessionSecret: string | undefined;
  /** `npm run worker`'s own HTTP port: GET /metrics and GET /health (0: any free port). */
  workerMetricsPort: number;
}

export const DEFAULT_STEP_TIMEOUT_MS = 10_000;

export const defaultPolicyFile = fileURLToPath(new URL('./policies/default.json', import.meta.url));

export function serviceSettings(env: NodeJS.ProcessEnv = process.env): ServiceSettings {
  return {
    dataDir: resolve(env.DATA_DIR || '.data'),
    port: parsePort(env.PORT, 3000, 'PORT'),
    temporalPort: parsePort(env.TEMPORAL_PORT, 7233, 'TEMPORAL_PORT'),
    temporalUiPort: parsePort(env.TEMPORAL_UI_PORT, 8233, 'TEMPORAL_UI_PORT'),
    databaseUrl: env.DATABASE_URL || undefined,
    policyFile: env.POLICY_FILE ? resolve(env.POLICY_FILE) : defaultPolicyFile,
    apiKeys: env.API_KEYS ? parseApiKeys(env.API_KEYS) : undefined,
    stepTimeoutMs: parseMilliseconds(env.STEP_TIMEOUT_MS, DEFAULT_STEP_TIMEOUT_MS, 'STEP_TIMEOUT_MS'),
    payloadKeys: env.PAYLOAD_KEYS ? parseKeyring(env.PAYLOAD_KEYS) : undefined,
    codecCorsOrigins: (env.CODEC_CORS_ORIGINS ?? '').split(',').map((origin) => origin.trim()).filter(Boolean),
    temporalUiUrl: env.TEMPORAL_UI_URL || undefined,
    dashboardSessionSecret: env.DASHBOARD_SESSION_SECRET || undefined,
    workerMetricsPort: parsePort(env.WORKER_METRICS_PORT, 9464, 'WORKER_METRICS_PORT'),
  };
}

function parsePort(value: string | undefined, fallback: number, name: string): number {
  if (!value) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${name}=${value} is not a port number`);
  return port;
}

/** A duration setting in whole milliseconds within [min, max]; unset or empty gives `fallback`. */
export function parseMilliseconds(value: string | undefined, fallback: number, name: string, { min = 100, max = 600_000 } = {}): number {
  if (!value) return fallback;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < min || ms > max) throw new Error(`${name}=${value} must be a whole number of milliseconds from ${min} to ${max}`);
  return ms;
}

/** `token:actorId:role` entries, comma-separated. */
export function parseApiKeys(value: string): ApiKey[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const [token, actorId, role, ...rest] = entry.split(':');
      if (!token || !actorId || !role || rest.length > 0) {
        throw new Error(`API_KEYS entry "${entry.slice(0, 4)}…" must be token:actorId:role`);
      }
      if (!roles.includes(role as Role)) {
        throw new Error(`API_KEYS entry for ${actorId} has role "${role}"; expected one of ${roles.join(', ')}`);
      }
      return { token, actorId, role: role as Role };
    });
}
