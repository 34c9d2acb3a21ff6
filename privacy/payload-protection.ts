import type { Client } from '@temporalio/client';
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import type { Database } from '../db/client.js';
import { logger } from '../observability/logger.js';
import { EncryptionCodec, encryptedDataConverter } from './encryption-codec.js';
import type { Keyring } from './keyring.js';
import { createRecordKeys, type RecordKeys, type RecordKeysOptions } from './record-keys.js';
import { ensureRetentionSchedule } from './retention-schedule.js';

/** Everything a process needs to encrypt what it sends to Temporal and read it back: one per process. */
export interface PayloadProtection {
  /** For every Client of the process: a record key it cannot read for an outage fails the call at once. */
  dataConverter: DataConverter;
  /** For the Worker: a record key it cannot read for an outage is waited for (see EncryptionCodecOptions.waitForDatabase). */
  workerDataConverter: DataConverter;
  /** For the codec server: reads record keys afresh, so an erasure is seen at once. */
  codecServerCodec: PayloadCodec;
  recordKeys: RecordKeys;
}

/** `shutdown` ends the worker's waits for the database. */
export function payloadProtection(db: Database, keyring: Keyring, options: RecordKeysOptions & { shutdown?: AbortSignal } = {}): PayloadProtection {
  const recordKeys = createRecordKeys(db, keyring, options);
  return {
    dataConverter: encryptedDataConverter(new EncryptionCodec(keyring, recordKeys)),
    workerDataConverter: encryptedDataConverter(new EncryptionCodec(keyring, recordKeys, { waitForDatabase: { until: options.shutdown } })),
    codecServerCodec: new EncryptionCodec(keyring, recordKeys, { freshRecordKeys: true }),
    recordKeys,
  };
}

/**
 * What a worker process does for privacy at start: makes sure the retention schedule exists, and after a
 * master-key rotation re-wraps every record key under the new key so the retired one can go. Neither holds up
 * the start; what fails is tried again at the next one.
 */
export async function privacyHousekeeping(client: Client, protection: PayloadProtection, log: (line: string) => void = (line) => logger.warn({ component: 'privacy' }, line)): Promise<void> {
  await ensureRetentionSchedule(client).catch((error: Error) => log(`Could not create the retention schedule (${error.message}); it is created at the next start`));
  try {
    const moved = await protection.recordKeys.rewrapAll();
    if (moved > 0) log(`Re-wrapped ${moved} record keys under the active payload key`);
  } catch (error) {
    log(`Could not re-wrap record keys (${(error as Error).message}); keep the retired key in PAYLOAD_KEYS until a start succeeds`);
  }
}

export const missingPayloadKeys = (command: string) =>
  `${command} needs PAYLOAD_KEYS (id:base64 of 32 random bytes, comma-separated, the active key first; e.g. \`k1:$(openssl rand -base64 32)\`): ` +
  'it never sends personal data to Temporal unencrypted';
