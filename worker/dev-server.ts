import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import type { SearchAttributeType } from '@temporalio/common';
import { searchAttributeKeys } from '../temporal.config.js';
import { temporalCliPath } from './temporal-binaries.js';

export interface DevServer {
  address: string;
  uiUrl: string | null;
  /** The server process, for the benchmark's CPU accounting. */
  pid: number | undefined;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  port: number;
  uiPort?: number;
  /** SQLite file that keeps state across restarts; omitted means in memory. */
  dbFilename?: string;
  headless?: boolean;
  /** The codec server the Web UI sends payloads to for decoding. */
  codecEndpoint?: string;
  log?: (line: string) => void;
  startTimeoutMs?: number;
}

const cliTypeNames: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

export function searchAttributeFlags(keys: readonly { name: string; type: SearchAttributeType }[]): string[] {
  return keys.flatMap((key) => ['--search-attribute', `${key.name}=${cliTypeNames[key.type]}`]);
}

/** The command line of `temporal server start-dev` for these options: the project's search attributes registered, no news fetched. */
export function devServerArguments(options: Pick<DevServerOptions, 'port' | 'uiPort' | 'dbFilename' | 'headless' | 'codecEndpoint'>): string[] {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--namespace',
    'default',
    '--log-level',
    'error',
    ...searchAttributeFlags(searchAttributeKeys),
  ];
  if (options.dbFilename) args.push('--db-filename', options.dbFilename);
  if (options.headless || options.uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort), '--ui-disable-news-fetch');
  if (options.codecEndpoint && !options.headless) args.push('--ui-codec-endpoint', options.codecEndpoint);
  return args;
}

/**
 * Starts `temporal server start-dev` as a child process and waits for its frontend port. The SDK's own
 * launcher gives up after 5 s, which a cold start on a 2-core machine can exceed.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const cli = temporalCliPath();
  if (!cli) {
    throw new Error('Temporal CLI not found: run `npm run setup`, or set TEMPORAL_CLI_PATH, or set TEMPORAL_ADDRESS');
  }
  const args = devServerArguments(options);

  if (await canConnect(options.port)) {
    throw new Error(
      `port ${options.port} is already in use, perhaps by another Temporal server: set TEMPORAL_ADDRESS=127.0.0.1:${options.port} to use it, or TEMPORAL_PORT to start one elsewhere`,
    );
  }
  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // However this process ends, the server it started must not outlive it and keep the port.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    const text = chunk.toString();
    output.push(text);
    if (output.length > 200) output.shift();
    options.log?.(text);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);

  const address = `127.0.0.1:${options.port}`;
  try {
    await waitForPort(child, options.port, options.startTimeoutMs ?? 60_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n--- temporal server output ---\n${output.join('')}`);
  }
  return {
    address,
    uiUrl: options.uiPort === undefined || options.headless ? null : `http://127.0.0.1:${options.uiPort}`,
    pid: child.pid,
    stop: () => stopChild(child),
  };
}

async function waitForPort(child: ChildProcess, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`temporal dev server exited with code ${child.exitCode}`);
    if (await canConnect(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`temporal dev server did not open port ${port} within ${timeoutMs} ms`);
}

/** True once something accepts connections on the port: how a starting server is seen to be up. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
