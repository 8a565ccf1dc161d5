import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type Router from '@koa/router';
import { openApiDocument } from './openapi.js';

/**
 * `GET /docs`: the API reference, rendered in the browser from `/openapi.json` by Swagger UI (the swagger-ui-dist
 * package, served from this process: nothing is loaded from another origin). Every operation with its parameters,
 * request body fields, responses, schemas and examples; "Authorize" takes an API key and "Try it out" calls this
 * API. The page's policy is as strict as the portal's: scripts and styles from this origin only (the start-up
 * code is a file, not an inline script), no eval, requests to this origin only.
 */
const require = createRequire(import.meta.url);
const DIST = dirname(require.resolve('swagger-ui-dist/package.json'));
const VERSION = (JSON.parse(readFileSync(join(DIST, 'package.json'), 'utf8')) as { version: string }).version;

const CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self' data:", "font-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'self'",
].join('; ');

// Start-up: the document of this API, no validator badge (it would call an outside service), operations listed
// and grouped by tag, deep links (/docs#/webhooks/post_v1_webhooks), the request duration shown on "Try it out".
const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#reference',
  deepLinking: true,
  docExpansion: 'list',
  defaultModelsExpandDepth: 0,
  defaultModelExpandDepth: 2,
  displayRequestDuration: true,
  filter: true,
  validatorUrl: null,
  layout: 'BaseLayout',
});
`;
const STYLE = `body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.hr-top { display: flex; flex-wrap: wrap; gap: 6px 18px; align-items: baseline; padding: 12px 20px; border-bottom: 1px solid #e5e7eb; }
.hr-top a { color: #2563eb; }
`;

const ASSETS: Record<string, { type: string; body: () => Buffer | string }> = {
  'swagger-ui-bundle.js': { type: 'application/javascript; charset=utf-8', body: () => readFileSync(join(DIST, 'swagger-ui-bundle.js')) },
  'swagger-ui.css': { type: 'text/css; charset=utf-8', body: () => readFileSync(join(DIST, 'swagger-ui.css')) },
  'docs.js': { type: 'application/javascript; charset=utf-8', body: () => INIT },
  'docs.css': { type: 'text/css; charset=utf-8', body: () => STYLE },
};

type Operations = { paths: Record<string, Record<string, { summary?: string }>> };
const esc = (s: string) => s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);

/** Without JavaScript the page still lists every operation (server-rendered, inside <noscript>). */
function operationList(doc: Operations): string {
  const items = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => `<li><code>${method.toUpperCase()} ${esc(path)}</code> ${esc(op.summary ?? '')}</li>`));
  return `<ul>${items.join('')}</ul>`;
}

const page = (doc: Operations) => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <link rel="icon" href="data:,">
  <title>hookrelay API reference</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css?v=${VERSION}">
  <link rel="stylesheet" href="/docs/assets/docs.css?v=${VERSION}">
</head>
<body>
  <header class="hr-top"><strong>hookrelay REST API v1</strong>
    <span>Authenticate with <code>Authorization: Bearer hrk_…</code> ("Authorize" below).</span>
    <a href="/openapi.json">/openapi.json</a></header>
  <main id="reference"><noscript><p>The full reference needs JavaScript; the document itself is at <a href="/openapi.json">/openapi.json</a>. The operations:</p>${operationList(doc)}</noscript></main>
  <script src="/docs/assets/swagger-ui-bundle.js?v=${VERSION}"></script>
  <script src="/docs/assets/docs.js?v=${VERSION}"></script>
</body>
</html>
`;

export function docsRoutes(router: Router): void {
  const cache = new Map<string, Buffer | string>();
  let html: string | null = null;
  const secure = (ctx: { set(k: string, v: string): void }) => {
    ctx.set('content-security-policy', CSP);
    ctx.set('x-content-type-options', 'nosniff');
    ctx.set('referrer-policy', 'no-referrer');
  };
  router.get('/docs', (ctx) => {
    secure(ctx);
    ctx.set('cache-control', 'no-cache');
    ctx.type = 'text/html; charset=utf-8';
    html ??= page(openApiDocument() as Operations);
    ctx.body = html;
  });
  router.get('/docs/assets/:name', (ctx) => {
    const asset = ASSETS[ctx.params.name];
    if (!asset) {
      ctx.status = 404;
      return;
    }
    let body = cache.get(ctx.params.name);
    if (body === undefined) cache.set(ctx.params.name, (body = asset.body()));
    secure(ctx);
    // The URL carries the renderer's version, so a day's caching never serves an old bundle after an upgrade.
    ctx.set('cache-control', 'public, max-age=86400');
    ctx.type = asset.type;
    ctx.body = body;
  });
}
