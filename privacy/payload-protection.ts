import type { DataConverter, PayloadCodec } from '@temporalio/common';
import type { Database } from '../db/client.js';
import { EncryptionCodec, encryptedDataConverter } from './encryption-codec.js';
import type { Keyring } from './keyring.js';
import { createRecordKeys, type RecordKeys } from './record-keys.js';

/** Everything a process needs to encrypt what it sends to Temporal and read it back: one per process. */
export interface PayloadProtection {
  /** For every Client and Worker of the process. */
  dataConverter: DataConverter;
  /** For the codec server: reads record keys afresh, so an erasure is seen at once. */
  codecServerCodec: PayloadCodec;
  recordKeys: RecordKeys;
}

export function payloadProtection(db: Database, keyring: Keyring): PayloadProtection {
  const recordKeys = createRecordKeys(db, keyring);
  return {
    dataConverter: encryptedDataConverter(new EncryptionCodec(keyring, recordKeys)),
    codecServerCodec: new EncryptionCodec(keyring, recordKeys, { freshRecordKeys: true }),
    recordKeys,
  };
}

export const missingPayloadKeys = (command: string) =>
  `${command} needs PAYLOAD_KEYS (id:base64 of 32 random bytes, comma-separated, the active key first; e.g. \`k1:$(openssl rand -base64 32)\`): ` +
  'it never sends personal data to Temporal unencrypted';
