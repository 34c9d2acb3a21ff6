import { z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { workflowArchives } from '../db/schema.js';

/** Present only on a record answered from its archive. */
export const closedSchema = z
  .object({ at: z.string(), runId: z.string(), source: z.literal('archive') })
  .openapi({ description: 'The record is closed: this answer is its final state, read from the archive' });

/**
 * A closed lead or deal is answered from its archive (`workflow_archives`, written as its workflow ends): the
 * same state the workflow would answer, with no deadline pending and when it closed. It needs neither a
 * worker nor Temporal's retention, so a won deal of last year still answers. An open record returns
 * undefined and is asked live.
 */
export async function archivedState(db: Database, workflowId: string): Promise<Record<string, unknown> | undefined> {
  const [archive] = await db
    .select({ finalState: workflowArchives.finalState, closedAt: workflowArchives.closedAt, runId: workflowArchives.runId })
    .from(workflowArchives)
    .where(eq(workflowArchives.workflowId, workflowId));
  if (!archive) return undefined;
  // The idempotency ledger is the workflow's own bookkeeping, never part of an answer.
  const { recentRequests: _ledger, ...finalState } = archive.finalState;
  return { ...finalState, deadlines: [], closed: { at: archive.closedAt.toISOString(), runId: archive.runId, source: 'archive' } };
}
