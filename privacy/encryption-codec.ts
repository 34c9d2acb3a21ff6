import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ApplicationFailure, type DataConverter, type Payload, type PayloadCodec, type SerializationContext } from '@temporalio/common';
import proto from '@temporalio/proto';
import { isDatabaseUnavailable } from '../db/client.js';
import { untilAvailable, type Backoff } from '../worker/resilience.js';
import { isRecordWorkflowId } from '../workflows/workflow-ids.js';
import type { Keyring } from './keyring.js';
import { masterKey, RecordErased, type RecordKeys } from './record-keys.js';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
export const PAYLOAD_ERASED = 'PayloadErased';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Between look-ups of a record key while the database is down: as prompt as the driver's own reconnects. */
const DATABASE_WAIT_BACKOFF: Backoff = { initialMs: 100, maxMs: 2_000 };

export interface EncryptionCodecOptions {
  /** The codec server reads each record key afresh, so an erasure takes effect at once. */
  freshRecordKeys?: boolean;
  /**
   * Wait out a database outage when a record key is not cached, rather than fail: for the worker. The SDK
   * encodes an activity's failure (a payload it could not decode, say) with the record's key, and when that
   * encoding throws it stops the whole worker: every workflow and activity of the process, restarted only after a
   * back-off. A payload that waits holds only its own workflow task or activity, which Temporal times out and
   * hands out again. Clients do not wait: the API answers 503 at once. The wait ends when `until` aborts (shutdown).
   */
  waitForDatabase?: { until?: AbortSignal };
}

/**
 * Encrypts every payload before it leaves the API or the worker (AES-256-GCM; the key's ID rides in the payload's
 * metadata, so it decodes without knowing whose it is). A lead's or deal's payloads use that record's own key, so
 * destroying the key erases the record from Temporal's history; anything else uses the active master key.
 * Payloads written before encryption was turned on carry no such encoding and pass through as they are.
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(
    private readonly keyring: Keyring,
    private readonly recordKeys: RecordKeys,
    private readonly options: EncryptionCodecOptions = {},
  ) {}

  async encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    if (payloads.length === 0) return payloads;
    const subject = recordSubject(context);
    const [keyId, key] = subject
      ? [`record:${subject}`, await this.withDatabase(() => this.recordKeys.keyFor(subject))]
      : [`master:${this.keyring.activeKeyId}`, masterKey(this.keyring, this.keyring.activeKeyId)];
    return payloads.map((payload) => seal(payload, keyId, key));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    const keys = new Map<string, Buffer>();
    const opened: Payload[] = [];
    for (const payload of payloads) {
      const keyId = encryptedWith(payload);
      if (!keyId) {
        opened.push(payload);
        continue;
      }
      let key = keys.get(keyId);
      if (!key) {
        key = await this.resolve(keyId);
        keys.set(keyId, key);
      }
      opened.push(open(payload, keyId, key));
    }
    return opened;
  }

  private async resolve(keyId: string): Promise<Buffer> {
    const [kind, id] = splitKeyId(keyId);
    if (kind === 'master') return masterKey(this.keyring, id);
    if (kind === 'record') {
      const key = await this.withDatabase(() => this.recordKeys.existingKey(id, { fresh: this.options.freshRecordKeys }));
      if (key === 'erased') throw ApplicationFailure.nonRetryable(new RecordErased(id).message, PAYLOAD_ERASED);
      if (!key) throw new Error(`no data key for ${id}: this payload was encrypted against another database`);
      return key;
    }
    throw new Error(`unknown payload key ${keyId}`);
  }

  /** The look-up, waited out through a database outage when the options say so (the worker's codec). */
  private withDatabase<T>(lookup: () => Promise<T>): Promise<T> {
    const wait = this.options.waitForDatabase;
    if (!wait) return lookup();
    // Silent: the dependency watch already logs the outage once, and every payload waiting would repeat it.
    return untilAvailable('database', lookup, { log: () => {}, backoff: DATABASE_WAIT_BACKOFF, signal: wait.until, permanent: (error) => !isDatabaseUnavailable(error) });
  }
}

const failureConverterPath = fileURLToPath(new URL('./failure-converter.ts', import.meta.url));

/** The data converter every client and worker of this service uses: the codec, with failure messages encoded too. */
export function encryptedDataConverter(codec: PayloadCodec): DataConverter {
  return { payloadCodecs: [codec], failureConverterPath };
}

/** Whose key a payload needs, if any. */
export function encryptedWith(payload: Payload): string | null {
  const encoding = payload.metadata?.encoding;
  if (!encoding || decoder.decode(encoding) !== ENCRYPTED_ENCODING) return null;
  const keyId = payload.metadata?.[KEY_ID_METADATA];
  if (!keyId) throw new Error('an encrypted payload names no key');
  return decoder.decode(keyId);
}

function recordSubject(context: SerializationContext | undefined): string | null {
  const workflowId = context?.workflowId;
  return workflowId && isRecordWorkflowId(workflowId) ? workflowId : null;
}

function splitKeyId(keyId: string): [string, string] {
  const separator = keyId.indexOf(':');
  return [keyId.slice(0, separator), keyId.slice(separator + 1)];
}

function seal(payload: Payload, keyId: string, key: Buffer): Payload {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  // Binding the key ID means a payload cannot be relabelled to be opened under another record's key.
  cipher.setAAD(encoder.encode(keyId));
  const plain = proto.temporal.api.common.v1.Payload.encode(payload).finish();
  const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
  return {
    metadata: { encoding: encoder.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: encoder.encode(keyId) },
    data: Buffer.concat([iv, sealed, cipher.getAuthTag()]),
  };
}

function open(payload: Payload, keyId: string, key: Buffer): Payload {
  const bytes = Buffer.from(payload.data ?? new Uint8Array());
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
  decipher.setAAD(encoder.encode(keyId));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  const plain = Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]);
  return proto.temporal.api.common.v1.Payload.decode(plain) as Payload;
}
