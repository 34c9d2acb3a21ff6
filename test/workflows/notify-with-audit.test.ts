import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { temporal } from '@temporalio/proto';
import { eventually, startLeadHarness, type LeadHarness } from '../support/lead-harness.js';

/**
 * Since patch engine-2027-01, a commit no one waits on (intake, a wake-up) carries the notifications it causes in
 * one local activity: the audit first, then, once committed, the notifications (at most NOTIFY_WITH_AUDIT_WITHIN_MS);
 * those refused for good are recorded as failed, those not delivered go to the durable notifyAll.
 */

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The activity types of a history: local activities from their markers, activities from their scheduled events. */
function activityTypes(events: readonly HistoryEvent[]): { local: string[]; durable: string[] } {
  const local = events.flatMap((event) => {
    const data = event.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data;
    if (!data) return [];
    const marker = JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string };
    return marker.activity_type ? [marker.activity_type] : [];
  });
  const durable = events.flatMap((event) => {
    const name = event.activityTaskScheduledEventAttributes?.activityType?.name;
    return name ? [name] : [];
  });
  return { local, durable };
}

describe('notifications carried by the audit commit', () => {
  let h: LeadHarness;
  before(async () => {
    h = await startLeadHarness('notify-with-audit');
  });
  afterEach(async () => {
    h.refuseNext('lead.assigned', 0);
    await h.cleanup();
  });
  after(async () => {
    await h?.stop();
  });

  test("intake's assignment notice goes out in the audit's own local activity, after the audit is committed", async () => {
    const { leadId, workflowId, handle, state } = await h.startRoutedLead({ tier: 1 });
    const notice = await h.waitForNotification(workflowId, 'lead.assigned');
    assert.deepEqual(notice.recipients, [state.ownerId]);
    const routed = await h.waitForEvent(leadId, 'routed');
    assert.equal(routed.payload.repId, state.ownerId);

    const { local, durable } = activityTypes((await handle.fetchHistory()).events ?? []);
    assert.deepEqual(local, ['routeLead', 'recordLeadEventsAndNotify'], 'routing, then the audit with its notice: no notification activity of its own');
    assert.deepEqual(durable, []);
  });

  test('a notice the webhook refuses for good (4xx) is recorded in the audit as failed, and never retried', async () => {
    h.refuseNext('lead.assigned', 1, 422);
    const { leadId, workflowId, handle } = await h.startRoutedLead({ tier: 2 });
    const failed = await h.waitForEvent(leadId, 'notification-failed');
    assert.equal(failed.payload.type, 'lead.assigned');
    assert.match(String(failed.payload.reason), /HTTP 422/);
    assert.equal(h.notificationsOf(workflowId, 'lead.assigned').length, 0);
    const { durable } = activityTypes((await handle.fetchHistory()).events ?? []);
    assert.deepEqual(durable, [], 'a refusal is final: nothing hands it on');
  });

  test('a notice the webhook cannot take now (503) is handed to the durable notifyAll, which delivers it', async () => {
    h.refuseNext('lead.assigned', 1, 503);
    const { leadId, workflowId, handle, state } = await h.startRoutedLead({ tier: 3 });
    await h.waitForEvent(leadId, 'routed');
    const delivered = await eventually(() => h.notificationsOf(workflowId, 'lead.assigned'), (list) => list.length === 1, 'the retried lead.assigned notice');
    assert.deepEqual(delivered[0]!.recipients, [state.ownerId]);
    const { local, durable } = activityTypes((await handle.fetchHistory()).events ?? []);
    assert.ok(local.includes('recordLeadEventsAndNotify'));
    assert.deepEqual(durable, ['notifyAll']);
    assert.ok(!(await h.events(leadId)).some((event) => event.type === 'notification-failed'), 'delivered late, not failed');
  });
});
