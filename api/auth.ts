import { createMiddleware } from 'hono/factory';
import type { ApiKey, Role } from '../service.config.js';
import { ApiError } from './errors.js';

export type AppEnv = { Variables: { caller: ApiKey } };

/** Resolves `Authorization: Bearer <token>` to the caller; every route behind it has an actor to record. */
export function authenticate(apiKeys: readonly ApiKey[]) {
  const byToken = new Map(apiKeys.map((key) => [key.token, key]));
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
