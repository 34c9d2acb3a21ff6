/**
 * Record quality at intake (seed 000: at least 95 % of records carry a valid e-mail and a company name). A lead
 * that fails is flagged, never refused: marketing still wants it worked, and the share of valid records is what
 * the reports hold against the policy's target.
 */

/** zod's e-mail rule (ASCII only), written out so workflow code can check it without zod; the API's `email` type uses it too. */
export const EMAIL_PATTERN_SOURCE = "^(?:[A-Za-z0-9_'+\\-]+\\.)*[A-Za-z0-9_'+\\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9\\-]*\\.)+[A-Za-z]{2,}$";
const EMAIL_PATTERN = new RegExp(EMAIL_PATTERN_SOURCE);
/** RFC 5321's forward path. */
export const EMAIL_MAX_LENGTH = 254;

export const dataQualityFlags = ['email-invalid', 'company-missing'] as const;
export type DataQualityFlag = (typeof dataQualityFlags)[number];
/** Flags that make a record count as invalid in the reports: intake's, and an e-mail that bounced since. */
export const invalidRecordFlags = [...dataQualityFlags, 'email-bounced'] as const;

export function isValidEmail(email: string): boolean {
  return email.length <= EMAIL_MAX_LENGTH && EMAIL_PATTERN.test(email);
}

export function intakeQualityFlags(record: { email: string; company: string }): DataQualityFlag[] {
  const flags: DataQualityFlag[] = [];
  if (!isValidEmail(record.email.trim())) flags.push('email-invalid');
  if (record.company.trim().length === 0) flags.push('company-missing');
  return flags;
}
