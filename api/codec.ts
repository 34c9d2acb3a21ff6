import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { ApplicationFailure, defaultPayloadConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { getCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import { apiKeyLookup, authenticate, requireRole, type ApiKeyDirectory, type AppEnv } from './auth.js';
import { CODEC_SESSION_COOKIE, type SessionSealer } from './dashboard/session.js';
import { ApiError, validationFailed, type ErrorBody } from './errors.js';
import { PAYLOAD_ERASED } from '../privacy/encryption-codec.js';
import { errorResponses, jsonBody, jsonResponse } from './openapi.js';

/**
 * The codec server (Temporal's remote codec protocol): the Web UI and the CLI send the payloads they show to
 * `/codec/decode` and get them back readable, only for an ops token; anyone else sees ciphertext. Payloads of an
 * erased record come back as a note saying so, never as their data.
 */

export interface CodecRoutesDependencies {
  apiKeys: ApiKeyDirectory;
  /** Opens the session an ops sign-in to the dashboard left for the codec server (the Web UI's way in). */
  sessions?: SessionSealer;
  /** The codec in its codec-server mode: it reads record keys afresh, so an erasure takes effect at once. */
  codec: PayloadCodec;
  /** Web origins allowed to call from a browser (the Temporal UI's), exactly; none means no browser access. */
  corsOrigins: readonly string[];
}

/** Temporal's own limit on one payload is 2 MiB; the UI sends a few at a time. */
export const MAX_CODEC_BODY_BYTES = 8 * 1024 * 1024;
const MAX_PAYLOADS = 1_000;

const base64 = z
  .string()
  .max(MAX_CODEC_BODY_BYTES)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be standard base64')
  .refine((value) => value.length % 4 === 0, 'must be standard base64 (padded)');

const payloadJson = z
  .object({
    metadata: z.record(z.string().min(1).max(256), base64).optional(),
    data: base64.optional(),
  })
  .openapi('Payload', { description: 'A Temporal Payload in protobuf JSON: metadata values and data in base64' });

const payloadsJson = z
  // Protobuf JSON leaves out an empty list: the CLI sends `{}` for no payloads.
  .object({ payloads: z.array(payloadJson).max(MAX_PAYLOADS).default([]) })
  .openapi('Payloads', { example: { payloads: [{ metadata: { encoding: 'anNvbi9wbGFpbg==' }, data: 'eyJhIjoxfQ==' }] } });

const limitCodecBody = bodyLimit({
  maxSize: MAX_CODEC_BODY_BYTES,
  onError: (c) => c.json<ErrorBody>({ error: 'payload-too-large', message: `the body is larger than ${MAX_CODEC_BODY_BYTES} bytes (8 MiB)` }, 413),
});

const namespaceHeader = z.object({
  'x-namespace': z.string().max(1000).optional().openapi({ param: { name: 'x-namespace', in: 'header' }, description: 'Sent by the Temporal UI and CLI; every namespace uses the same keys' }),
});

function codecRoute(direction: 'encode' | 'decode') {
  return createRoute({
    method: 'post',
    path: `/${direction}`,
    tags: ['codec'],
    summary: direction === 'decode' ? 'Decode payloads for the Temporal UI or CLI (ops only)' : 'Encode payloads the Temporal UI or CLI sends (ops only)',
    description:
      direction === 'decode'
        ? 'Decrypts what this service encrypted; payloads it did not encrypt come back unchanged; a payload of an erased lead or deal comes back as a JSON note saying it was erased.'
        : 'Encrypts payloads with the active master key (they belong to no record the codec server can name).',
    request: { headers: namespaceHeader, body: jsonBody(payloadsJson) },
    responses: {
      200: jsonResponse(payloadsJson, 'The payloads, in the same order'),
      ...errorResponses(400, 401, 403, 413, 422),
    },
  });
}

export function codecRoutes(deps: CodecRoutesDependencies) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: (result, c) => (result.success ? undefined : validationFailed(result.error, c)) });
  // Preflight first: a browser's OPTIONS carries no token. Only the configured UI origins get CORS headers.
  app.use(
    '*',
    cors({
      origin: (origin) => (deps.corsOrigins.includes(origin) ? origin : null),
      allowMethods: ['POST', 'OPTIONS'],
      allowHeaders: ['Content-Type', 'Authorization', 'X-Namespace'],
      credentials: true,
      maxAge: 600,
    }),
  );
  app.use('*', limitCodecBody, bearerOrSession(deps), requireRole('ops'));

  app.openapi(codecRoute('decode'), async (c) => {
    const { payloads } = c.req.valid('json');
    const decoded: Payload[] = [];
    // One at a time, so an erased record's payload becomes a note without failing the others beside it.
    for (const payload of payloads.map(fromJson)) {
      try {
        decoded.push(...(await deps.codec.decode([payload])));
      } catch (error) {
        if (error instanceof ApplicationFailure && error.type === PAYLOAD_ERASED) {
          decoded.push(defaultPayloadConverter.toPayload({ erased: error.message }));
          continue;
        }
        throw new ApiError(422, 'undecodable', `payload ${decoded.length + 1}: ${(error as Error).message}`);
      }
    }
    return c.json({ payloads: decoded.map(toJson) }, 200);
  });

  app.openapi(codecRoute('encode'), async (c) => {
    const { payloads } = c.req.valid('json');
    const encoded = await deps.codec.encode(payloads.map(fromJson));
    return c.json({ payloads: encoded.map(toJson) }, 200);
  });
  return app;
}

/**
 * The CLI sends `Authorization: Bearer <token>`; the Web UI cannot hold our token, so it sends the session cookie
 * that signing in to the dashboard as ops left for /codec (its codec settings must include credentials).
 */
function bearerOrSession(deps: CodecRoutesDependencies) {
  const bearer = authenticate(deps.apiKeys);
  const tokens = apiKeyLookup(deps.apiKeys);
  return createMiddleware<AppEnv>(async (c, next) => {
    const cookie = c.req.header('authorization') ? undefined : getCookie(c, CODEC_SESSION_COOKIE);
    if (cookie === undefined || !deps.sessions) return bearer(c, next);
    const session = deps.sessions.unseal(cookie, Date.now());
    const caller = session && tokens.get(session.token);
    if (!caller) throw new ApiError(401, 'unauthenticated', 'the session has ended or its token is no longer valid; sign in to /dashboard again');
    c.set('caller', caller);
    await next();
  });
}

type PayloadJson = z.infer<typeof payloadJson>;

function fromJson(payload: PayloadJson): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
    data: Buffer.from(payload.data ?? '', 'base64'),
  };
}

function toJson(payload: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value ?? new Uint8Array()).toString('base64')])),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}
