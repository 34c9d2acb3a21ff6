import type { Database } from '../db/client.js';
import { recordLeadEvent, type LeadAuditEvent } from './lead-audit.js';

export interface ActivityDependencies {
  db: Database;
}

/** Every side effect a workflow may cause; workflows proxy `ReturnType<typeof createActivities>` by type only. */
export function createActivities({ db }: ActivityDependencies) {
  return {
    async recordLeadEvent(event: LeadAuditEvent): Promise<void> {
      await recordLeadEvent(db, event);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
