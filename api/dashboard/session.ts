import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * The dashboard's session: the API token the manager signed in with, sealed (AES-256-GCM) into an HttpOnly,
 * SameSite=Strict cookie. Nothing is kept on the server, so any API process with the same secret reads the
 * session, and a token removed from API_KEYS ends every session made with it at the next request.
 */

export const SESSION_COOKIE = 'revops_dashboard';
/**
 * The same session, offered to the codec server (path /codec) when an ops token signs in: the Temporal Web UI on
 * the same site (localhost:8233 beside localhost:3000) sends it when its codec settings include credentials.
 */
export const CODEC_SESSION_COOKIE = 'revops_codec';
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;

export interface Session {
  token: string;
  expiresAt: number;
}

export interface SessionSealer {
  seal(session: Session): string;
  /** The session, or undefined for a cookie this sealer did not make, altered, or expired. */
  unseal(cookie: string, now: number): Session | undefined;
}

/** `secret`: DASHBOARD_SESSION_SECRET; without one, a random key per process (sessions end at restart). */
export function sessionSealer(secret?: string): SessionSealer {
  const key = secret ? createHash('sha256').update(`revops-dashboard-session:${secret}`).digest() : randomBytes(32);
  return {
    seal(session) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(JSON.stringify(session), 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    },
    unseal(cookie, now) {
      if (!/^[A-Za-z0-9_-]{40,2000}$/.test(cookie)) return undefined;
      const raw = Buffer.from(cookie, 'base64url');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(12, 28));
        const session = JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')) as Partial<Session>;
        if (typeof session.token !== 'string' || typeof session.expiresAt !== 'number' || session.expiresAt <= now) return undefined;
        return { token: session.token, expiresAt: session.expiresAt };
      } catch {
        // A cookie sealed under another key or tampered with fails authentication: no session.
        return undefined;
      }
    },
  };
}
