import { createServer, connect, type Server, type Socket } from 'node:net';

/** How a cut ends the connections it drops: a FIN (the peer sees an orderly close) or an RST (ECONNRESET). */
export type CutMode = 'close' | 'reset';

export interface TcpProxy {
  /** Port clients connect to on 127.0.0.1. */
  readonly port: number;
  /** `url` with its host and port replaced by the proxy's. */
  url(url: string): string;
  /** Connections currently forwarded. */
  readonly open: number;
  /** Connections accepted since the start, across cuts. */
  readonly accepted: number;
  /** Drops every connection and stops listening, so new connections are refused until `restore`. */
  cut(mode?: CutMode): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  readonly isCut: boolean;
  close(): Promise<void>;
}

/**
 * A TCP forwarder the test owns, between the service's processes and a server (Postgres here), so a test
 * can take the server away from the processes exactly as a network or server outage would: established
 * connections die and new ones are refused, while the server itself and the test's own connections to it
 * stay up.
 */
export async function startTcpProxy(options: { targetHost: string; targetPort: number; port?: number }): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  let accepted = 0;
  let server: Server | null = null;
  let port = options.port ?? 0;

  function forward(client: Socket) {
    accepted += 1;
    const upstream = connect({ host: options.targetHost, port: options.targetPort });
    const pair = { client, upstream };
    pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    // Either side's failure ends both: a half-forwarded connection would hide the outage from the client.
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
  }

  async function listen(): Promise<void> {
    const next = createServer(forward);
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        next.removeListener('error', reject);
        resolve();
      });
    });
    const address = next.address();
    if (typeof address !== 'object' || !address) throw new Error('proxy has no address');
    port = address.port;
    server = next;
  }

  async function stopListening(): Promise<void> {
    const current = server;
    server = null;
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
  }

  async function cut(mode: CutMode = 'close'): Promise<void> {
    // Stop accepting first, so nothing reconnects between the drop and the refusal.
    const closing = stopListening();
    for (const pair of [...pairs]) {
      pairs.delete(pair);
      if (mode === 'reset') {
        pair.client.resetAndDestroy();
        pair.upstream.resetAndDestroy();
      } else {
        pair.client.destroy();
        pair.upstream.destroy();
      }
    }
    await closing;
  }

  await listen();

  return {
    get port() {
      return port;
    },
    url(url) {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    get open() {
      return pairs.size;
    },
    get accepted() {
      return accepted;
    },
    get isCut() {
      return server === null;
    },
    cut,
    async restore() {
      if (!server) await listen();
    },
    close: () => cut('close'),
  };
}
