import { rejectionReasons, type NurtureReason } from '../domain/lead-lifecycle.js';

/**
 * What erasure keeps and what it removes from a record's rows. Kept: the shape, every time, stage change, score,
 * owner and the enumerated reasons the reports count. Removed: who the person is (e-mail, company, names) and
 * anything a person wrote about them (call notes, free-text reasons, notification texts).
 */

export const ERASED = '[erased]';

const personalFields = new Set(['email', 'company', 'accountName', 'name', 'firstName', 'lastName', 'phone', 'notes', 'note', 'summary']);

const countedReasons = new Set<string>([...rejectionReasons, 'unresponsive', 'sla-expired', 'cold-score'] satisfies string[] as NurtureReason[]);

/** A copy of `value` with every personal field replaced by `[erased]`; a free-text `reason` goes too, an enumerated one stays. */
export function anonymise<T>(value: T): T {
  return scrub(value) as T;
}

function scrub(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrub);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => {
      if (field === null || field === undefined) return [key, field];
      if (personalFields.has(key)) return [key, ERASED];
      if (key === 'reason' && typeof field === 'string' && !countedReasons.has(field)) return [key, ERASED];
      return [key, scrub(field)];
    }),
  );
}
