import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failures carry their message and stack in an encoded payload, so the codec encrypts them like any other
 * payload: a database refusal can quote the value it refused. Loaded by path (the SDK bundles it into the
 * workflow sandbox), so it stays free of I/O.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
