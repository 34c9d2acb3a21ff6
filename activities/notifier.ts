import { createHmac } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { and, eq, sql, type SQL } from 'drizzle-orm';
import { firstRow, type Database } from '../db/client.js';
import { notifications } from '../db/schema.js';
import { logger } from '../observability/logger.js';

/** One thing a rep or manager should hear about; sent to the webhook, or logged when there is none. */
export interface Notification {
  /** Workflow ID + step key; receivers drop duplicates by it. */
  idempotencyKey: string;
  /** e.g. 'speed-to-lead.reminder', 'speed-to-lead.manager-alert', 'lead.reassigned', 'cadence.attempt-due', 'deal.dossier-overdue'. */
  type: string;
  /** Lead or deal workflow ID. */
  subjectId: string;
  /** Rep / manager ids. */
  recipients: string[];
  /** ISO instant the event happened (workflow time). */
  at: string;
  /** One human line. */
  summary: string;
  details: Record<string, unknown>;
}

export interface NotifierSettings {
  webhookUrl?: string;
  webhookSecret?: string;
  timeoutMs?: number;
}

/** A notification the webhook refused for good (4xx): recorded as failed, never retried. */
export interface RefusedNotification {
  idempotencyKey: string;
  reason: string;
}

export type SendResult = { status: 'delivered' | 'logged' | 'already-delivered' };

export interface Notifier {
  /** `signal` ends the webhook request early (the caller's own deadline); the attempt then failed and may be repeated. */
  send(notification: Notification, options?: { signal?: AbortSignal }): Promise<SendResult>;
  /**
   * What `send` writes before it delivers, for a batch, as a data-modifying statement an audit commit carries in
   * its own transaction (`with recorded as (…)`): it returns the keys it put on record, and leaves out those
   * already delivered or logged.
   */
  recordBatch(batch: readonly Notification[]): SQL;
  /** `send` for a notification whose record a committed `recordBatch` wrote: only the delivery is left. */
  sendRecorded(notification: Notification, options?: { signal?: AbortSignal }): Promise<SendResult>;
}

/** What became of a batch: the ones the webhook refused for good, and the ones not delivered yet (with why). */
export interface BatchDelivery {
  refused: RefusedNotification[];
  undelivered: Array<{ idempotencyKey: string; error: unknown }>;
}

/**
 * Sends a batch one by one; each keeps its own idempotency key, so sending the batch again skips what was
 * delivered. With `within` (ms), what is not delivered by then is left undelivered and not started. With
 * `recorded` (the keys a committed `recordBatch` returned), the batch is already on record: a key not among
 * them was delivered before and is skipped, the others only need delivering.
 */
export async function deliverBatch(
  notifier: Notifier,
  batch: readonly Notification[],
  options: { within?: number; recorded?: ReadonlySet<string> } = {},
): Promise<BatchDelivery> {
  const delivery: BatchDelivery = { refused: [], undelivered: [] };
  const { within, recorded } = options;
  const signal = within === undefined ? undefined : AbortSignal.timeout(within);
  for (const notification of batch) {
    if (recorded && !recorded.has(notification.idempotencyKey)) continue;
    if (signal?.aborted) {
      delivery.undelivered.push({ idempotencyKey: notification.idempotencyKey, error: signal.reason });
      continue;
    }
    try {
      await (recorded ? notifier.sendRecorded(notification, { signal }) : notifier.send(notification, { signal }));
    } catch (error) {
      if (error instanceof ApplicationFailure && error.nonRetryable) delivery.refused.push({ idempotencyKey: notification.idempotencyKey, reason: error.message });
      else delivery.undelivered.push({ idempotencyKey: notification.idempotencyKey, error });
    }
  }
  return delivery;
}

/** Value: `sha256=<hex HMAC-SHA256 of the exact body bytes, keyed with the shared secret>`. */
export const SIGNATURE_HEADER = 'x-revops-signature';
export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const DEFAULT_TIMEOUT_MS = 10_000;
/** The failure type of a webhook that refused the payload; retrying would not change its answer. */
export const NOTIFICATION_REJECTED = 'NotificationRejected';

const FINAL_STATUSES = ['delivered', 'logged'];

/** NOTIFY_WEBHOOK_URL, NOTIFY_WEBHOOK_SECRET, NOTIFY_WEBHOOK_TIMEOUT_MS; a URL without a secret is refused. */
export function notifierSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): NotifierSettings {
  const webhookUrl = env.NOTIFY_WEBHOOK_URL || undefined;
  const webhookSecret = env.NOTIFY_WEBHOOK_SECRET || undefined;
  const timeoutMs = parseTimeout(env.NOTIFY_WEBHOOK_TIMEOUT_MS);
  if (webhookUrl) {
    checkWebhookUrl(webhookUrl, 'NOTIFY_WEBHOOK_URL');
    if (!webhookSecret) {
      throw new Error('NOTIFY_WEBHOOK_URL is set but NOTIFY_WEBHOOK_SECRET is not: the webhook needs a secret to sign notifications with');
    }
  }
  return { webhookUrl, webhookSecret, timeoutMs };
}

function parseTimeout(value: string | undefined): number {
  if (!value) return DEFAULT_TIMEOUT_MS;
  const timeout = Number(value);
  if (!Number.isInteger(timeout) || timeout <= 0) {
    throw new Error(`NOTIFY_WEBHOOK_TIMEOUT_MS=${value} is not a positive whole number of milliseconds`);
  }
  return timeout;
}

function checkWebhookUrl(value: string, name: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${name} is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${name} must be an http(s) URL, not ${url.protocol}`);
}

/** The signature header's value for `body`: `sha256=` and the hex HMAC-SHA256 of its UTF-8 bytes. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/**
 * Sends each notification at most once per idempotency key as far as this service can tell: a key already
 * 'delivered' or 'logged' is never sent again. An attempt is recorded as 'pending' before the POST, so a
 * crash between the receiver's 2xx and our update can repeat it; receivers drop repeats by the idempotency header.
 */
export function createNotifier(db: Database, settings: NotifierSettings): Notifier {
  const { webhookUrl, webhookSecret } = settings;
  const timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (webhookUrl) {
    checkWebhookUrl(webhookUrl, 'webhookUrl');
    if (!webhookSecret) throw new Error('The notification webhook needs a secret to sign notifications with');
  }

  /** What a notification's record holds: its delivery's body, as the webhook receives it. */
  const bodyOf = (notification: Notification) => ({
    idempotencyKey: notification.idempotencyKey,
    type: notification.type,
    subjectId: notification.subjectId,
    recipients: notification.recipients,
    at: notification.at,
    summary: notification.summary,
    details: notification.details,
  });
  const mode = webhookUrl && webhookSecret ? 'pending' : 'logged';

  /**
   * The batch on record, in one statement: with a webhook, 'pending' before the POST (a key already delivered
   * or logged is left alone); without one, 'logged' (a 'pending' row left by an earlier attempt made while a
   * webhook was configured becomes 'logged'). Conditional, so a key already final is answered by the write
   * itself, with no read before it: it is simply not returned.
   */
  function recordBatch(batch: readonly Notification[]): SQL {
    // One row per key: a statement may not update the same row twice.
    const unique = [...new Map(batch.map((notification) => [notification.idempotencyKey, notification])).values()];
    const rows = unique.map((notification) => ({
      idempotency_key: notification.idempotencyKey,
      type: notification.type,
      subject_id: notification.subjectId,
      recipients: notification.recipients,
      body: bodyOf(notification),
    }));
    const final = sql.join(FINAL_STATUSES.map((status) => sql`${status}`), sql`, `);
    const replaceable = mode === 'pending' ? sql`n.status not in (${final})` : sql`n.status = 'pending'`;
    return sql`
      insert into notifications as n (idempotency_key, type, subject_id, recipients, body, status)
      select idempotency_key, type, subject_id, recipients, body, ${mode}
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(idempotency_key text, type text, subject_id text, recipients jsonb, body jsonb)
      on conflict (idempotency_key) do update set
        type = excluded.type, subject_id = excluded.subject_id, recipients = excluded.recipients, body = excluded.body, status = excluded.status
      where ${replaceable}
      returning n.idempotency_key`;
  }

  async function sendRecorded(notification: Notification, options: { signal?: AbortSignal } = {}): Promise<SendResult> {
    if (mode === 'logged') {
      // The summary stays in the notifications table: it may name the lead's company.
      logger.info(
        { component: 'notify', type: notification.type, subjectId: notification.subjectId, recipients: notification.recipients, idempotencyKey: notification.idempotencyKey },
        `notification ${notification.type} recorded, not sent (no NOTIFY_WEBHOOK_URL)`,
      );
      return { status: 'logged' };
    }

    const body = JSON.stringify(bodyOf(notification));
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    let response: Response;
    try {
      response = await fetch(webhookUrl!, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signBody(body, webhookSecret!),
          [IDEMPOTENCY_HEADER]: notification.idempotencyKey,
        },
        body,
        redirect: 'manual',
        signal,
      });
    } catch (error) {
      const reason = timeout.aborted
        ? `timed out after ${timeoutMs} ms`
        : signal.aborted
          ? 'stopped at the caller\'s deadline'
          : `failed: ${describeError(error)}`;
      throw new Error(`Notification ${notification.idempotencyKey}: webhook request ${reason}`, { cause: error });
    }

    if (response.ok) {
      await response.body?.cancel().catch(() => {});
      await db
        .update(notifications)
        .set({ status: 'delivered', deliveredAt: new Date() })
        .where(and(eq(notifications.idempotencyKey, notification.idempotencyKey), eq(notifications.status, 'pending')));
      return { status: 'delivered' };
    }

    const excerpt = await responseExcerpt(response);
    const message = `Notification ${notification.idempotencyKey}: webhook answered HTTP ${response.status}${excerpt ? `: ${excerpt}` : ''}`;
    if (isTransient(response.status)) throw new Error(message);
    throw ApplicationFailure.nonRetryable(message, NOTIFICATION_REJECTED);
  }

  return {
    recordBatch,
    sendRecorded,
    async send(notification, options = {}) {
      const recorded = await db.execute(sql`with recorded as (${recordBatch([notification])}) select idempotency_key from recorded`);
      if (firstRow(recorded) === undefined) return { status: 'already-delivered' };
      return sendRecorded(notification, options);
    },
  };
}

/** Statuses worth another attempt; every other non-2xx answer (4xx, and a redirect we do not follow) is a refusal. */
function isTransient(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

async function responseExcerpt(response: Response): Promise<string> {
  try {
    const text = await response.text();
    return text.slice(0, 200);
  } catch {
    return '';
  }
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}
