import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { tracing } from '../observability/tracing.js';
import type { TemporalSettings } from '../temporal.config.js';

type Reachable = TemporalSettings & { address: string };

export async function connectClient(settings: Reachable, dataConverter?: DataConverter): Promise<Client> {
  const connection = await Connection.connect({ address: settings.address, tls: settings.tls, apiKey: settings.apiKey });
  await waitForNamespace(connection, settings.namespace);
  const traced = tracing();
  return new Client({ connection, namespace: settings.namespace, dataConverter, plugins: traced ? [traced.plugin] : [] });
}

export function connectWorker(settings: Reachable): Promise<NativeConnection> {
  return NativeConnection.connect({ address: settings.address, tls: settings.tls, apiKey: settings.apiKey });
}

/** A freshly started server accepts connections a moment before its namespace answers. */
export async function waitForNamespace(connection: Connection, namespace: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await connection.workflowService.describeNamespace({ namespace });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`namespace ${namespace} not reachable: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
