import { Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes.js';
import { searchAttributeKeys } from '../temporal.config.js';

type OperatorConnection = Pick<Connection | NativeConnection, 'operatorService'>;

/**
 * Registers the search attributes the workflows upsert. A workflow that upserts an unknown attribute
 * fails its task, so the worker does this before polling. Temporal Cloud refuses the operator call:
 * there they are added once with `tcld` or the Cloud UI, and the refusal is reported, not fatal.
 */
export async function ensureSearchAttributes(connection: OperatorConnection, namespace: string): Promise<string[]> {
  const known = await registeredSearchAttributes(connection, namespace);
  const missing = searchAttributeKeys.filter((key) => !known.has(key.name));
  if (missing.length === 0) return [];
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!])),
  });
  return missing.map((key) => key.name);
}

const GRPC_UNIMPLEMENTED = 12;

/** The time-skipping test server cannot list search attributes (only add them): then every one counts as missing. */
async function registeredSearchAttributes(connection: OperatorConnection, namespace: string): Promise<Set<string>> {
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    return new Set([...Object.keys(existing.customAttributes ?? {}), ...Object.keys(existing.systemAttributes ?? {})]);
  } catch (error) {
    if ((error as { code?: number }).code === GRPC_UNIMPLEMENTED) return new Set();
    throw error;
  }
}
