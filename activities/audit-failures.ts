import { ApplicationFailure } from '@temporalio/common';
import { AUDIT_REJECTED } from '../domain/failures.js';

/**
 * Runs an audit write and turns a refusal no retry can fix into a non-retryable AuditRejected failure: a data
 * exception (SQLSTATE class 22: out of range, invalid text, NUL in a string) or a constraint violation
 * (class 23), or a value JavaScript itself cannot turn into a column (an invalid date). Everything else
 * (connection lost, database restarting, serialization conflict) stays retryable.
 */
export async function refusedByTheDatabase<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const reason = unfixableReason(error);
    if (reason) throw ApplicationFailure.nonRetryable(`the database refused the audit rows: ${reason}`, AUDIT_REJECTED);
    throw error;
  }
}

function unfixableReason(error: unknown): string | null {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth += 1) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code)) return `${cause.message} (SQLSTATE ${code})`;
    if (cause instanceof RangeError) return cause.message;
  }
  return null;
}
