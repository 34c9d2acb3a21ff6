import { createMiddleware } from 'hono/factory';
import type { ApiKey, Role } from '../service.config.js';
import { ApiError } from './errors.js';

export type AppEnv = { Variables: { caller: ApiKey } };

/** The known tokens: a list (API_KEYS, the development tokens), or a look-up for callers that mint tokens (tests). */
export type ApiKeyDirectory = readonly ApiKey[] | ((token: string) => ApiKey | undefined);

/** The caller a token names, if any; the API's bearer check and the dashboard's session share it. */
export function apiKeyLookup(apiKeys: ApiKeyDirectory): { get(token: string): ApiKey | undefined } {
  return typeof apiKeys === 'function' ? { get: apiKeys } : new Map(apiKeys.map((key) => [key.token, key]));
}

/** Resolves `Authorization: Bearer <token>` to the caller; every route behind it has an actor to record. */
export function authenticate(apiKeys: ApiKeyDirectory) {
  const byToken = apiKeyLookup(apiKeys);
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new ApiError(401, 'unauthenticated', 'send Authorization: Bearer <token>');
    const caller = byToken.get(match[1]!);
    if (!caller) throw new ApiError(401, 'unauthenticated', 'unknown API token');
    c.set('caller', caller);
    await next();
  });
}

export function requireRole(...allowed: Role[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const caller = c.get('caller');
    if (!allowed.includes(caller.role)) {
      throw new ApiError(403, 'forbidden', `role ${caller.role} may not do this; allowed: ${allowed.join(', ')}`);
    }
    await next();
  });
}
