import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { serviceSettings } from '../service.config.js';
import { temporalSettings } from '../temporal.config.js';
import { logger } from '../observability/logger.js';
import { onShutdown } from './boot.js';
import { canConnect, devServerArguments } from './dev-server.js';
import { Supervisor, type PartSpec } from './supervisor.js';
import { temporalCliPath } from './temporal-binaries.js';

/**
 * `npm start`: a supervisor of the parts that make up the service on one machine: the Temporal dev server
 * (unless TEMPORAL_ADDRESS names a server) and the service process (worker/service.ts: database, worker and
 * API). A part that exits unexpectedly is restarted with back-off; SIGTERM or Ctrl-C stops the service,
 * then the dev server, within 10 s in all.
 */

const serviceScript = fileURLToPath(new URL('./service.ts', import.meta.url));
/** Service first, then Temporal; together under the 10 s a SIGTERM may take. */
const SERVICE_STOP_GRACE_MS = 6_000;
const TEMPORAL_STOP_GRACE_MS = 3_000;

async function main() {
  const settings = serviceSettings();
  const temporal = temporalSettings();
  mkdirSync(settings.dataDir, { recursive: true });
  const supervisor = new Supervisor();
  onShutdown(() => supervisor.stop());

  let address = temporal.address;
  let uiUrl: string | undefined;
  if (!address) {
    logger.info('Starting the embedded Temporal dev server…');
    const part = devServerPart(settings.temporalPort, settings.temporalUiPort, join(settings.dataDir, 'temporal.sqlite'), `http://localhost:${settings.port}/codec`);
    if (await canConnect(settings.temporalPort)) {
      throw new Error(
        `port ${settings.temporalPort} is already in use, perhaps by another Temporal server: set TEMPORAL_ADDRESS=127.0.0.1:${settings.temporalPort} to use it, or TEMPORAL_PORT to start one elsewhere`,
      );
    }
    await supervisor.start(part);
    address = `127.0.0.1:${settings.temporalPort}`;
    // localhost, as the API is: then the UI and the codec server are one site for the browser.
    uiUrl = `http://localhost:${settings.temporalUiPort}`;
  }

  await supervisor.start({
    name: 'service',
    command: process.execPath,
    // `node --import tsx` rather than the tsx launcher: the pid supervised is the service's own.
    args: ['--import', 'tsx', serviceScript],
    env: { TEMPORAL_ADDRESS: address, ...(uiUrl ? { TEMPORAL_UI_URL: uiUrl } : {}) },
    ipc: true,
    stopGraceMs: SERVICE_STOP_GRACE_MS,
    // Ready when it says so, after its banner; its first start includes the workflow bundle and migrations.
    ready: (child) => new Promise<void>((resolve) => child.on('message', (message: { type?: string }) => message?.type === 'ready' && resolve())),
  });
}

function devServerPart(port: number, uiPort: number, dbFilename: string, codecEndpoint: string): PartSpec {
  const cli = temporalCliPath();
  if (!cli) throw new Error('Temporal CLI not found: run `npm run setup`, or set TEMPORAL_CLI_PATH, or set TEMPORAL_ADDRESS');
  return {
    name: 'temporal',
    command: cli,
    args: devServerArguments({ port, uiPort, dbFilename, codecEndpoint }),
    stopGraceMs: TEMPORAL_STOP_GRACE_MS,
    // Its own banner would bury the service's; what it says before it fails is printed then.
    output: 'on-failure',
    async ready(_child, exited) {
      let gone = false;
      void exited.then(() => (gone = true));
      const deadline = Date.now() + 60_000;
      while (!gone && Date.now() < deadline) {
        if (await canConnect(port)) return;
        await sleep(100);
      }
      if (!gone) throw new Error(`temporal dev server did not open port ${port} within 60 s`);
    },
  };
}


main().catch((error) => {
  logger.fatal({ err: error }, `npm start failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
