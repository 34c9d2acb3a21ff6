/**
 * The failure types that cross the boundary between activities, workflows and the API, so each side tells
 * the cases apart by type and never by message text.
 */

/** A step the record's stage does not allow now (HTTP 409). */
export const STEP_REFUSED = 'StepRefused';
/** A step the caller may not take on this record, e.g. a rep acting on a lead another rep owns (HTTP 403). */
export const STEP_FORBIDDEN = 'StepForbidden';
/** A step the audit could not record, so it was not applied (HTTP 422). */
export const STEP_NOT_RECORDED = 'StepNotRecorded';
/** An idempotency key sent again with a different request (HTTP 422). */
export const IDEMPOTENCY_KEY_REUSED = 'IdempotencyKeyReused';
/** The database refused an audit row for its data (a constraint, a value out of range): no retry can fix it. */
export const AUDIT_REJECTED = 'AuditRejected';
