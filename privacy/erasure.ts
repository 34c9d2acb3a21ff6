import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { erasures, leadEvents, leads, notifications, recordKeys, workflowArchives } from '../db/schema.js';
import { leadWorkflowId } from '../workflows/workflow-ids.js';
import { anonymise, ERASED } from './anonymise.js';
import type { RecordKeys } from './record-keys.js';

/**
 * The right to erasure (GDPR art. 17) for a lead, in one home for the API and the retention schedule:
 * 1. its workflow, if it still runs, is terminated (the termination reason names no person);
 * 2. in one transaction, every row about the lead is anonymised in place (lead, audit events, notifications,
 *    archive): times, stages, scores, owners and enumerated reasons stay, so every report adds up as before;
 *    the record's data key is destroyed, so every payload Temporal still holds of it is unreadable for good;
 *    and the erasure itself is recorded: who, when, why, never what;
 * 3. from then on the database drops or anonymises any late write about the lead (migration 0009).
 * Running it again changes nothing and answers with the first erasure.
 */

export interface Erasure {
  subject: string;
  kind: string;
  subjectId: string;
  erasedAt: string;
  erasedBy: string;
  reason: string;
  workflow: string;
}

export interface ErasureDependencies {
  db: Database;
  client: Client;
  /** This process's key cache, emptied of the record at once (other processes drop it when the destroyed key is announced). */
  recordKeys?: RecordKeys;
}

export class NothingToErase extends Error {
  override name = 'NothingToErase';
}

export async function eraseLead(deps: ErasureDependencies, leadId: string, request: { actor: string; reason: string; at: Date }): Promise<{ erasure: Erasure; first: boolean }> {
  const subject = leadWorkflowId(leadId);
  const earlier = await erasureOf(deps.db, subject);
  if (earlier) return { erasure: earlier, first: false };

  const workflow = await closeWorkflow(deps.client, subject);
  const [known] = await deps.db.select({ leadId: leads.leadId }).from(leads).where(eq(leads.leadId, leadId));
  const [archived] = known ? [known] : await deps.db.select({ leadId: workflowArchives.subjectId }).from(workflowArchives).where(eq(workflowArchives.workflowId, subject));
  if (!archived && workflow === 'none') throw new NothingToErase(`no lead ${leadId}`);

  const erasure: Erasure = { subject, kind: 'lead', subjectId: leadId, erasedAt: request.at.toISOString(), erasedBy: request.actor, reason: request.reason, workflow };
  const first = await deps.db.transaction(async (tx) => {
    // Writes in flight to these tables finish first (and are anonymised below); later ones wait, then see the
    // erasure through the triggers of migration 0009. Writers wait milliseconds; readers not at all.
    await tx.execute(sql`lock table lead_events, leads, notifications, workflow_archives in share row exclusive mode`);
    await tx.update(leads).set({ email: ERASED, company: ERASED }).where(eq(leads.leadId, leadId));
    const events = await tx.select({ id: leadEvents.id, payload: leadEvents.payload }).from(leadEvents).where(eq(leadEvents.leadId, leadId));
    for (const event of events) await tx.update(leadEvents).set({ payload: anonymise(event.payload) }).where(eq(leadEvents.id, event.id));
    const sent = await tx.select({ key: notifications.idempotencyKey, body: notifications.body }).from(notifications).where(eq(notifications.subjectId, subject));
    for (const notification of sent) await tx.update(notifications).set({ body: anonymise(notification.body) }).where(eq(notifications.idempotencyKey, notification.key));
    const [archive] = await tx.select({ finalState: workflowArchives.finalState }).from(workflowArchives).where(eq(workflowArchives.workflowId, subject));
    if (archive) await tx.update(workflowArchives).set({ finalState: anonymise(archive.finalState) }).where(eq(workflowArchives.workflowId, subject));
    await tx
      .insert(recordKeys)
      .values({ subject, wrappingKeyId: 'destroyed', wrappedKey: null, destroyedAt: request.at })
      .onConflictDoUpdate({ target: recordKeys.subject, set: { wrappedKey: null, destroyedAt: request.at } });
    const inserted = await tx
      .insert(erasures)
      .values({ ...erasure, erasedAt: request.at })
      .onConflictDoNothing()
      .returning({ subject: erasures.subject });
    return inserted.length > 0;
  });
  deps.recordKeys?.forget(subject);
  return { erasure: first ? erasure : (await erasureOf(deps.db, subject))!, first };
}

export async function erasureOf(db: Database, subject: string): Promise<Erasure | null> {
  const [row] = await db.select().from(erasures).where(eq(erasures.subject, subject));
  return row ? { ...row, erasedAt: row.erasedAt.toISOString() } : null;
}

/** Terminates the record's workflow if it runs; says what it found. */
async function closeWorkflow(client: Client, workflowId: string): Promise<'terminated' | 'was-closed' | 'none'> {
  const handle = client.workflow.getHandle(workflowId);
  try {
    await handle.terminate('erased on request; who, when and why are in the erasures table');
    return 'terminated';
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
  try {
    await handle.describe();
    return 'was-closed';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return 'none';
    throw error;
  }
}
