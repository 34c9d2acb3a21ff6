import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Hono } from 'hono';

const swaggerDist = join(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'), '..');
const assets: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

/** Swagger UI served from the installed package, so the docs work on a machine without internet. */
export function docsRoutes(openApiPath: string) {
  const app = new Hono();
  app.get('/', (c) =>
    c.html(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>RevOps Orchestrator API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="ui"></div><script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: ${JSON.stringify(openApiPath)}, dom_id: '#ui', persistAuthorization: true });</script>
</body></html>`),
  );
  app.get('/assets/:file', async (c) => {
    const file = c.req.param('file');
    const type = assets[file];
    if (!type) return c.notFound();
    return c.body(await readFile(join(swaggerDist, file)), 200, { 'content-type': type, 'cache-control': 'max-age=86400' });
  });
  return app;
}
