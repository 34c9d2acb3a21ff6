import type { Database } from '../db/client.js';
import { workflowArchives } from '../db/schema.js';

export interface WorkflowArchive {
  workflowId: string;
  kind: 'lead' | 'deal';
  subjectId: string;
  runId: string;
  /** The final stage, e.g. WON, LOST, COMPLETED, CLOSED_OUT. */
  outcome: string;
  closedAt: string;
  finalState: Record<string, unknown>;
}

/** Keeps a closed workflow's final state; a retry writes the same row once. */
export async function archiveWorkflow(db: Database, archive: WorkflowArchive): Promise<void> {
  await db
    .insert(workflowArchives)
    .values({ ...archive, closedAt: new Date(archive.closedAt) })
    .onConflictDoNothing({ target: workflowArchives.workflowId });
}
