import { serve, type ServerType } from '@hono/node-server';
import type { createApp } from './app.js';

export function listen(app: ReturnType<typeof createApp>, port: number): Promise<{ server: ServerType; port: number }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname: process.env.HOST || '0.0.0.0' }, (info) => resolve({ server, port: info.port }));
    server.once('error', reject);
  });
}

export function closeServer(server: ServerType): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
